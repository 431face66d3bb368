#pragma once
// Finding the reply to one RTU request in the bytes a line hands back. RTU has no transaction
// id, so a reply is told apart from everything else on the line by content, order and time:
// - our own request echoed by the adapter, noise, and whole frames of other slave ids;
// - another master's request (an MT50, a PAL-ADP) and the reply that follows it;
// - replies to *earlier* requests of ours that gave up but may still be answered (a slow
//   Wi-Fi bridge, a busy controller). A slave answers in order, so a reply that fits an
//   earlier request still due is taken for the oldest such request, never for ours; it is
//   ours only when that earlier request was byte for byte the same (a retry), so its
//   registers are the ones we asked for;
// - a frame that was complete before our request could have been answered.
// Pure: no I/O and no clock; the client passes what it knows about time as a byte offset.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/result.hpp"
#include "protocol/pdu.hpp"

namespace tracermon::protocol {

// A request of ours that got no reply we took, and whose reply may still come.
struct EarlierRequest {
  Bytes frame;                     // the whole RTU frame (unit first)
  std::size_t reply_pdu_size = 0;  // of a correct reply; 0 when it varies (0x2B)
};

// What the bytes of one exchange were, for the counters that explain a shared bus.
struct LineCensus {
  std::uint64_t echoes = 0;        // our own request sent back by the adapter
  std::uint64_t noise_bytes = 0;   // bytes that belonged to no frame
  std::uint64_t late_replies = 0;  // replies to earlier requests, or complete too early
  std::uint64_t other_master = 0;  // another master's requests and the replies to them
  std::uint64_t other_ids = 0;     // whole frames from slaves we did not ask
  std::uint64_t bad_frames = 0;    // frames of ours with a bad CRC or a wrong byte count
};

class RtuReplyMatcher {
 public:
  // `request` is the whole RTU frame we sent (empty: nothing is ours, as when the line is
  // drained between requests); `expected_pdu_size` the size of a correct reply PDU (0 when
  // unknown, as for 0x2B); `earlier` our requests still due, oldest first.
  RtuReplyMatcher(std::span<const std::uint8_t> request, std::size_t expected_pdu_size,
                  std::vector<EarlierRequest> earlier = {});

  struct Match {
    Bytes pdu;            // the reply without unit and CRC
    std::size_t skipped;  // bytes before it (echo, noise, other frames)
    std::size_t end;      // offset just past it
    bool maybe_earlier;   // it may answer an identical earlier request: ours may still come
  };
  // Looks at everything received since the request. Frames that end within the first
  // `too_early` bytes were complete before our request could have been answered. nullopt
  // while no reply is complete.
  std::optional<Match> feed(std::span<const std::uint8_t> received, std::size_t too_early = 0);

  // Why no reply was found: the most specific thing seen.
  [[nodiscard]] core::Error failure(std::size_t received_bytes) const;

  // Of the last feed: what was seen, and which `earlier` requests had their reply (indexes).
  [[nodiscard]] const LineCensus& census() const { return m_census; }
  [[nodiscard]] const std::vector<std::size_t>& answered() const { return m_answered; }
  // A broken frame of ours (bad CRC, wrong byte count, or one that stopped) while no earlier
  // request could claim it: the slave has answered this request, badly; nothing more will come.
  [[nodiscard]] bool answered_badly() const { return m_answered_badly; }
  // A frame of ours has started or arrived broken: if the line now goes quiet, give up early.
  [[nodiscard]] bool broken_frame_seen() const {
    return m_crc_error_seen || m_count_mismatch_seen || m_partial > 0;
  }

 private:
  enum class Verdict : std::uint8_t { Ours, Skip };
  void reset();
  bool is_ours(std::span<const std::uint8_t> rest) const;
  Verdict place_reply(std::span<const std::uint8_t> frame, std::size_t end, std::size_t too_early,
                      bool& maybe_earlier);
  std::optional<std::size_t> claim_earlier(std::uint8_t unit, std::uint8_t function, bool exception,
                                           std::size_t pdu_size);
  [[nodiscard]] bool fits_ours(std::span<const std::uint8_t> pdu) const;
  void note_broken_frame();

  Bytes m_request;
  std::uint8_t m_unit;
  std::uint8_t m_function;
  std::size_t m_expected_pdu_size;
  std::vector<EarlierRequest> m_earlier;

  // Of the last feed.
  struct ForeignRequest {
    std::uint8_t unit;
    std::uint8_t function;
    std::size_t reply_pdu_size;
  };
  std::vector<ForeignRequest> m_foreign;  // another master's requests not yet answered
  std::vector<bool> m_claimed;            // per earlier request
  std::vector<std::size_t> m_answered;
  LineCensus m_census;
  bool m_echo_seen = false;
  bool m_crc_error_seen = false;
  bool m_count_mismatch_seen = false;
  bool m_wrong_unit_seen = false;
  bool m_late_seen = false;
  bool m_answered_badly = false;
  std::size_t m_partial = 0;  // bytes of a frame of ours that had started but not completed
  std::size_t m_count_claimed = 0;
  std::size_t m_count_actual = 0;
};

}  // namespace tracermon::protocol
