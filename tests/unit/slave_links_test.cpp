// The slave links carry bytes between real sockets or a pty and a RequestHandler: here a fake
// one that records what reaches it and answers as each test says, without the simulator.

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "core/unique_fd.hpp"
#include "protocol/mbap.hpp"
#include "protocol/rtu.hpp"
#include "slave/links.hpp"
#include "slave/request_handler.hpp"
#include "temp_dir.hpp"
#include "vectors.hpp"

using namespace tracermon;
using protocol::Bytes;
using test::hex;
using Clock = std::chrono::steady_clock;

namespace {

// Long enough for a loaded machine; a test that works never waits for it.
constexpr auto k_deadline = std::chrono::seconds(10);

// Records every request; answers with what `rtu` and `tcp` return (silence if unset).
class FakeHandler final : public slave::RequestHandler {
 public:
  struct TcpRequest {
    std::uint8_t unit;
    Bytes pdu;
  };

  std::function<slave::Transmission(const Bytes& frame)> rtu;
  std::function<slave::TcpReply(std::uint8_t unit, const Bytes& pdu)> tcp;
  double byte_ms = 0;  // wire time of one byte

  slave::Transmission on_rtu_frame(std::span<const std::uint8_t> frame) override {
    Bytes copy(frame.begin(), frame.end());
    {
      std::lock_guard lock(m_mutex);
      m_rtu_frames.push_back(copy);
    }
    m_changed.notify_all();
    return rtu ? rtu(copy) : slave::Transmission{};
  }
  slave::TcpReply on_tcp_request(std::uint8_t unit, std::span<const std::uint8_t> pdu) override {
    Bytes copy(pdu.begin(), pdu.end());
    {
      std::lock_guard lock(m_mutex);
      m_tcp_requests.push_back({unit, copy});
    }
    m_changed.notify_all();
    return tcp ? tcp(unit, copy) : slave::TcpReply{};
  }
  [[nodiscard]] double wire_ms(std::size_t bytes) const override {
    return static_cast<double>(bytes) * byte_ms;
  }
  void note_undelivered() override {
    {
      std::lock_guard lock(m_mutex);
      ++m_undelivered;
    }
    m_changed.notify_all();
  }

  std::vector<Bytes> rtu_frames() {
    std::lock_guard lock(m_mutex);
    return m_rtu_frames;
  }
  std::vector<TcpRequest> tcp_requests() {
    std::lock_guard lock(m_mutex);
    return m_tcp_requests;
  }
  // Waits until `count` RTU frames have arrived; false after the deadline.
  bool wait_rtu_frames(std::size_t count) {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, k_deadline, [&] { return m_rtu_frames.size() >= count; });
  }
  bool wait_undelivered(int count) {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, k_deadline, [&] { return m_undelivered >= count; });
  }
  int undelivered() {
    std::lock_guard lock(m_mutex);
    return m_undelivered;
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::vector<Bytes> m_rtu_frames;
  std::vector<TcpRequest> m_tcp_requests;
  int m_undelivered = 0;
};

// A read reply PDU for a read request PDU: the words count down from 0x1234.
Bytes read_reply(const Bytes& request) {
  auto count = protocol::be16(request, 3);
  Bytes reply{request[0], static_cast<std::uint8_t>(2 * count)};
  for (std::uint16_t i = 0; i < count; ++i) {
    auto word = static_cast<std::uint16_t>(0x1234 - i);
    reply.push_back(static_cast<std::uint8_t>(word >> 8));
    reply.push_back(static_cast<std::uint8_t>(word & 0xFF));
  }
  return reply;
}

core::UniqueFd connect_to(std::uint16_t port) {
  core::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error("connect");
  }
  return fd;
}

void send_all(int fd, const Bytes& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 100);
      continue;
    }
    ASSERT_GT(n, 0) << "write failed";
    done += static_cast<std::size_t>(n);
  }
}

// Reads until `size` bytes have come, the other end closes or the deadline passes.
Bytes receive(int fd, std::size_t size) {
  Bytes out;
  auto until = Clock::now() + k_deadline;
  while (out.size() < size) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    std::uint8_t buffer[256];
    ssize_t n = ::read(fd, buffer, std::min(sizeof buffer, size - out.size()));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    out.insert(out.end(), buffer, buffer + n);
  }
  return out;
}

// True when the other end closes the connection (or the pty goes away) before the deadline.
bool hangs_up(int fd) {
  auto until = Clock::now() + k_deadline;
  while (Clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    if ((p.revents & (POLLHUP | POLLERR)) != 0) return true;
    std::uint8_t byte = 0;
    ssize_t n = ::read(fd, &byte, 1);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return true;
  }
  return false;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

core::UniqueFd open_pty(const std::filesystem::path& path) {
  core::UniqueFd fd(::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) throw std::runtime_error("cannot open " + path.string());
  return fd;
}

}  // namespace

