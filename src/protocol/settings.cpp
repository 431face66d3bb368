#include "protocol/settings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "protocol/csv.hpp"
#include "protocol/decode.hpp"

namespace tracermon::protocol {

extern const std::string_view k_settings_csv;  // data/settings.csv, embedded at build time

using core::Error;
using core::ErrorKind;

namespace {

Error bad(std::string message) {
  return Error{ErrorKind::InvalidArgument, std::move(message)};
}

std::string lower_alnum(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0)
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0)
    text.remove_suffix(1);
  return text;
}

bool is_clock_word(const Field& f) {
  return f.table == Table::Holding && f.address >= k_rtc_first && f.address <= k_rtc_last;
}

bool is_hour_minute(const Field& f) {
  return f.type == ValueType::Bitfield && !is_clock_word(f);
}

bool settable_field(const Field& f) {
  if (f.access != Access::ReadWrite || is_clock_word(f)) return false;
  return f.table == Table::Holding || f.table == Table::Coil;
}

int decimals_of(std::uint32_t scale) {
  int d = 0;
  for (; scale > 1; scale /= 10)
    ++d;
  return d;
}

// A decimal number as an integer in 1/scale units, exactly ("28.8" at scale 100 -> 2880).
std::optional<std::int64_t> parse_scaled(std::string_view text, std::uint32_t scale,
                                         bool& too_precise) {
  too_precise = false;
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  auto dot = text.find('.');
  auto whole_text = text.substr(0, dot);
  auto frac_text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole_text.empty() && frac_text.empty()) return std::nullopt;
  std::int64_t whole = 0;
  for (char c : whole_text) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0 || whole > 1'000'000'000) {
      return std::nullopt;
    }
    whole = whole * 10 + (c - '0');
  }
  int decimals = decimals_of(scale);
  std::int64_t frac = 0;
  int digits = 0;
  for (char c : frac_text) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
    if (digits >= decimals) {
      if (c != '0') too_precise = true;
      continue;
    }
    frac = frac * 10 + (c - '0');
    ++digits;
  }
  for (; digits < decimals; ++digits)
    frac *= 10;
  std::int64_t value = whole * static_cast<std::int64_t>(scale) + frac;
  return negative ? -value : value;
}

// The unit suffix `text` ends with, when it names the field's unit.
std::string_view strip_unit(const Field& field, std::string_view text) {
  if (field.unit.empty()) return text;
  std::vector<std::string> spellings{field.unit};
  if (field.unit == "degC") spellings = {"degC", "°C", "C"};
  for (const auto& unit : spellings) {
    if (text.size() <= unit.size()) continue;
    auto tail = text.substr(text.size() - unit.size());
    bool same = std::equal(tail.begin(), tail.end(), unit.begin(), unit.end(), [](char a, char b) {
      return std::tolower(static_cast<unsigned char>(a)) ==
             std::tolower(static_cast<unsigned char>(b));
    });
    if (same) return trim(text.substr(0, text.size() - unit.size()));
  }
  return text;
}

std::string range_text(const Field& field, const SettingSpec& spec) {
  auto v = [&](std::int64_t raw) {
    auto text = format_value(field, raw);
    return field.unit.empty() ? text : fmt::format("{} {}", text, field.unit);
  };
  return fmt::format("{} to {}", v(spec.min_raw), v(spec.max_raw));
}

}  // namespace

std::vector<const EnumEntry*> word_enums(const RegisterMap& map, const Field& field) {
  std::vector<const EnumEntry*> out;
  for (const auto& e : map.enums()) {
    if (e.address == field.address && e.lo_bit == 0 && e.hi_bit == 15) out.push_back(&e);
  }
  std::stable_sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->value < b->value; });
  return out;
}

void put_raw(RegisterImage& image, const Field& field, std::int64_t raw) {
  auto bits = static_cast<std::uint32_t>(raw);
  image[{field.table, field.address}] = static_cast<std::uint16_t>(bits & 0xFFFF);
  if (field.width() == 2) {
    image[{field.table, static_cast<std::uint16_t>(field.address + 1)}] =
        static_cast<std::uint16_t>(bits >> 16);
  }
}

