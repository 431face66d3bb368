#include "device/settings_writer.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tracermon::device {

using core::Error;
using core::ErrorKind;
using protocol::local_calendar;
using protocol::RegisterImage;
using protocol::RegisterKey;
using protocol::seconds_between;
using protocol::Table;
using protocol::WriteBlock;

const char* to_string(WriteOutcome outcome) {
  switch (outcome) {
    case WriteOutcome::Unchanged:
      return "unchanged";
    case WriteOutcome::DryRun:
      return "dry-run";
    case WriteOutcome::Written:
      return "written";
    case WriteOutcome::Refused:
      return "refused";
    case WriteOutcome::Failed:
      return "failed";
  }
  return "?";
}

namespace {

// Transport trouble after which the write may or may not have reached the device.
bool outcome_unknown(ErrorKind kind) {
  return kind == ErrorKind::Timeout || kind == ErrorKind::Crc || kind == ErrorKind::BadReply ||
         kind == ErrorKind::Echo || kind == ErrorKind::WrongUnit;
}

}  // namespace

core::Result<RegisterImage> SettingsWriter::read_ranges(
    std::uint8_t unit, const std::vector<protocol::RegisterRange>& ranges) {
  RegisterImage image;
  for (const auto& r : ranges) {
    auto words = m_client.read(unit, r.table, r.start, r.count);
    if (!words) {
      return Error{words.error().kind,
                   fmt::format("FC 0x{:02X} 0x{:04X} x{}: {}", protocol::read_function(r.table),
                               r.start, r.count, words.error().describe()),
                   words.error().exception_code};
    }
    for (std::uint16_t i = 0; i < r.count; ++i)
      image[{r.table, static_cast<std::uint16_t>(r.start + i)}] = words.value()[i];
  }
  return image;
}

core::Result<RegisterImage> SettingsWriter::read(std::uint8_t unit,
                                                 const std::vector<protocol::FieldId>& fields) {
  return read_ranges(unit, protocol::context_reads(m_catalog.map(), fields, m_max_registers));
}

core::Status SettingsWriter::send(std::uint8_t unit, const WriteBlock& block) {
  if (block.table == Table::Coil)
    return m_client.write_coil(unit, block.start, block.words[0] != 0);
  return m_client.write_registers(unit, block.start, block.words);
}

core::Result<bool> SettingsWriter::holds(std::uint8_t unit, const WriteBlock& block) {
  auto words =
      m_client.read(unit, block.table, block.start, static_cast<std::uint16_t>(block.words.size()));
  if (!words) return words.error();
  return words.value() == block.words;
}

core::Status SettingsWriter::write_checked(std::uint8_t unit, const WriteBlock& block,
                                           std::vector<std::string>& sent) {
  for (int attempt = 0;; ++attempt) {
    sent.push_back(block.describe());
    auto status = send(unit, block);
    if (status || !outcome_unknown(status.error().kind)) return status;
    // No (clean) answer: it may have taken. Look before sending it again.
    auto took = holds(unit, block);
    if (!took) {
      return Error{status.error().kind,
                   fmt::format("{} (and the read-back failed: {}; state unknown)",
                               status.error().describe(), took.error().describe())};
    }
    if (took.value()) return core::Ok{};
    if (attempt >= 1) return status;
  }
}

WriteReport SettingsWriter::apply(std::uint8_t unit, std::span<const SettingChange> changes,
                                  bool dry_run) {
  const auto& map = m_catalog.map();
  WriteReport report;
  report.unit = unit;
  std::vector<protocol::FieldId> ids;
  for (const auto& c : changes)
    ids.push_back(c.id);
  auto current = read(unit, ids);
  if (!current) {
    report.outcome = WriteOutcome::Refused;
    report.error = fmt::format("cannot read the current settings, nothing written: {}",
                               current.error().describe());
    report.exception_code = current.error().exception_code;
    return report;
  }
  RegisterImage merged = current.value();
  for (const auto& c : changes) {
    const auto& f = map.field(c.id);
    report.settings.push_back({c.id, protocol::get_raw(current.value(), f), c.raw, {}});
    protocol::put_raw(merged, f, c.raw);
  }
  std::vector<RegisterKey> changed;
  for (const auto& [key, word] : merged) {
    auto it = current.value().find(key);
    if (it == current.value().end() || it->second != word) changed.push_back(key);
  }
  if (changed.empty()) {
    report.outcome = WriteOutcome::Unchanged;
    for (auto& s : report.settings)
      s.after = s.before;
    return report;
  }
  report.check = protocol::check_settings(m_catalog, merged, changed);
  if (!report.check.ok()) {
    report.outcome = WriteOutcome::Refused;
    report.error = fmt::format("{}", fmt::join(report.check.violations, "; "));
    return report;
  }
  auto blocks = protocol::plan_writes(merged, changed);
  if (dry_run) {
    report.outcome = WriteOutcome::DryRun;
    for (const auto& b : blocks)
      report.sent.push_back(b.describe() + " (not sent)");
    return report;
  }
  std::string failure;
  for (const auto& block : blocks) {
    auto status = write_checked(unit, block, report.sent);
    if (!status) {
      report.exception_code = status.error().exception_code;
      failure = fmt::format("{}: {}", block.describe(), status.error().describe());
      if (status.error().kind == ErrorKind::Exception) failure += " (the controller refused it)";
      break;
    }
  }
  // Read back what the command touched, also after a failure: the report says what took.
  auto after = read(unit, ids);
  std::vector<std::string> not_taken;
  for (auto& s : report.settings) {
    const auto& f = map.field(s.id);
    if (after) s.after = protocol::get_raw(after.value(), f);
    if (!s.took()) {
      not_taken.push_back(s.after ? fmt::format("{} (wrote {}, reads {})", f.name,
                                                m_catalog.describe(f, s.wanted),
                                                m_catalog.describe(f, *s.after))
                                  : fmt::format("{} (not read back)", f.name));
    }
  }
  if (failure.empty() && after && not_taken.empty()) {
    report.outcome = WriteOutcome::Written;
    return report;
  }
  report.outcome = WriteOutcome::Failed;
  std::vector<std::string> parts;
  if (!failure.empty()) parts.push_back("write failed at " + failure);
  if (!after) parts.push_back("read-back failed: " + after.error().describe());
  if (!not_taken.empty())
    parts.push_back(fmt::format("did not take: {}", fmt::join(not_taken, ", ")));
  report.error = fmt::format("{}", fmt::join(parts, "; "));
  return report;
}

