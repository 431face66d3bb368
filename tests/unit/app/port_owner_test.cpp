// Who holds a TCP port (issue 12, item 7): the message of a second daemon names the first.

#include "web/port_owner.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/unique_fd.hpp"

namespace tracermon::web {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// /proc/net/tcp as Linux writes it: port 0x1F90 = 8080 listening (0A) twice, once connected.
constexpr std::string_view k_table =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 "
    "4242 1 0000000000000000 100 0 0 10 0\n"
    "   1: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 "
    "4343 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0100007F:1F90 0100007F:A000 01 00000000:00000000 00:00000000 00000000  1000        0 "
    "4444 1 0000000000000000 100 0 0 10 0\n"
    "   3: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 "
    "4545 1 0000000000000000 100 0 0 10 0\n";

TEST(PortOwner, ListeningInodesOfAPortFromProcNetTcp) {
  EXPECT_THAT(listening_inodes(k_table, 8080), ElementsAre(4242U, 4545U));
  EXPECT_THAT(listening_inodes(k_table, 8081), ElementsAre(4343U));
  EXPECT_TRUE(listening_inodes(k_table, 80).empty());
  EXPECT_TRUE(listening_inodes("", 8080).empty());
  EXPECT_TRUE(listening_inodes("garbage\n\n 0: x", 8080).empty());
}

TEST(PortOwner, FindsThisProcessListeningOnLoopback) {
  core::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(fd.get(), 1), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  auto owner = tcp_port_owner(ntohs(address.sin_port));
  ASSERT_TRUE(owner.has_value());
  EXPECT_THAT(*owner, HasSubstr("pid " + std::to_string(::getpid()) + " ("));
}

}  // namespace
}  // namespace tracermon::web