std::optional<std::int64_t> get_raw(const RegisterImage& image, const Field& field) {
  std::vector<std::uint16_t> words;
  for (std::uint16_t i = 0; i < field.width(); ++i) {
    auto it = image.find({field.table, static_cast<std::uint16_t>(field.address + i)});
    if (it == image.end()) return std::nullopt;
    words.push_back(it->second);
  }
  return raw_integer(field, words);
}

const SettingsCatalog& SettingsCatalog::builtin() {
  static const SettingsCatalog catalog = parse(RegisterMap::builtin(), k_settings_csv);
  return catalog;
}

SettingsCatalog SettingsCatalog::parse(const RegisterMap& map, std::string_view settings_csv) {
  SettingsCatalog catalog;
  catalog.m_map = &map;
  auto fail = [](std::size_t line, const std::string& what) {
    throw std::runtime_error(fmt::format("settings.csv line {}: {}", line, what));
  };
  std::map<std::string, CsvRow> rows;
  for (const auto& row : parse_csv(settings_csv)) {
    if (row.line == 1) continue;  // header
    if (row.cells.size() != 4) fail(row.line, "expected name,min,max,source");
    const auto* field = map.find(row.cells[0]);
    if (field == nullptr) fail(row.line, fmt::format("unknown field '{}'", row.cells[0]));
    if (!settable_field(*field)) fail(row.line, fmt::format("'{}' is not writable", field->name));
    rows[row.cells[0]] = row;
  }
  for (const auto& field : map.fields()) {
    if (!settable_field(field)) continue;
    SettingSpec spec;
    spec.id = field.id;
    if (field.is_bit()) {
      spec.max_raw = 1;
      spec.source = "coil";
    } else if (field.type == ValueType::Enum) {
      auto values = word_enums(map, field);
      if (!values.empty()) {
        spec.min_raw = values.front()->value;
        spec.max_raw = values.back()->value;
      }
      spec.source = "enums.csv";
    } else if (is_hour_minute(field)) {
      spec.max_raw = 23 << 8 | 59;
      spec.source = "hours and minutes";
    } else {
      auto it = rows.find(field.name);
      if (it == rows.end()) {
        throw std::runtime_error(
            fmt::format("settings.csv: no range for the writable field '{}'", field.name));
      }
      const auto& row = it->second;
      bool too_precise = false;
      auto lo = parse_scaled(row.cells[1], field.scale, too_precise);
      auto hi = parse_scaled(row.cells[2], field.scale, too_precise);
      if (!lo || !hi || *lo > *hi) fail(row.line, "min and max must be numbers, min <= max");
      spec.min_raw = *lo;
      spec.max_raw = *hi;
      spec.source = row.cells[3];
    }
    catalog.m_specs[field.id] = spec;
  }
  return catalog;
}

std::vector<FieldId> SettingsCatalog::settable() const {
  std::vector<FieldId> out;
  for (const auto& [id, spec] : m_specs)
    out.push_back(id);
  return out;
}

const SettingSpec* SettingsCatalog::spec(FieldId id) const {
  auto it = m_specs.find(id);
  return it == m_specs.end() ? nullptr : &it->second;
}

core::Result<const Field*> SettingsCatalog::find(std::string_view name) const {
  const auto* field = m_map->find(name);
  if (field == nullptr) {
    return bad(
        fmt::format("unknown setting '{}': `tracermon set --list` shows the settings", name));
  }
  if (is_clock_word(*field)) {
    return bad(
        fmt::format("'{}' is the controller clock: use `tracermon clock DEVICE --sync`", name));
  }
  if (spec(field->id) == nullptr) {
    return bad(fmt::format("'{}' is not a setting the controller lets us write", name));
  }
  return field;
}

