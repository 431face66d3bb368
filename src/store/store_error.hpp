#pragma once
// Errors of the embedded history. Thrown only at start-up (cannot open, newer schema); while
// the daemon runs, store failures come back as core::Status and are reported and retried.

#include <stdexcept>

namespace tracermon::store {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tracermon::store