TEST(SlaveLinks, ModbusTcpRequestsReachTheHandlerAndRepliesKeepTheirTransaction) {
  FakeHandler handler;
  handler.tcp = [](std::uint8_t unit, const Bytes& pdu) {
    return slave::TcpReply{read_reply(pdu), 0, static_cast<std::uint8_t>(unit + 1)};
  };
  slave::TcpLink link(handler, "127.0.0.1", 0, slave::TcpLink::Framing::ModbusTcp);
  ASSERT_NE(link.port(), 0);
  EXPECT_NE(link.describe().find("Modbus TCP on 127.0.0.1:"), std::string::npos);

  auto client = connect_to(link.port());
  // Two requests in one segment: the link cuts them apart by the MBAP length.
  auto first = protocol::encode_mbap(0x1234, 1, hex("04 31 00 00 02"));
  auto second = protocol::encode_mbap(0xBEEF, 7, hex("03 90 00 00 01"));
  Bytes both = first;
  both.insert(both.end(), second.begin(), second.end());
  send_all(client.get(), both);

  auto reply = receive(client.get(), 7 + 6);
  ASSERT_EQ(reply.size(), 13U);
  auto header = protocol::decode_mbap_header(reply);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->transaction, 0x1234);
  EXPECT_EQ(header->unit, 2);
  EXPECT_EQ(Bytes(reply.begin() + 7, reply.end()), hex("04 04 12 34 12 33"));

  reply = receive(client.get(), 7 + 4);
  ASSERT_EQ(reply.size(), 11U);
  header = protocol::decode_mbap_header(reply);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->transaction, 0xBEEF);
  EXPECT_EQ(header->unit, 8);
  EXPECT_EQ(Bytes(reply.begin() + 7, reply.end()), hex("03 02 12 34"));

  auto requests = handler.tcp_requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].unit, 1);
  EXPECT_EQ(requests[0].pdu, hex("04 31 00 00 02"));
  EXPECT_EQ(requests[1].unit, 7);
  EXPECT_EQ(requests[1].pdu, hex("03 90 00 00 01"));
}

TEST(SlaveLinks, ModbusTcpReplyWaitsForTheRtuLineBehindIt) {
  FakeHandler handler;
  handler.byte_ms = 2;
  handler.tcp = [](std::uint8_t unit, const Bytes& pdu) {
    return slave::TcpReply{read_reply(pdu), 30, unit};
  };
  slave::TcpLink link(handler, "127.0.0.1", 0, slave::TcpLink::Framing::ModbusTcp);
  auto client = connect_to(link.port());
  auto sent = Clock::now();
  send_all(client.get(), protocol::encode_mbap(5, 1, hex("04 31 00 00 01")));
  auto reply = receive(client.get(), 7 + 4);
  ASSERT_EQ(reply.size(), 11U);
  // Request and reply cross the line with address and CRC (8 and 7 bytes), the turnaround
  // between them: never earlier.
  EXPECT_GE(ms_since(sent), (8 + 7) * 2.0 + 30);
}

TEST(SlaveLinks, ModbusTcpClientWithABadHeaderIsClosed) {
  FakeHandler handler;
  slave::TcpLink link(handler, "127.0.0.1", 0, slave::TcpLink::Framing::ModbusTcp);
  auto client = connect_to(link.port());
  send_all(client.get(), hex("00 01 00 01 00 06 01 04 31 00 00 01"));  // protocol 1
  EXPECT_TRUE(hangs_up(client.get()));
  EXPECT_TRUE(handler.tcp_requests().empty());
}

TEST(SlaveLinks, RtuOverTcpFramesReachTheHandlerAndRepliesArePaced) {
  FakeHandler handler;
  handler.byte_ms = 1;
  handler.rtu = [](const Bytes& frame) {
    auto pdu = Bytes(frame.begin() + 1, frame.end() - 2);
    return slave::Transmission{protocol::encode_rtu(frame[0], read_reply(pdu)), 20};
  };
  slave::TcpLink link(handler, "127.0.0.1", 0, slave::TcpLink::Framing::Rtu);
  EXPECT_NE(link.describe().find("RTU over TCP on 127.0.0.1:"), std::string::npos);
  auto client = connect_to(link.port());

  // Noise before the frame is dropped; the frame reaches the handler whole.
  auto frame = protocol::encode_rtu(3, hex("04 31 00 00 02"));
  Bytes noisy = hex("FF 00");
  noisy.insert(noisy.end(), frame.begin(), frame.end());
  auto sent = Clock::now();
  send_all(client.get(), noisy);
  auto expected = protocol::encode_rtu(3, hex("04 04 12 34 12 33"));
  EXPECT_EQ(receive(client.get(), expected.size()), expected);
  // The request's wire time, the turnaround, then the reply a character at a time.
  EXPECT_GE(ms_since(sent), static_cast<double>(frame.size() + expected.size()) + 20);
  ASSERT_TRUE(handler.wait_rtu_frames(1));
  EXPECT_EQ(handler.rtu_frames()[0], frame);

  // The next request on the same connection is served the same way.
  auto again = protocol::encode_rtu(4, hex("03 90 00 00 01"));
  send_all(client.get(), again);
  expected = protocol::encode_rtu(4, hex("03 02 12 34"));
  EXPECT_EQ(receive(client.get(), expected.size()), expected);
  ASSERT_EQ(handler.rtu_frames().size(), 2U);
  EXPECT_EQ(handler.rtu_frames()[1], again);
  EXPECT_EQ(handler.undelivered(), 0);
}

