#pragma once
// The slave side of a Modbus line, seen from the links (links.hpp) that carry its bytes: they
// frame the requests a master sends and hand each one to a RequestHandler, which decides what
// goes back and when. The simulator (sim::SimulatedBus) is one; a gateway that forwards requests
// to a real bus would be another. The links know nothing of either: they only carry bytes and
// keep the timing a real line would have.

#include <cstddef>
#include <cstdint>
#include <span>

#include "protocol/pdu.hpp"

namespace tracermon::slave {

// What goes back on an RTU line (a pty, RTU over TCP) for one request.
struct Transmission {
  protocol::Bytes bytes;  // the whole reply as it goes on the wire; empty: silence
  double delay_ms = 0;    // from the end of the request to the first byte of the reply
  bool unplug = false;    // the line goes away now (a pty vanishes) for unplug_ms; no reply
  double unplug_ms = 0;
};

// What goes back to a Modbus TCP client for one request.
struct TcpReply {
  protocol::Bytes pdu;    // the reply PDU, without the MBAP header; empty: no reply
  double delay_ms = 0;    // the turnaround, from the end of the request on the line behind
  std::uint8_t unit = 0;  // the unit id the reply carries (normally the request's)
};

// Called by the links from their own threads (one per client connection, one per pty), possibly
// at the same time: an implementation must be thread-safe. A call may block for as long as the
// answer takes; only that link (or that client connection) waits.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  RequestHandler() = default;
  RequestHandler(const RequestHandler&) = delete;
  RequestHandler& operator=(const RequestHandler&) = delete;
  RequestHandler(RequestHandler&&) = delete;
  RequestHandler& operator=(RequestHandler&&) = delete;

  // One RTU request frame (address, PDU, CRC) with a good CRC, as the framer cut it out.
  virtual Transmission on_rtu_frame(std::span<const std::uint8_t> frame) = 0;
  // One Modbus TCP request: the unit id of its MBAP header and its PDU (never empty).
  virtual TcpReply on_tcp_request(std::uint8_t unit, std::span<const std::uint8_t> pdu) = 0;
  // Time on the wire of `bytes` bytes at the line's baud (10 bits a character): the links wait
  // for a request's wire time and pace replies by it, and a Modbus TCP reply waits for the RTU
  // line behind it. 0: no line to imitate (replies go out at once, in one piece).
  [[nodiscard]] virtual double wire_ms(std::size_t bytes) const = 0;
  // A reply that could not be delivered: its client had gone away.
  virtual void note_undelivered() = 0;
};

}  // namespace tracermon::slave
