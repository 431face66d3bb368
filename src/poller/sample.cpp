#include "poller/sample.hpp"

#include <algorithm>

#include "protocol/decode.hpp"

namespace tracermon::poller {

model::FieldSample make_sample(const protocol::Field& field, const device::FieldValue& value,
                               core::WallTime wall) {
  model::FieldSample sample;
  sample.id = value.id;
  sample.word_count = static_cast<std::uint8_t>(std::min<std::size_t>(value.words.size(), 2));
  std::copy_n(value.words.begin(), sample.word_count, sample.words.begin());
  sample.raw = value.raw;
  sample.value = protocol::scaled_value(field, value.raw);
  sample.read_at = value.read_at;
  sample.wall_time = wall;
  return sample;
}

}  // namespace tracermon::poller
