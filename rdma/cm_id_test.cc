// Addresses as text, as logs, the per-source login limit and SendTargets use
// them: no RDMA device needed.
#include "rdma/cm_id.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/un.h>

namespace isergw::rdma {
namespace {

const sockaddr* as_sockaddr(const SocketAddress& address) {
  return reinterpret_cast<const sockaddr*>(&address.storage);
}

TEST(AddressTextTest, IPv4WithAndWithoutItsPort) {
  auto address = SocketAddress::parse("192.0.2.17", 3260);
  ASSERT_TRUE(address);
  EXPECT_EQ(address_text(as_sockaddr(*address), true), "192.0.2.17:3260");
  EXPECT_EQ(address_text(as_sockaddr(*address), false), "192.0.2.17");
  EXPECT_EQ(address->to_string(), "192.0.2.17:3260");
}

TEST(AddressTextTest, IPv6IsBracketedOnlyWhenAPortFollows) {
  auto address = SocketAddress::parse("2001:db8::5", 860);
  ASSERT_TRUE(address);
  EXPECT_EQ(address_text(as_sockaddr(*address), true), "[2001:db8::5]:860");
  EXPECT_EQ(address_text(as_sockaddr(*address), false), "2001:db8::5");
  EXPECT_EQ(address->to_string(), "[2001:db8::5]:860");
  // An IPv4-mapped address stays IPv6: it is what the CM reports for an
  // IPv4 host reaching a wildcard IPv6 listener.
  address = SocketAddress::parse("::ffff:192.0.2.1", 3260);
  ASSERT_TRUE(address);
  EXPECT_EQ(address_text(as_sockaddr(*address), true), "[::ffff:192.0.2.1]:3260");
}

TEST(AddressTextTest, NoAddressOrAnotherFamilyIsEmpty) {
  EXPECT_EQ(address_text(nullptr, true), "");
  EXPECT_EQ(address_text(nullptr, false), "");
  sockaddr_un local{};
  local.sun_family = AF_UNIX;
  EXPECT_EQ(address_text(reinterpret_cast<const sockaddr*>(&local), true), "");
  EXPECT_EQ(address_text(reinterpret_cast<const sockaddr*>(&local), false), "");
  // A SocketAddress never filled in says so rather than print nothing.
  EXPECT_EQ(SocketAddress{}.to_string(), "(no address)");
}

}  // namespace
}  // namespace isergw::rdma
