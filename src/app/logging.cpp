#include "app/logging.hpp"

#include <cstdlib>
#include <memory>
#include <sys/stat.h>

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace tracermon::app {

namespace {

// "%*": the syslog priority of the line's level, which the journal turns into PRIORITY=.
class SyslogPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
              spdlog::memory_buf_t& dest) override {
    char digit = '6';
    switch (msg.level) {
      case spdlog::level::critical:
        digit = '2';
        break;
      case spdlog::level::err:
        digit = '3';
        break;
      case spdlog::level::warn:
        digit = '4';
        break;
      case spdlog::level::info:
        digit = '6';
        break;
      default:
        digit = '7';
        break;
    }
    dest.push_back(digit);
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPriority>();
  }
};

}  // namespace

void log_to_stderr() {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("", std::move(sink)));
}

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  struct stat st {};
  if (::fstat(2, &st) != 0) return false;
  return fmt::format("{}:{}", st.st_dev, st.st_ino) == stream;
}

void configure_daemon_logging(const std::string& level) {
  if (stderr_is_journal()) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<SyslogPriority>('*').set_pattern("<%*>%v");
    spdlog::set_formatter(std::move(formatter));
  }
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace tracermon::app
