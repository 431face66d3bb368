#include "protocol/register_map.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "protocol/csv.hpp"

namespace tracermon::protocol {

// Defined in the file generated from data/ by cmake/EmbedText.cmake.
extern const std::string_view k_registers_csv;
extern const std::string_view k_enums_csv;
extern const std::string_view k_quirks_csv;

namespace {

[[noreturn]] void fail(std::string_view file, std::size_t line, std::string_view what) {
  throw std::runtime_error(fmt::format("{} line {}: {}", file, line, what));
}

std::optional<unsigned long> parse_number(std::string_view text, int base) {
  if (base == 16) {
    if (text.size() < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
      return std::nullopt;
    }
    text.remove_prefix(2);
  }
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::uint16_t parse_address(std::string_view file, const CsvRow& row, std::string_view text) {
  auto value = parse_number(text, 16);
  if (!value || *value > 0xFFFF) {
    fail(file, row.line, fmt::format("address '{}' is not a hex number 0x0000-0xFFFF", text));
  }
  return static_cast<std::uint16_t>(*value);
}

std::optional<Table> parse_table(std::string_view text) {
  if (text == "coil") return Table::Coil;
  if (text == "discrete") return Table::Discrete;
  if (text == "input") return Table::Input;
  if (text == "holding") return Table::Holding;
  return std::nullopt;
}

std::optional<ValueType> parse_type(std::string_view text) {
  if (text == "u16") return ValueType::U16;
  if (text == "s16") return ValueType::S16;
  if (text == "u32_lo_hi") return ValueType::U32LoHi;
  if (text == "s32_lo_hi") return ValueType::S32LoHi;
  if (text == "enum") return ValueType::Enum;
  if (text == "bitfield") return ValueType::Bitfield;
  return std::nullopt;
}

std::optional<Access> parse_access(std::string_view text) {
  if (text == "r") return Access::Read;
  if (text == "w") return Access::Write;
  if (text == "rw") return Access::ReadWrite;
  return std::nullopt;
}

void expect_header(std::string_view file, const std::vector<CsvRow>& rows,
                   const std::vector<std::string>& header) {
  if (rows.empty() || rows[0].cells != header) {
    fail(file, 1, fmt::format("header must be {}", fmt::join(header, ",")));
  }
}

void expect_cells(std::string_view file, const CsvRow& row, std::size_t count) {
  if (row.cells.size() != count) {
    fail(file, row.line, fmt::format("{} columns, expected {}", row.cells.size(), count));
  }
}

std::vector<Field> parse_fields(std::string_view text) {
  constexpr std::string_view file = "registers.csv";
  auto rows = parse_csv(text);
  expect_header(file, rows,
                {"address_hex", "function", "name_snake_case", "description", "unit", "scale",
                 "type", "access", "group", "poll"});
  std::vector<Field> fields;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    expect_cells(file, row, 10);
    const auto& c = row.cells;
    Field f;
    f.id = static_cast<FieldId>(fields.size());
    f.address = parse_address(file, row, c[0]);
    auto table = parse_table(c[1]);
    if (!table) {
      fail(file, row.line,
           fmt::format("function '{}' is not input, holding, coil or discrete", c[1]));
    }
    f.table = *table;
    f.name = c[2];
    if (f.name.empty()) fail(file, row.line, "empty name");
    f.description = c[3];
    f.unit = c[4];
    auto scale = parse_number(c[5], 10);
    if (!scale || *scale == 0)
      fail(file, row.line, fmt::format("scale '{}' is not a positive integer", c[5]));
    f.scale = static_cast<std::uint32_t>(*scale);
    auto type = parse_type(c[6]);
    if (!type) fail(file, row.line, fmt::format("type '{}' is unknown", c[6]));
    f.type = *type;
    auto access = parse_access(c[7]);
    if (!access) fail(file, row.line, fmt::format("access '{}' is not r, w or rw", c[7]));
    f.access = *access;
    f.group = c[8];
    auto poll = parse_poll_class(c[9]);
    if (!poll) fail(file, row.line, fmt::format("poll '{}' is unknown", c[9]));
    f.poll = *poll;
    if (f.is_bit() && f.width() != 1) fail(file, row.line, "a coil or discrete input is one bit");
    for (const auto& other : fields) {
      if (other.name == f.name) fail(file, row.line, fmt::format("duplicate name '{}'", f.name));
      bool overlap = other.table == f.table && other.address <= f.last_address() &&
                     f.address <= other.last_address();
      if (overlap) fail(file, row.line, fmt::format("overlaps '{}'", other.name));
    }
    fields.push_back(std::move(f));
  }
  return fields;
}

// "0x3200" or "0x3200[D3-D0]".
std::vector<EnumEntry> parse_enums(std::string_view text) {
  constexpr std::string_view file = "enums.csv";
  auto rows = parse_csv(text);
  expect_header(file, rows, {"register_hex", "value", "meaning", "source"});
  std::vector<EnumEntry> entries;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    expect_cells(file, row, 4);
    std::string_view key = row.cells[0];
    EnumEntry e;
    auto bracket = key.find('[');
    e.address = parse_address(file, row, key.substr(0, bracket));
    if (bracket != std::string_view::npos) {
      unsigned hi = 0;
      unsigned lo = 0;
      std::string range(key.substr(bracket));
      if (std::sscanf(range.c_str(), "[D%u-D%u]", &hi, &lo) != 2 || hi > 15 || lo > hi) {
        fail(file, row.line, fmt::format("bit range '{}' is not [Dhi-Dlo]", range));
      }
      e.hi_bit = static_cast<std::uint8_t>(hi);
      e.lo_bit = static_cast<std::uint8_t>(lo);
    }
    auto value = parse_number(row.cells[1], 10);
    if (!value || *value > 0xFFFF) fail(file, row.line, "value is not a 16-bit number");
    e.value = static_cast<std::uint16_t>(*value);
    e.meaning = row.cells[2];
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace

RegisterMap RegisterMap::parse(std::string_view registers_csv, std::string_view enums_csv,
                               std::string_view quirks_csv) {
  RegisterMap map;
  map.m_fields = parse_fields(registers_csv);
  map.m_enums = parse_enums(enums_csv);
  for (const auto& e : map.m_enums) {
    if (map.covering(Table::Input, e.address) == nullptr &&
        map.covering(Table::Holding, e.address) == nullptr) {
      throw std::runtime_error(
          fmt::format("enums.csv: register 0x{:04X} is not in registers.csv", e.address));
    }
  }

  constexpr std::string_view file = "quirks.csv";
  auto rows = parse_csv(quirks_csv);
  expect_header(file, rows, {"kind", "function", "first_hex", "last_hex", "source"});
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    expect_cells(file, row, 5);
    auto table = parse_table(row.cells[1]);
    if (!table) fail(file, row.line, fmt::format("function '{}' is unknown", row.cells[1]));
    AddressRange range{*table, parse_address(file, row, row.cells[2]),
                       parse_address(file, row, row.cells[3])};
    if (range.last < range.first) fail(file, row.line, "last address before first");
    if (row.cells[0] == "optional") {
      for (auto a = range.first; a <= range.last; ++a) {
        auto* f = map.covering(range.table, a);
        if (f == nullptr) fail(file, row.line, fmt::format("no field at 0x{:04X}", a));
        map.m_fields[f->id].optional = true;
      }
    } else if (row.cells[0] == "answered_gap") {
      for (auto a = range.first; a <= range.last; ++a) {
        if (map.covering(range.table, a) != nullptr) {
          fail(file, row.line, fmt::format("0x{:04X} is a documented field, not a gap", a));
        }
      }
      map.m_answered_gaps.push_back(range);
    } else {
      fail(file, row.line, fmt::format("kind '{}' is not optional or answered_gap", row.cells[0]));
    }
  }
  return map;
}

const RegisterMap& RegisterMap::builtin() {
  static const RegisterMap map = parse(k_registers_csv, k_enums_csv, k_quirks_csv);
  return map;
}

const Field* RegisterMap::find(std::string_view name) const {
  auto it = std::find_if(m_fields.begin(), m_fields.end(),
                         [&](const Field& f) { return f.name == name; });
  return it == m_fields.end() ? nullptr : &*it;
}

const Field* RegisterMap::at(Table table, std::uint16_t address) const {
  auto it = std::find_if(m_fields.begin(), m_fields.end(),
                         [&](const Field& f) { return f.table == table && f.address == address; });
  return it == m_fields.end() ? nullptr : &*it;
}

const Field* RegisterMap::covering(Table table, std::uint16_t address) const {
  auto it = std::find_if(m_fields.begin(), m_fields.end(), [&](const Field& f) {
    return f.table == table && f.address <= address && address <= f.last_address();
  });
  return it == m_fields.end() ? nullptr : &*it;
}

std::optional<std::string_view> RegisterMap::enum_meaning(std::uint16_t address,
                                                          std::uint8_t hi_bit, std::uint8_t lo_bit,
                                                          std::uint16_t value) const {
  for (const auto& e : m_enums) {
    if (e.address == address && e.hi_bit == hi_bit && e.lo_bit == lo_bit && e.value == value) {
      return e.meaning;
    }
  }
  return std::nullopt;
}

bool RegisterMap::in_answered_gap(Table table, std::uint16_t address) const {
  return std::any_of(m_answered_gaps.begin(), m_answered_gaps.end(), [&](const AddressRange& r) {
    return r.table == table && r.first <= address && address <= r.last;
  });
}

const char* to_string(Table table) {
  switch (table) {
    case Table::Coil:
      return "coil";
    case Table::Discrete:
      return "discrete";
    case Table::Input:
      return "input";
    case Table::Holding:
      return "holding";
  }
  return "?";
}

const char* to_string(ValueType type) {
  switch (type) {
    case ValueType::U16:
      return "u16";
    case ValueType::S16:
      return "s16";
    case ValueType::U32LoHi:
      return "u32_lo_hi";
    case ValueType::S32LoHi:
      return "s32_lo_hi";
    case ValueType::Enum:
      return "enum";
    case ValueType::Bitfield:
      return "bitfield";
  }
  return "?";
}

const char* to_string(PollClass poll) {
  switch (poll) {
    case PollClass::Fast:
      return "fast";
    case PollClass::Slow:
      return "slow";
    case PollClass::Once:
      return "once";
    case PollClass::Settings:
      return "settings";
    case PollClass::Never:
      return "never";
  }
  return "?";
}

std::optional<PollClass> parse_poll_class(std::string_view text) {
  for (auto p :
       {PollClass::Fast, PollClass::Slow, PollClass::Once, PollClass::Settings, PollClass::Never}) {
    if (text == to_string(p)) return p;
  }
  return std::nullopt;
}

}  // namespace tracermon::protocol
