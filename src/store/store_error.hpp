#pragma once
// Errors of the embedded history. Thrown only while opening (at start-up, or when the daemon
// tries again to open a store it could not open); while the daemon runs, store failures come
// back as core::Status and are reported and retried.

#include <stdexcept>
#include <string>

namespace tracermon::store {

class StoreError : public std::runtime_error {
 public:
  // `transient`: the cause may pass by itself (a full disk, an I/O error, a read-only or not
  // yet writable file system, a lock held by another process), so opening again later can
  // work. Otherwise it is a matter of configuration (a folder where the file should be,
  // another program's database, a schema from a newer release, bad retention options) that
  // retrying cannot mend.
  explicit StoreError(const std::string& message, bool transient = false)
      : std::runtime_error(message), m_transient(transient) {}

  [[nodiscard]] bool transient() const { return m_transient; }

 private:
  bool m_transient;
};

}  // namespace tracermon::store
