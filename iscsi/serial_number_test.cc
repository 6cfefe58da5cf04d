#include "iscsi/serial_number.h"

#include <gtest/gtest.h>

namespace isergw::iscsi {
namespace {

TEST(SerialNumberTest, OrdersWithinHalfTheSpace) {
  EXPECT_TRUE(sn_lt(1, 2));
  EXPECT_TRUE(sn_gt(2, 1));
  EXPECT_FALSE(sn_lt(2, 2));
  EXPECT_TRUE(sn_le(2, 2));
  EXPECT_TRUE(sn_ge(2, 2));
  EXPECT_TRUE(sn_lt(0, 0x7fffffff));
}

TEST(SerialNumberTest, OrdersAcrossTheWrap) {
  EXPECT_TRUE(sn_lt(0xffffffff, 0));
  EXPECT_TRUE(sn_gt(0, 0xffffffff));
  EXPECT_TRUE(sn_lt(0xfffffff0, 0x10));
  EXPECT_FALSE(sn_gt(0xfffffff0, 0x10));
  EXPECT_TRUE(sn_lt(0x80000001, 0));  // 0x7fffffff forward
}

// RFC 1982 §3.2: numbers 2^31 apart are not comparable.
TEST(SerialNumberTest, HalfwayApartIsUnordered) {
  EXPECT_FALSE(sn_lt(0, 0x80000000));
  EXPECT_FALSE(sn_gt(0, 0x80000000));
  EXPECT_FALSE(sn_le(0, 0x80000000));
  EXPECT_FALSE(sn_ge(0, 0x80000000));
  EXPECT_FALSE(SerialNumber(0) == SerialNumber(0x80000000));
  EXPECT_TRUE((SerialNumber(5) <=> SerialNumber(0x80000005)) == std::partial_ordering::unordered);
}

TEST(SerialNumberTest, AdditionWraps) {
  EXPECT_EQ((SerialNumber(0xffffffff) + 2).value(), 1u);
  EXPECT_EQ((SerialNumber(1) - 2).value(), 0xffffffffu);
  EXPECT_TRUE(SerialNumber(0xffffffff) < SerialNumber(0xffffffff) + 1);
}

TEST(CmdSnWindowTest, AdmitsCommandsBetweenExpCmdSnAndMaxCmdSn) {
  EXPECT_TRUE(is_cmd_sn_in_window(10, 10, 20));
  EXPECT_TRUE(is_cmd_sn_in_window(20, 10, 20));
  EXPECT_FALSE(is_cmd_sn_in_window(9, 10, 20));
  EXPECT_FALSE(is_cmd_sn_in_window(21, 10, 20));
}

TEST(CmdSnWindowTest, AdmitsAcrossTheWrap) {
  EXPECT_TRUE(is_cmd_sn_in_window(0xfffffffe, 0xfffffffe, 5));
  EXPECT_TRUE(is_cmd_sn_in_window(0, 0xfffffffe, 5));
  EXPECT_TRUE(is_cmd_sn_in_window(5, 0xfffffffe, 5));
  EXPECT_FALSE(is_cmd_sn_in_window(6, 0xfffffffe, 5));
  EXPECT_FALSE(is_cmd_sn_in_window(0xfffffffd, 0xfffffffe, 5));
}

// §4.2.2.1: MaxCmdSN = ExpCmdSN - 1 closes the window.
TEST(CmdSnWindowTest, ClosedWindowAdmitsNothing) {
  EXPECT_TRUE(is_cmd_sn_window_closed(10, 9));
  EXPECT_TRUE(is_cmd_sn_window_closed(0, 0xffffffff));
  EXPECT_FALSE(is_cmd_sn_in_window(10, 10, 9));
  EXPECT_FALSE(is_cmd_sn_in_window(9, 10, 9));
  EXPECT_FALSE(is_cmd_sn_window_closed(10, 10));
  EXPECT_TRUE(is_cmd_sn_in_window(10, 10, 10));  // a window of one
}

// §4.2.2.1: MaxCmdSN < ExpCmdSN - 1 is invalid and must be ignored.
TEST(CmdSnWindowTest, MaxBelowExpMinusOneIsInvalid) {
  EXPECT_FALSE(is_valid_cmd_sn_window(10, 8));
  EXPECT_TRUE(is_valid_cmd_sn_window(10, 9));
  EXPECT_TRUE(is_valid_cmd_sn_window(10, 10));
  EXPECT_FALSE(is_valid_cmd_sn_window(1, 0xfffffffe));
  EXPECT_FALSE(is_cmd_sn_in_window(8, 10, 8));
}

}  // namespace
}  // namespace isergw::iscsi
