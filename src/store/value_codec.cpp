#include "store/value_codec.hpp"

#include <algorithm>
#include <cmath>

namespace tracermon::store {
namespace {

void put_varint(std::uint64_t value, std::vector<std::uint8_t>& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : m_bytes(bytes) {}
  bool done() const { return m_pos == m_bytes.size(); }

  bool varint(std::uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (m_pos == m_bytes.size()) return false;
      std::uint8_t byte = m_bytes[m_pos++];
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }

 private:
  std::span<const std::uint8_t> m_bytes;
  std::size_t m_pos = 0;
};

std::uint64_t zigzag(std::int64_t value) {
  return (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
}

std::int64_t unzigzag(std::uint64_t value) {
  return static_cast<std::int64_t>(value >> 1) ^ -static_cast<std::int64_t>(value & 1);
}

}  // namespace

std::optional<std::int64_t> to_centi(double value) {
  if (!std::isfinite(value) || std::fabs(value) > k_max_abs_value) return std::nullopt;
  return std::llround(value * 100.0);
}

double from_centi(std::int64_t centi) {
  return static_cast<double>(centi) / 100.0;
}

void encode_sample(std::span<const FieldValue> values, std::vector<std::uint8_t>& out) {
  out.clear();
  std::uint32_t previous = 0;
  for (const auto& v : values) {
    std::uint32_t step = v.field - previous;
    bool jump = step != 1;
    put_varint(zigzag(v.centi) << 1 | (jump ? 1U : 0U), out);
    if (jump) put_varint(step, out);
    previous = v.field;
  }
}

bool decode_sample(std::span<const std::uint8_t> blob, std::vector<FieldValue>& out) {
  out.clear();
  Reader reader(blob);
  std::uint64_t previous = 0;
  while (!reader.done()) {
    std::uint64_t code = 0;
    std::uint64_t step = 1;
    if (!reader.varint(code)) return false;
    if ((code & 1) != 0 && !reader.varint(step)) return false;
    previous += step;
    if (previous > UINT32_MAX) return false;
    out.push_back({static_cast<std::uint32_t>(previous), unzigzag(code >> 1)});
  }
  return true;
}

void FieldAggregate::add(std::int64_t centi) {
  if (count == 0) {
    min = max = centi;
  } else {
    min = std::min(min, centi);
    max = std::max(max, centi);
  }
  ++count;
  sum += centi;
  last = centi;
}

void FieldAggregate::merge(const FieldAggregate& later) {
  if (later.count == 0) return;
  if (count == 0) {
    min = later.min;
    max = later.max;
  } else {
    min = std::min(min, later.min);
    max = std::max(max, later.max);
  }
  count += later.count;
  sum += later.sum;
  last = later.last;
}

void encode_rollup(std::span<const FieldAggregate> fields, std::vector<std::uint8_t>& out) {
  out.clear();
  std::int64_t common = 0;
  for (const auto& f : fields) {
    common = std::max(common, f.count);
  }
  put_varint(static_cast<std::uint64_t>(common), out);
  std::uint32_t previous = 0;
  for (const auto& f : fields) {
    std::uint32_t step = f.field - previous;
    bool jump = step != 1;
    bool own_count = f.count != common;
    bool constant = f.min == f.max;
    out.push_back(
        static_cast<std::uint8_t>((jump ? 4U : 0U) | (own_count ? 2U : 0U) | (constant ? 1U : 0U)));
    if (jump) put_varint(step, out);
    if (own_count) put_varint(static_cast<std::uint64_t>(f.count), out);
    put_varint(zigzag(f.min), out);
    if (!constant) {
      put_varint(static_cast<std::uint64_t>(f.max - f.min), out);
      put_varint(static_cast<std::uint64_t>(f.last - f.min), out);
      put_varint(static_cast<std::uint64_t>(f.sum - f.min * f.count), out);
    }
    previous = f.field;
  }
}

bool decode_rollup(std::span<const std::uint8_t> blob, std::vector<FieldAggregate>& out) {
  out.clear();
  Reader reader(blob);
  std::uint64_t common = 0;
  if (!reader.varint(common)) return false;
  std::uint64_t previous = 0;
  while (!reader.done()) {
    std::uint64_t header = 0;
    std::uint64_t step = 1;
    std::uint64_t count = common;
    std::uint64_t min = 0;
    if (!reader.varint(header) || header > 7) return false;
    if ((header & 4) != 0 && !reader.varint(step)) return false;
    if ((header & 2) != 0 && !reader.varint(count)) return false;
    if (!reader.varint(min)) return false;
    previous += step;
    if (previous > UINT32_MAX) return false;
    FieldAggregate f;
    f.field = static_cast<std::uint32_t>(previous);
    f.count = static_cast<std::int64_t>(count);
    f.min = f.max = f.last = unzigzag(min);
    f.sum = f.min * f.count;
    if ((header & 1) == 0) {
      std::uint64_t span = 0;
      std::uint64_t last = 0;
      std::uint64_t extra = 0;
      if (!reader.varint(span) || !reader.varint(last) || !reader.varint(extra)) return false;
      f.max = f.min + static_cast<std::int64_t>(span);
      f.last = f.min + static_cast<std::int64_t>(last);
      f.sum += static_cast<std::int64_t>(extra);
    }
    out.push_back(f);
  }
  return true;
}

}  // namespace tracermon::store
