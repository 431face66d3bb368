#pragma once
// The Tracer register map, parsed from data/registers.csv, data/enums.csv and data/quirks.csv
// (embedded in the binary at build time). Code refers to fields by name; no address or scale
// is written anywhere else.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tracermon::protocol {

// The Modbus data table a field lives in; it decides the read function code.
enum class Table : std::uint8_t { Coil, Discrete, Input, Holding };

enum class ValueType : std::uint8_t { U16, S16, U32LoHi, S32LoHi, Enum, Bitfield };
enum class Access : std::uint8_t { Read, Write, ReadWrite };
// How often a monitor needs the value (the `poll` column).
enum class PollClass : std::uint8_t { Fast, Slow, Once, Settings, Never };

using FieldId = std::uint16_t;  // index into RegisterMap::fields()

struct Field {
  FieldId id = 0;
  std::uint16_t address = 0;
  Table table = Table::Input;
  std::string name;
  std::string description;
  std::string unit;
  std::uint32_t scale = 1;
  ValueType type = ValueType::U16;
  Access access = Access::Read;
  std::string group;
  PollClass poll = PollClass::Fast;
  bool optional = false;  // some models answer exception 2 (quirks.csv)

  // Registers (or bits) the field occupies: 2 for the 32-bit types.
  [[nodiscard]] std::uint16_t width() const {
    return type == ValueType::U32LoHi || type == ValueType::S32LoHi ? 2 : 1;
  }
  [[nodiscard]] std::uint16_t last_address() const {
    return static_cast<std::uint16_t>(address + width() - 1);
  }
  [[nodiscard]] bool readable() const { return access != Access::Write; }
  [[nodiscard]] bool is_bit() const { return table == Table::Coil || table == Table::Discrete; }
};

// One row of enums.csv: a value of a whole word (lo_bit = 0, hi_bit = 15) or of a bit range.
struct EnumEntry {
  std::uint16_t address = 0;
  std::uint8_t hi_bit = 15;
  std::uint8_t lo_bit = 0;
  std::uint16_t value = 0;
  std::string meaning;
};

// An address range a device answers although no field is documented there.
struct AddressRange {
  Table table;
  std::uint16_t first;
  std::uint16_t last;
};

class RegisterMap {
 public:
  // The map built into the binary. Parsed once; the first call throws std::runtime_error if the
  // embedded data is malformed (a unit test guarantees it is not).
  static const RegisterMap& builtin();

  // Parses the three CSV texts. Throws std::runtime_error naming the file, line and column.
  static RegisterMap parse(std::string_view registers_csv, std::string_view enums_csv,
                           std::string_view quirks_csv);

  [[nodiscard]] std::span<const Field> fields() const { return m_fields; }
  [[nodiscard]] const Field& field(FieldId id) const { return m_fields.at(id); }
  [[nodiscard]] const Field* find(std::string_view name) const;
  // The field that starts at this address, if any.
  [[nodiscard]] const Field* at(Table table, std::uint16_t address) const;
  // The field whose registers include this address, if any.
  [[nodiscard]] const Field* covering(Table table, std::uint16_t address) const;

  [[nodiscard]] std::span<const EnumEntry> enums() const { return m_enums; }
  // The meaning of `value` for the whole word at `address` (hi 15, lo 0) or one of its bit
  // ranges; nullopt when the table has no such entry.
  [[nodiscard]] std::optional<std::string_view> enum_meaning(std::uint16_t address,
                                                             std::uint8_t hi_bit,
                                                             std::uint8_t lo_bit,
                                                             std::uint16_t value) const;

  [[nodiscard]] std::span<const AddressRange> answered_gaps() const { return m_answered_gaps; }
  [[nodiscard]] bool in_answered_gap(Table table, std::uint16_t address) const;

 private:
  std::vector<Field> m_fields;
  std::vector<EnumEntry> m_enums;
  std::vector<AddressRange> m_answered_gaps;
};

const char* to_string(Table table);
const char* to_string(ValueType type);
const char* to_string(PollClass poll);
std::optional<PollClass> parse_poll_class(std::string_view text);

}  // namespace tracermon::protocol