TEST(SlaveLinks, RtuOverTcpReplyToAClientThatLeftIsReported) {
  FakeHandler handler;
  std::mutex mutex;
  std::condition_variable changed;
  bool arrived = false, gone = false;
  handler.rtu = [&](const Bytes& frame) {
    std::unique_lock lock(mutex);
    arrived = true;
    changed.notify_all();
    changed.wait_for(lock, k_deadline, [&] { return gone; });
    // More than any socket buffer holds: writing it to a reset connection fails for sure.
    return slave::Transmission{Bytes(8U << 20U, frame[0]), 0};
  };
  slave::TcpLink link(handler, "127.0.0.1", 0, slave::TcpLink::Framing::Rtu);
  {
    auto client = connect_to(link.port());
    send_all(client.get(), protocol::encode_rtu(1, hex("04 31 00 00 01")));
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, k_deadline, [&] { return arrived; }));
    linger reset{1, 0};  // close with a reset: the link's next write fails
    ::setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  }
  {
    std::lock_guard lock(mutex);
    gone = true;
  }
  changed.notify_all();
  EXPECT_TRUE(handler.wait_undelivered(1));
}

TEST(SlaveLinks, PtyDeliversFramedRequestsAndTheReply) {
  test::TempDir dir;
  FakeHandler handler;
  handler.rtu = [](const Bytes& frame) {
    auto pdu = Bytes(frame.begin() + 1, frame.end() - 2);
    return slave::Transmission{protocol::encode_rtu(frame[0], read_reply(pdu)), 1};
  };
  slave::PtyLink link(handler, dir.path() / "tty");
  ASSERT_TRUE(std::filesystem::is_symlink(dir.path() / "tty"));
  EXPECT_NE(link.describe().find("/dev/pts/"), std::string::npos);
  auto port = open_pty(dir.path() / "tty");

  auto frame = protocol::encode_rtu(1, hex("04 31 00 00 03"));
  send_all(port.get(), frame);
  auto expected = protocol::encode_rtu(1, hex("04 06 12 34 12 33 12 32"));
  EXPECT_EQ(receive(port.get(), expected.size()), expected);
  ASSERT_TRUE(handler.wait_rtu_frames(1));
  EXPECT_EQ(handler.rtu_frames()[0], frame);
}

TEST(SlaveLinks, PtyUnpluggedByTheHandlerComesBackUnderTheSameName) {
  test::TempDir dir;
  FakeHandler handler;
  std::atomic<int> frames{0};
  handler.rtu = [&](const Bytes& frame) {
    if (frames++ == 0) return slave::Transmission{{}, 0, true, 50};
    auto pdu = Bytes(frame.begin() + 1, frame.end() - 2);
    return slave::Transmission{protocol::encode_rtu(frame[0], read_reply(pdu)), 0};
  };
  auto path = dir.path() / "tty";
  slave::PtyLink link(handler, path);
  {
    auto port = open_pty(path);
    send_all(port.get(), protocol::encode_rtu(1, hex("04 31 00 00 01")));
    ASSERT_TRUE(hangs_up(port.get()));  // the adapter is gone
  }
  // It comes back as a new pty behind the same symlink.
  auto until = Clock::now() + k_deadline;
  while (!std::filesystem::is_symlink(path) && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(std::filesystem::is_symlink(path));
  auto port = open_pty(path);
  send_all(port.get(), protocol::encode_rtu(1, hex("04 31 00 00 01")));
  auto expected = protocol::encode_rtu(1, hex("04 02 12 34"));
  EXPECT_EQ(receive(port.get(), expected.size()), expected);
  EXPECT_EQ(frames.load(), 2);
}

TEST(SlaveLinks, PtyRefusesToReplaceARegularFile) {
  test::TempDir dir;
  FakeHandler handler;
  auto path = dir.path() / "tty";
  { std::ofstream(path) << "mine"; }
  EXPECT_THROW(slave::PtyLink(handler, path), std::runtime_error);
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
}
