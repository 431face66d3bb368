#pragma once
// The compact blobs of the history tables.
//
// Values are integers in hundredths ("centi", llround(value * 100)). A sample row packs its
// (field id, value) pairs, field ids ascending, as one varint per value:
//   code = zigzag(centi) << 1 | jump
// where `jump` is 1 when the field id is not the previous id + 1; a varint with the id step
// then follows. Fields come in map order, so a run of fields costs no id bytes at all and a
// value costs 1-4 bytes (0 and small numbers 1 byte, 13.45 V 2 bytes, a 32-bit energy total 4).
//
// A rollup row holds, per field, count, min, max, sum and last of a bucket:
//   varint common_count, then per field a header byte jump << 2 | own_count << 1 | constant,
//   [varint id step if jump] [varint count if own_count] zigzag min, and unless constant (min ==
//   max, which makes last == min and sum == min * count): varint max - min, varint last - min,
//   varint sum - min * count.
// All differences are non-negative and small, so a constant field (settings, 0 at night) costs
// 2-5 bytes and a changing one about 8-12.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace tracermon::store {

// Values beyond this are not stored: no register is that large, and sums of a day of
// hundredths must fit in 64 bits.
inline constexpr double k_max_abs_value = 1e10;

std::optional<std::int64_t> to_centi(double value);  // nullopt for NaN, inf, too large
double from_centi(std::int64_t centi);

struct FieldValue {
  std::uint32_t field = 0;
  std::int64_t centi = 0;
};

// `values` ascending by field id, ids unique and > 0.
void encode_sample(std::span<const FieldValue> values, std::vector<std::uint8_t>& out);
// False when the blob is malformed (it is then skipped, never trusted).
bool decode_sample(std::span<const std::uint8_t> blob, std::vector<FieldValue>& out);

struct FieldAggregate {
  std::uint32_t field = 0;
  std::int64_t count = 0;
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::int64_t sum = 0;
  std::int64_t last = 0;

  void add(std::int64_t centi);             // a value later than everything so far
  void merge(const FieldAggregate& later);  // a bucket later than everything so far
};

// `fields` ascending by field id with count > 0.
void encode_rollup(std::span<const FieldAggregate> fields, std::vector<std::uint8_t>& out);
bool decode_rollup(std::span<const std::uint8_t> blob, std::vector<FieldAggregate>& out);

}  // namespace tracermon::store