core::Result<std::int64_t> SettingsCatalog::parse_value(const Field& field,
                                                        std::string_view input) const {
  const auto* s = spec(field.id);
  if (s == nullptr) return bad(fmt::format("'{}' is not writable", field.name));
  auto text = trim(input);
  if (text.empty()) return bad(fmt::format("{}: no value given", field.name));
  auto word = lower_alnum(text);
  if (field.is_bit()) {
    if (word == "on" || word == "1" || word == "true") return 1;
    if (word == "off" || word == "0" || word == "false") return 0;
    return bad(fmt::format("{}: '{}' is not on or off", field.name, input));
  }
  if (field.type == ValueType::Enum) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    std::vector<const EnumEntry*> matches;
    std::vector<std::string> choices;
    bool numeric = ec == std::errc{} && end == text.data() + text.size();
    for (const auto* e : word_enums(*m_map, field)) {
      choices.push_back(fmt::format("{} ({})", e->value, e->meaning));
      bool by_number = numeric && e->value == value;
      bool by_name = !numeric && !word.empty() && lower_alnum(e->meaning).starts_with(word);
      if (by_number || by_name) matches.push_back(e);
    }
    if (matches.size() == 1) return matches.front()->value;
    return bad(fmt::format("{}: '{}' is {}; choose one of: {}", field.name, input,
                           matches.empty() ? "not a value it takes" : "ambiguous",
                           fmt::join(choices, ", ")));
  }
  if (is_hour_minute(field)) {
    auto colon = text.find(':');
    int h = 0, m = 0;
    auto number = [](std::string_view t, int& out) {
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
      return ec == std::errc{} && end == t.data() + t.size() && !t.empty();
    };
    if (colon == std::string_view::npos || !number(text.substr(0, colon), h) ||
        !number(text.substr(colon + 1), m) || h < 0 || h > 23 || m < 0 || m > 59) {
      return bad(fmt::format("{}: '{}' is not a duration H:MM (0:00 to 23:59)", field.name, input));
    }
    return static_cast<std::int64_t>(h << 8 | m);
  }
  auto number = strip_unit(field, text);
  bool too_precise = false;
  auto raw = parse_scaled(number, field.scale, too_precise);
  if (!raw) {
    return bad(fmt::format("{}: '{}' is not a number{}", field.name, input,
                           field.unit.empty() ? "" : fmt::format(" in {}", field.unit)));
  }
  if (too_precise) {
    return bad(fmt::format("{}: '{}' is more precise than the register (steps of {}{})", field.name,
                           input, format_value(field, 1),
                           field.unit.empty() ? "" : " " + field.unit));
  }
  if (*raw < s->min_raw || *raw > s->max_raw) {
    std::string hint;
    if (is_battery_voltage(field)) {
      hint = " (battery voltages are per 12 V block: on a 24 V bank 28.8 V is 14.4)";
    }
    return bad(
        fmt::format("{}: {} is outside {}{}", field.name, input, range_text(field, *s), hint));
  }
  return *raw;
}

std::string SettingsCatalog::describe(const Field& field, std::int64_t raw) const {
  if (field.is_bit()) return raw != 0 ? "on" : "off";
  if (is_hour_minute(field)) return decode_hour_minute(static_cast<std::uint16_t>(raw)).text();
  return describe_value(*m_map, field, raw);
}

std::string SettingsCatalog::plain(const Field& field, std::int64_t raw) const {
  if (field.is_bit()) return raw != 0 ? "on" : "off";
  if (is_hour_minute(field)) return decode_hour_minute(static_cast<std::uint16_t>(raw)).text();
  return format_value(field, raw);
}

// --- rules ----------------------------------------------------------------------------------

namespace {

bool changed_in(const std::vector<RegisterKey>& changed, std::uint16_t first, std::uint16_t last) {
  return std::any_of(changed.begin(), changed.end(), [&](const RegisterKey& k) {
    return k.table == Table::Holding && k.address >= first && k.address <= last;
  });
}

}  // namespace

