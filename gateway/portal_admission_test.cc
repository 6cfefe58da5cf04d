#include "gateway/portal_admission.h"

#include <gtest/gtest.h>

namespace isergw::gateway {
namespace {

TEST(PortalAdmissionTest, LoginsInProgressAreLimitedApartFromSessions) {
  auto load = std::make_shared<PortalLoad>();
  auto first = PortalAdmission::admit(load, 3, 1);
  ASSERT_NE(first, nullptr);
  // One login in progress is all the portal takes...
  EXPECT_EQ(PortalAdmission::admit(load, 3, 1), nullptr);
  EXPECT_EQ(load->refused, 1U);
  // ...until it completes.
  first->logged_in();
  first->logged_in();  // once only
  EXPECT_EQ(load->logging_in, 0U);
  auto second = PortalAdmission::admit(load, 3, 1);
  ASSERT_NE(second, nullptr);
  second->logged_in();
  auto third = PortalAdmission::admit(load, 3, 1);
  ASSERT_NE(third, nullptr);
  // Three connections are the limit, logged in or not.
  third->logged_in();
  EXPECT_EQ(PortalAdmission::admit(load, 3, 1), nullptr);
  EXPECT_EQ(load->refused, 2U);
  // A connection that ends gives its place back, and one that ends before
  // its login gives back both.
  second.reset();
  auto fourth = PortalAdmission::admit(load, 3, 1);
  ASSERT_NE(fourth, nullptr);
  fourth.reset();
  EXPECT_EQ(load->connections, 2U);
  EXPECT_EQ(load->logging_in, 0U);
}

}  // namespace
}  // namespace isergw::gateway
