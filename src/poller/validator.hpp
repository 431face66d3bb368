#pragma once
// Plausibility checks for values read from one controller. A garbled reply that passes the CRC
// (or a firmware glitch) can still say 655.35 V; such a value must not reach the history, the
// sinks or the energy accounting. Limits come from the spec and, once read, the device's own
// rated data. One Validator per device: it keeps that device's state (rated data, the last
// accepted energy totals).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "model/snapshot.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::poller {

// The outcome of checking one value.
struct Verdict {
  bool accepted = true;
  // An energy total dropped and stayed low for ValidatorOptions::reset_confirm_reads reads:
  // accepted as a counter reset (statistics cleared, factory reset). The caller logs it and
  // re-baselines the energy ledger.
  bool counter_reset = false;
  std::string reason;  // why it was rejected, naming field, value and limit; empty if accepted

  explicit operator bool() const { return accepted; }
};

struct ValidatorOptions {
  // An energy total below the last accepted one is taken as a reset once this many consecutive
  // reads (non-decreasing among themselves) are below it; the reads before are rejected.
  int reset_confirm_reads = 3;
};

class Validator {
 public:
  explicit Validator(ValidatorOptions options = {});

  // Checks one decoded value (`raw` as from protocol::raw_integer, `value` = raw / scale).
  // Fields without a rule (settings, status words, enums, the clock) are accepted: status bits
  // the spec leaves reserved are not a reason to drop a reading. An accepted rated-data field
  // (0x3000-0x3010, battery_real_rated_voltage, battery_rated_voltage_code) is learnt at once,
  // so the fields read after it in the same cycle are already checked against it.
  Verdict check(const protocol::Field& field, std::int64_t raw, double value);

  // Learns rated data from a value read earlier (e.g. a stored snapshot after a restart).
  // Values of fields that are not rated data, and zero ratings, are ignored.
  void learn_rated(const protocol::Field& field, double value);
  void learn_rated(const protocol::RegisterMap& map, const model::DeviceSnapshot& snapshot);

  // Seeds the last accepted energy total (e.g. from the energy ledger after a restart), so a
  // counter cleared while the daemon was down is recognised as a reset.
  void remember_total(const protocol::Field& field, double value);

  // The system voltage the battery limits use (12/24/36/48 V), if known.
  [[nodiscard]] std::optional<double> system_voltage() const;

  // Rejections so far, per field name.
  [[nodiscard]] std::uint64_t rejected(std::string_view field_name) const;
  [[nodiscard]] const std::map<std::string, std::uint64_t, std::less<>>& rejected_counts() const {
    return m_rejected;
  }
  [[nodiscard]] std::uint64_t counter_resets() const { return m_counter_resets; }

 private:
  struct Rated {
    std::optional<double> pv_voltage, pv_current, pv_power;
    std::optional<double> battery_voltage, battery_current, battery_power;
    std::optional<double> load_current, load_power;
    std::optional<double> system_voltage;       // battery_real_rated_voltage
    std::optional<double> system_voltage_code;  // battery_rated_voltage_code, in volts
  };
  // A run of reads below the last accepted total.
  struct TotalState {
    std::optional<std::int64_t> last;
    std::int64_t low_last = 0;
    int low_count = 0;
  };
  struct Limit {
    double low;
    double high;
    std::string basis;  // where the limit comes from, for the message
  };

  Verdict reject(const protocol::Field& field, std::string reason);
  Verdict check_total(const protocol::Field& field, std::int64_t raw);
  [[nodiscard]] Limit pv_voltage_limit() const;
  [[nodiscard]] Limit pv_current_limit() const;
  [[nodiscard]] Limit battery_voltage_limit() const;
  [[nodiscard]] Limit charge_current_limit() const;
  [[nodiscard]] Limit load_current_limit() const;

  ValidatorOptions m_options;
  Rated m_rated;
  std::map<std::string, TotalState, std::less<>> m_totals;
  std::map<std::string, std::uint64_t, std::less<>> m_rejected;
  std::uint64_t m_counter_resets = 0;
};

}  // namespace tracermon::poller