SettingsCheck check_settings(const SettingsCatalog& catalog, const RegisterImage& merged,
                             const std::vector<RegisterKey>& changed) {
  const auto& map = catalog.map();
  SettingsCheck check;
  auto value = [&](std::uint16_t address) -> std::optional<std::int64_t> {
    const auto* f = map.at(Table::Holding, address);
    if (f == nullptr) return std::nullopt;
    return get_raw(merged, *f);
  };
  auto name = [&](std::uint16_t address) { return map.at(Table::Holding, address)->name; };
  auto shown = [&](std::uint16_t address) {
    auto v = value(address);
    return v ? catalog.describe(*map.at(Table::Holding, address), *v) : std::string("?");
  };
  auto type = value(k_battery_first);
  auto code = value(k_rated_voltage_code);

  bool voltages = changed_in(changed, k_voltage_first, k_battery_last);
  if (voltages) {
    if (type && *type != 0) {
      check.violations.push_back(fmt::format(
          "the charging voltages can only be set when battery_type is User defined (0), and it "
          "is {}: add battery_type=user",
          shown(k_battery_first)));
    }
    check.notes.emplace_back(
        "battery voltages are per 12 V block: the controller multiplies them by the bank's "
        "blocks (x2 on 24 V)");
  }
  bool block = changed_in(changed, k_battery_first, k_battery_last);
  if (block && type && *type == 0) {
    // V2.5 "voltage parameters limit condition": each pair is (higher, lower).
    static constexpr std::pair<std::uint16_t, std::uint16_t> k_order[] = {
        {0x9003, 0x9004}, {0x9004, 0x9006}, {0x9006, 0x9007}, {0x9007, 0x9008}, {0x9008, 0x9009},
        {0x900B, 0x900C}, {0x900C, 0x900D}, {0x900D, 0x900E}, {0x9003, 0x9005}, {0x900A, 0x900D}};
    for (auto [high, low] : k_order) {
      auto h = value(high), l = value(low);
      if (h && l && !(*l < *h)) {
        check.violations.push_back(fmt::format("{} {} must be below {} {}", name(low), shown(low),
                                               name(high), shown(high)));
      }
    }
  }
  bool type_or_code = changed_in(changed, k_battery_first, k_battery_first) ||
                      changed_in(changed, k_rated_voltage_code, k_rated_voltage_code);
  if (type_or_code && type && code && *type == 0 && *code == 0) {
    check.violations.emplace_back(
        "battery_type User defined and battery_rated_voltage_code auto recognize cannot be set "
        "together: set battery_rated_voltage_code to the bank's voltage (e.g. 24V)");
  }
  if (changed_in(changed, 0x906B, 0x906B) && type && *type == 2) {
    check.violations.emplace_back(
        "equalize_duration cannot be set when battery_type is Gel (2): gel is not equalized");
  }
  auto mode = value(0x9070);
  if (changed_in(changed, 0x906D, 0x906E) && mode && *mode != 1) {
    check.notes.emplace_back(
        "discharging_percentage and charging_percentage only apply when "
        "battery_management_mode is SOC (1)");
  }
  auto timers = value(0x9069);
  if (changed_in(changed, 0x9048, 0x904D) && timers && *timers != 1) {
    check.notes.emplace_back(
        "the second on/off time is only used when load_timing_control_selection is 1 (two "
        "timers)");
  }
  return check;
}

// --- blocks ---------------------------------------------------------------------------------

std::string WriteBlock::describe() const {
  if (table == Table::Coil) {
    return fmt::format("FC 0x05 0x{:04X} {}", start,
                       !words.empty() && words[0] != 0 ? "on" : "off");
  }
  return fmt::format("FC 0x10 0x{:04X} x{}", start, words.size());
}

