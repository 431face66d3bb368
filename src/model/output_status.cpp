#include "model/output_status.hpp"

namespace tracermon::model {

const char* to_string(OutputState state) {
  switch (state) {
    case OutputState::Connected:
      return "connected";
    case OutputState::Retrying:
      return "retrying";
    case OutputState::Stopped:
      return "stopped";
  }
  return "unknown";
}

}  // namespace tracermon::model
