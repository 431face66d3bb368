#pragma once
// A reader of the Prometheus text exposition format, independent of the writer: the /metrics
// tests parse what tracermon renders by the format's rules and collect every rule broken.

#include <cstdlib>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tracermon::test {

// One line of the exposition, parsed by the text format's rules.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;  // family -> counter/gauge
  std::map<std::string, std::string> helps;
  std::vector<Sample> samples;
  std::vector<std::string> problems;  // rule violations, with the line

  [[nodiscard]] std::vector<Sample> of(const std::string& name) const {
    std::vector<Sample> out;
    for (const auto& s : samples) {
      if (s.name == name) out.push_back(s);
    }
    return out;
  }
  [[nodiscard]] std::optional<double> value(
      const std::string& name, const std::map<std::string, std::string>& labels) const {
    std::optional<double> found;
    for (const auto& s : samples) {
      bool match = s.name == name;
      for (const auto& [key, value] : labels) {
        auto it = s.labels.find(key);
        match = match && it != s.labels.end() && it->second == value;
      }
      if (match) {
        if (found) ADD_FAILURE() << "two samples of " << name << " match";
        found = s.value;
      }
    }
    return found;
  }
};

// Label set "{a=\"x\",b=\"y\"}" from `at` (just after the name); unescapes \\, \" and \n.
inline bool parse_labels(const std::string& line, std::size_t& at,
                         std::map<std::string, std::string>& labels) {
  static const std::regex k_label_name("[a-zA-Z_][a-zA-Z0-9_]*");
  ++at;  // '{'
  while (at < line.size() && line[at] != '}') {
    auto eq = line.find('=', at);
    if (eq == std::string::npos) return false;
    auto key = line.substr(at, eq - at);
    if (!std::regex_match(key, k_label_name)) return false;
    at = eq + 1;
    if (at >= line.size() || line[at] != '"') return false;
    ++at;
    std::string value;
    for (;;) {
      if (at >= line.size()) return false;
      char c = line[at++];
      if (c == '"') break;
      if (c == '\\') {
        if (at >= line.size()) return false;
        char e = line[at++];
        if (e == 'n') {
          value += '\n';
        } else if (e == '\\' || e == '"') {
          value += e;
        } else {
          return false;
        }
      } else {
        value += c;
      }
    }
    if (!labels.emplace(key, value).second) return false;  // label twice
    if (at < line.size() && line[at] == ',') ++at;
  }
  if (at >= line.size()) return false;
  ++at;  // '}'
  return true;
}

inline Exposition parse_exposition(const std::string& text) {
  static const std::regex k_metric_name("[a-zA-Z_:][a-zA-Z0-9_:]*");
  Exposition out;
  std::set<std::string> finished;  // families whose samples have ended
  std::string current;             // family of the last TYPE line
  std::istringstream in(text);
  std::string line;
  auto problem = [&](const std::string& what) { out.problems.push_back(what + ": " + line); };
  if (!text.empty() && text.back() != '\n') out.problems.push_back("no final newline");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      bool help = line[2] == 'H';
      auto rest = line.substr(7);
      auto space = rest.find(' ');
      auto name = rest.substr(0, space);
      auto what = space == std::string::npos ? "" : rest.substr(space + 1);
      if (!std::regex_match(name, k_metric_name)) problem("bad family name");
      auto& seen = help ? out.helps : out.types;
      if (!seen.emplace(name, what).second) problem(help ? "second HELP" : "second TYPE");
      if (!help) {
        if (what != "counter" && what != "gauge") problem("unknown type");
        if (!current.empty()) finished.insert(current);
        current = name;
        if (!out.helps.contains(name)) problem("TYPE before HELP");
      }
      continue;
    }
    if (line[0] == '#') continue;
    Sample s;
    auto end = line.find_first_of("{ ");
    if (end == std::string::npos) {
      problem("no value");
      continue;
    }
    s.name = line.substr(0, end);
    std::size_t at = end;
    if (line[at] == '{' && !parse_labels(line, at, s.labels)) {
      problem("bad labels");
      continue;
    }
    if (at >= line.size() || line[at] != ' ') {
      problem("no space before value");
      continue;
    }
    auto value_text = line.substr(at + 1);
    char* value_end = nullptr;
    s.value = std::strtod(value_text.c_str(), &value_end);
    if (value_text.empty() || *value_end != '\0') problem("bad value");
    if (s.name != current) problem("sample outside its family (" + current + ")");
    if (finished.contains(s.name)) problem("family continued after another");
    out.samples.push_back(std::move(s));
  }
  for (const auto& [name, type] : out.types) {
    if (!out.helps.contains(name)) out.problems.push_back("no HELP for " + name);
  }
  for (const auto& [name, help] : out.helps) {
    if (!out.types.contains(name)) out.problems.push_back("no TYPE for " + name);
  }
  return out;
}

}  // namespace tracermon::test
