#include "core/toml_nesting.hpp"

#include <vector>

namespace tracermon::core {
namespace {

class NestingScan {
 public:
  NestingScan(std::string_view text, int max_depth) : m_text(text), m_max(max_depth) {}

  std::optional<std::uint32_t> run() {
    while (!at_end()) {
      switch (m_state) {
        case State::LineStart:
          line_start();
          break;
        case State::InlineKey:
          inline_key();
          break;
        case State::Value:
          value();
          break;
      }
      if (m_too_deep) return m_line;
    }
    return std::nullopt;
  }

 private:
  // LineStart: a header, a key or nothing (outside any value). InlineKey: after `{` or `,` in
  // an inline table. Value: after `=` and inside arrays and inline tables.
  enum class State { LineStart, InlineKey, Value };
  struct Frame {
    char open;  // '[' or '{'
    int depth;  // of the array or inline table itself
  };

  [[nodiscard]] bool at_end() const { return m_pos >= m_text.size(); }
  [[nodiscard]] char peek(std::size_t ahead = 0) const {
    return m_pos + ahead < m_text.size() ? m_text[m_pos + ahead] : '\0';
  }
  [[nodiscard]] bool starts_with(std::string_view s) const {
    return m_text.substr(m_pos).starts_with(s);
  }

  void reach(int depth) {
    if (depth > m_max) m_too_deep = true;
  }

  void skip_blanks() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\r'))
      ++m_pos;
  }
  void skip_to_line_end() {
    while (!at_end() && peek() != '\n')
      ++m_pos;
  }
  void newline() {
    ++m_pos;
    ++m_line;
  }

  // At a quote: past the string. A single-line string also ends at a line break (where the
  // parser stops with an error).
  void skip_string() {
    char quote = peek();
    bool basic = quote == '"';
    bool multi = starts_with(basic ? R"(""")" : "'''");
    m_pos += multi ? 3 : 1;
    while (!at_end()) {
      char c = peek();
      if (c == '\n') {
        if (!multi) return;
        newline();
        continue;
      }
      if (basic && c == '\\') {
        ++m_pos;
        if (!at_end() && peek() == '\n') {
          newline();
        } else if (!at_end()) {
          ++m_pos;
        }
        continue;
      }
      if (c != quote) {
        ++m_pos;
        continue;
      }
      if (!multi) {
        ++m_pos;
        return;
      }
      if (peek(1) == quote && peek(2) == quote) {
        // Up to two quotes right before the closing three belong to the string.
        m_pos += 3;
        for (int extra = 0; extra < 2 && !at_end() && peek() == quote; ++extra)
          ++m_pos;
        return;
      }
      ++m_pos;
    }
  }

  // A dotted key (bare and quoted parts) up to `end` ('=' for keys, ']' for headers): how many
  // parts it has, or 0 when `end` does not follow (not a key: the parser says why).
  int key_parts(char end) {
    int parts = 1;
    for (;;) {
      skip_blanks();
      if (at_end()) return 0;
      char c = peek();
      if (c == '"' || c == '\'') {
        skip_string();
      } else {
        while (!at_end() && peek() != '.' && peek() != end && peek() != ' ' && peek() != '\t' &&
               peek() != '\n' && peek() != '"' && peek() != '\'' && peek() != '#') {
          ++m_pos;
        }
      }
      skip_blanks();
      if (at_end()) return 0;
      if (peek() == end) return parts;
      if (peek() != '.') return 0;
      ++m_pos;
      ++parts;
    }
  }

  // Skips blanks; true when the input or the line ended there.
  bool line_ended() {
    skip_blanks();
    if (at_end()) return true;
    if (peek() != '\n') return false;
    newline();
    return true;
  }

  void line_start() {
    if (line_ended()) return;
    char c = peek();
    if (c == '#') {
      skip_to_line_end();
      return;
    }
    if (c == '[') {
      ++m_pos;
      bool array = peek() == '[';
      if (array) ++m_pos;
      int parts = key_parts(']');
      m_table_depth = parts + (array ? 1 : 0);
      reach(m_table_depth);
      skip_to_line_end();
      return;
    }
    int parts = key_parts('=');
    if (parts == 0) {
      skip_to_line_end();
      return;
    }
    ++m_pos;  // '='
    m_depth = m_table_depth + parts;
    reach(m_depth);
    m_state = State::Value;
  }

  void inline_key() {
    if (line_ended()) return;
    if (peek() == '}') {
      close();
      return;
    }
    int parts = key_parts('=');
    m_state = State::Value;
    if (parts == 0) return;  // not a key: measure the rest as a value
    ++m_pos;                 // '='
    m_depth = m_frames.back().depth + parts;
    reach(m_depth);
  }

  void close() {
    ++m_pos;
    if (!m_frames.empty()) {
      m_depth = m_frames.back().depth;
      m_frames.pop_back();
    }
    m_state = State::Value;
  }

  void value() {
    skip_blanks();
    if (at_end()) return;
    switch (peek()) {
      case '\n':
        newline();
        if (m_frames.empty()) m_state = State::LineStart;
        return;
      case '#':
        skip_to_line_end();
        return;
      case '"':
      case '\'':
        skip_string();
        return;
      case '[':
        ++m_pos;
        m_frames.push_back({'[', m_depth});
        m_depth += 1;
        reach(m_depth);
        return;
      case '{':
        ++m_pos;
        m_frames.push_back({'{', m_depth});
        m_state = State::InlineKey;
        return;
      case ']':
      case '}':
        close();
        return;
      case ',':
        ++m_pos;
        if (m_frames.empty()) return;
        if (m_frames.back().open == '{') {
          m_state = State::InlineKey;
        } else {
          m_depth = m_frames.back().depth + 1;
        }
        return;
      default:
        ++m_pos;  // a number, a date, true, false: nothing nests
        return;
    }
  }

  std::string_view m_text;
  int m_max;
  std::size_t m_pos = 0;
  std::uint32_t m_line = 1;
  State m_state = State::LineStart;
  int m_table_depth = 0;  // of the last header
  int m_depth = 0;        // of the value being read
  std::vector<Frame> m_frames;
  bool m_too_deep = false;
};

}  // namespace

std::optional<std::uint32_t> toml_too_deep(std::string_view text, int max_depth) {
  return NestingScan(text, max_depth).run();
}

}  // namespace tracermon::core
