#pragma once
// Commands: what callers beside the poll loop (the HTTP API, MQTT) ask of a bus. They reach
// the bus only through its worker's one queue (BusWorker::submit) and each is answered exactly
// once through a future the caller can wait on with a deadline of its own. One-shot reads now;
// writes and pass-through requests follow the same path.

#include <chrono>
#include <cstdint>
#include <future>
#include <vector>

#include "core/result.hpp"
#include "device/field_reader.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::poller {

// Read these fields of one device now.
struct ReadCommand {
  std::uint8_t unit = 1;
  std::vector<protocol::FieldId> fields;
  // How long, from submit, the command may wait for the bus. One that has not reached the bus
  // by then is answered with ErrorKind::Timeout and never sent. Once on the bus it finishes
  // (a request on the wire cannot be taken back), bounded by the client's own timeouts.
  std::chrono::milliseconds timeout{10000};
};

// The answer to a read: what was read (a partial reading lists its failures), or the reason
// nothing was: the device's error when it answered nothing (Timeout for a silent device),
// Timeout when the command's deadline passed in the queue, Cancelled when the worker stopped.
using ReadResult = core::Result<device::Reading>;
// Never broken: the worker answers every command it accepted, also when it stops.
using ReadFuture = std::future<ReadResult>;

// A reading as a command's result: an error when nothing was read and something failed.
ReadResult read_result(device::Reading reading);

}  // namespace tracermon::poller
