#pragma once
// Where tracermon's log lines go: always stderr, so stdout carries only a command's output and
// the daemon's lines reach the journal under systemd.

#include <string>

namespace tracermon::app {

// Before any thread logs: spdlog's default logger writes to stderr (colours on a terminal).
void log_to_stderr();

// The daemon's level; when stderr is the journal ($JOURNAL_STREAM names it) each line starts
// with its syslog priority ("<4>") and carries no time stamp: the journal adds both.
void configure_daemon_logging(const std::string& level);

// Whether $JOURNAL_STREAM ("DEVICE:INODE") is the file open on stderr. A shell started from a
// desktop session inherits the variable with stderr a terminal: that is not the journal.
bool stderr_is_journal();

}  // namespace tracermon::app