std::vector<WriteBlock> plan_writes(const RegisterImage& merged,
                                    const std::vector<RegisterKey>& changed) {
  std::set<RegisterKey> todo(changed.begin(), changed.end());
  std::vector<WriteBlock> blocks;
  auto take = [&](std::uint16_t first, std::uint16_t last) {
    WriteBlock b{Table::Holding, first, {}};
    for (std::uint32_t a = first; a <= last; ++a) {
      RegisterKey key{Table::Holding, static_cast<std::uint16_t>(a)};
      auto it = merged.find(key);
      b.words.push_back(it == merged.end() ? 0 : it->second);
      todo.erase(key);
    }
    blocks.push_back(std::move(b));
  };
  if (changed_in(changed, k_battery_first, k_battery_last)) {
    auto type = merged.find({Table::Holding, k_battery_first});
    bool user = type != merged.end() && type->second == 0;
    bool voltages = changed_in(changed, k_voltage_first, k_battery_last);
    take(k_battery_first, user || voltages ? k_battery_last : k_voltage_first - 1);
  }
  if (changed_in(changed, k_rtc_first, k_rtc_last)) take(k_rtc_first, k_rtc_last);
  // The rest in runs of consecutive addresses; blocks stay in address order.
  std::vector<WriteBlock> runs;
  for (auto it = todo.begin(); it != todo.end();) {
    if (it->table != Table::Holding) {
      ++it;
      continue;
    }
    WriteBlock b{Table::Holding, it->address, {merged.at(*it)}};
    auto next = std::next(it);
    while (next != todo.end() && next->table == Table::Holding &&
           next->address == b.start + b.words.size()) {
      b.words.push_back(merged.at(*next));
      ++next;
    }
    runs.push_back(std::move(b));
    it = next;
  }
  blocks.insert(blocks.end(), runs.begin(), runs.end());
  std::sort(blocks.begin(), blocks.end(),
            [](const WriteBlock& a, const WriteBlock& b) { return a.start < b.start; });
  // Type User and rated voltage "auto" must never meet, not even between two requests: a
  // rated voltage goes before a battery block that makes the type User.
  auto code = std::find_if(blocks.begin(), blocks.end(), [](const WriteBlock& b) {
    return b.start == k_rated_voltage_code && b.words.size() == 1;
  });
  if (code != blocks.end() && code->words[0] != 0) std::rotate(blocks.begin(), code, code + 1);
  for (const auto& key : todo) {
    if (key.table == Table::Coil) blocks.push_back({Table::Coil, key.address, {merged.at(key)}});
  }
  return blocks;
}

std::vector<RegisterRange> context_reads(const RegisterMap& map, const std::vector<FieldId>& fields,
                                         std::uint16_t max_registers) {
  std::set<RegisterKey> keys;
  auto add = [&](Table table, std::uint16_t first, std::uint16_t last) {
    for (std::uint32_t a = first; a <= last; ++a)
      keys.insert({table, static_cast<std::uint16_t>(a)});
  };
  for (auto id : fields) {
    const auto& f = map.field(id);
    add(f.table, f.address, f.last_address());
    if (f.table != Table::Holding) continue;
    if ((f.address >= k_battery_first && f.address <= k_battery_last) ||
        f.address == k_rated_voltage_code) {
      add(Table::Holding, k_battery_first, k_battery_last);
      add(Table::Holding, k_rated_voltage_code, k_rated_voltage_code);
    }
    if (f.address == 0x906B || f.address == 0x906C)
      add(Table::Holding, k_battery_first, k_battery_first);
    if (f.address == 0x906D || f.address == 0x906E) add(Table::Holding, 0x9070, 0x9070);
    if (f.address >= 0x9048 && f.address <= 0x904D) add(Table::Holding, 0x9069, 0x9069);
    if (f.address >= k_rtc_first && f.address <= k_rtc_last)
      add(Table::Holding, k_rtc_first, k_rtc_last);
  }
  std::vector<RegisterRange> ranges;
  for (const auto& key : keys) {
    auto& last = ranges.empty() ? ranges.emplace_back() : ranges.back();
    bool extends = !ranges.empty() && last.count > 0 && last.table == key.table &&
                   key.address == last.start + last.count && last.count < max_registers;
    if (extends) {
      ++last.count;
    } else if (last.count == 0) {
      last = {key.table, key.address, 1};
    } else {
      ranges.push_back({key.table, key.address, 1});
    }
  }
  return ranges;
}

}  // namespace tracermon::protocol