ClockReport SettingsWriter::clock(std::uint8_t unit, bool sync, const WallClock& now,
                                  double tolerance_s) {
  ClockReport report;
  report.unit = unit;
  const protocol::RegisterRange rtc{Table::Holding, protocol::k_rtc_first, 3};
  auto read_clock = [&]() -> core::Result<protocol::ControllerTime> {
    auto image = read_ranges(unit, {rtc});
    if (!image) return image.error();
    const auto& w = image.value();
    auto t = protocol::decode_rtc(w.at({Table::Holding, protocol::k_rtc_first}),
                                  w.at({Table::Holding, protocol::k_rtc_first + 1}),
                                  w.at({Table::Holding, protocol::k_rtc_last}));
    if (!t.valid()) {
      return Error{ErrorKind::BadReply,
                   fmt::format("the controller clock reads {}: not a date", t.iso8601())};
    }
    return t;
  };
  auto before = read_clock();
  if (!before) {
    report.outcome = WriteOutcome::Refused;
    report.error = fmt::format("cannot read the controller clock: {}", before.error().describe());
    return report;
  }
  report.before = before.value();
  report.host = local_calendar(now());
  report.drift_s = seconds_between(*report.before, *report.host);
  if (!sync || std::abs(report.drift_s) <= tolerance_s) {
    report.outcome = WriteOutcome::Unchanged;
    report.after = report.before;
    report.drift_after_s = report.drift_s;
    return report;
  }
  auto target = local_calendar(now());
  if (target.year < 2000 || target.year > 2099) {
    report.outcome = WriteOutcome::Refused;
    report.error = fmt::format("the host clock says {}: the controller keeps 2000-2099 only",
                               target.iso8601());
    return report;
  }
  auto words = protocol::encode_rtc(target);
  WriteBlock block{Table::Holding, protocol::k_rtc_first, {words.begin(), words.end()}};
  auto status = send(unit, block);
  std::string failure;
  if (!status) failure = status.error().describe();
  // The clock moves on: read back and compare with the host again rather than the words.
  auto after = read_clock();
  if (after) {
    report.after = after.value();
    report.drift_after_s = seconds_between(after.value(), local_calendar(now()));
  }
  bool took = after && std::abs(report.drift_after_s) <= tolerance_s;
  if (!took && !status && outcome_unknown(status.error().kind) && after) {
    // The write timed out and did not take: one more try, then look again.
    status = send(unit, WriteBlock{Table::Holding, protocol::k_rtc_first, [&] {
                                     auto w = protocol::encode_rtc(local_calendar(now()));
                                     return std::vector<std::uint16_t>(w.begin(), w.end());
                                   }()});
    after = read_clock();
    if (after) {
      report.after = after.value();
      report.drift_after_s = seconds_between(after.value(), local_calendar(now()));
    }
    took = after && std::abs(report.drift_after_s) <= tolerance_s;
    failure = status ? "" : status.error().describe();
  }
  if (took) {
    report.outcome = WriteOutcome::Written;
    return report;
  }
  report.outcome = WriteOutcome::Failed;
  if (!failure.empty()) {
    report.error = fmt::format("clock write FC 0x10 0x9013 x3 failed: {}", failure);
    if (!status && status.error().kind == ErrorKind::Exception) {
      report.error += " (the controller refused it)";
    }
  } else if (!after) {
    report.error = fmt::format("clock read-back failed: {}", after.error().describe());
  } else {
    report.error = fmt::format("the clock did not take: it reads {} ({:+.0f} s from the host)",
                               after.value().iso8601(), report.drift_after_s);
  }
  return report;
}

}  // namespace tracermon::device
