#include "gateway/portal_admission.h"

#include <gtest/gtest.h>

#include <vector>

namespace isergw::gateway {
namespace {

TEST(PortalAdmissionTest, LoginsInProgressAreLimitedApartFromSessions) {
  auto load = std::make_shared<PortalLoad>();
  auto first = PortalAdmission::admit(load, "", 3, 1);
  ASSERT_NE(first, nullptr);
  // One login in progress is all the portal takes...
  EXPECT_EQ(PortalAdmission::admit(load, "", 3, 1), nullptr);
  EXPECT_EQ(load->refused, 1U);
  // ...until it completes.
  first->logged_in();
  first->logged_in();  // once only
  EXPECT_EQ(load->logging_in, 0U);
  auto second = PortalAdmission::admit(load, "", 3, 1);
  ASSERT_NE(second, nullptr);
  second->logged_in();
  auto third = PortalAdmission::admit(load, "", 3, 1);
  ASSERT_NE(third, nullptr);
  // Three connections are the limit, logged in or not.
  third->logged_in();
  EXPECT_EQ(PortalAdmission::admit(load, "", 3, 1), nullptr);
  EXPECT_EQ(load->refused, 2U);
  // A connection that ends gives its place back, and one that ends before
  // its login gives back both.
  second.reset();
  auto fourth = PortalAdmission::admit(load, "", 3, 1);
  ASSERT_NE(fourth, nullptr);
  fourth.reset();
  EXPECT_EQ(load->connections, 2U);
  EXPECT_EQ(load->logging_in, 0U);
}

// One source's connections that never log in hold at most a quarter of
// the portal's logins in progress: the other hosts still get in (the
// probe's 64 idle connections once kept every login out for 15 s).
TEST(PortalAdmissionTest, OneSourceHoldsAQuarterOfTheLoginsInProgress) {
  auto load = std::make_shared<PortalLoad>();
  std::vector<std::shared_ptr<PortalAdmission>> idle;
  while (auto admitted = PortalAdmission::admit(load, "192.0.2.7", 100, 64))
    idle.push_back(std::move(admitted));
  EXPECT_EQ(idle.size(), 16U);
  auto other = PortalAdmission::admit(load, "192.0.2.8", 100, 64);
  ASSERT_NE(other, nullptr);
  // A login that completes, or a connection that ends, frees its source's place.
  idle.back()->logged_in();
  EXPECT_NE(PortalAdmission::admit(load, "192.0.2.7", 100, 64), nullptr);
  idle.clear();
  std::lock_guard lock(load->sources_mutex);
  EXPECT_EQ(load->logging_in_by_source.count("192.0.2.7"), 0U);
}

}  // namespace
}  // namespace isergw::gateway
