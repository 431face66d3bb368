#include "model/poll_intervals.hpp"

namespace tracermon::model {

std::chrono::milliseconds max_age(const protocol::Field& field, const PollIntervals& intervals) {
  switch (field.poll) {
    case protocol::PollClass::Fast:
      return intervals.fast * 3;
    case protocol::PollClass::Slow:
      return intervals.slow * 3;
    default:
      return std::chrono::milliseconds{0};
  }
}

}  // namespace tracermon::model
