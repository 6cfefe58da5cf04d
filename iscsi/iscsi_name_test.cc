#include "iscsi/iscsi_name.h"

#include <gtest/gtest.h>

#include <string>

namespace isergw::iscsi {
namespace {

TEST(IscsiName, AcceptsTheThreeFormats) {
  EXPECT_TRUE(validate_iscsi_name("iqn.2026-11.io.isergw:ram0"));
  EXPECT_TRUE(validate_iscsi_name("iqn.1993-08.org.debian:01:abcdef"));
  EXPECT_TRUE(validate_iscsi_name("eui.02004567a425678d"));
  EXPECT_TRUE(validate_iscsi_name("naa.52004567ba64678d"));
  EXPECT_TRUE(validate_iscsi_name("naa.62004567ba64678d0123456789abcdef"));
}

TEST(IscsiName, SaysWhichRuleIsBroken) {
  auto check = [](std::string_view name, std::string_view rule) {
    const auto result = validate_iscsi_name(name);
    ASSERT_FALSE(result) << name;
    EXPECT_NE(result.error().find(rule), std::string::npos) << result.error();
  };
  check("", "empty");
  check("iqn.2026-11.io.Isergw", "upper-case");
  check("iqn.2026-11.io.isergw/x", "'/'");
  check("target0", "must start with");
  check("iqn.26-11.io.isergw", "date");
  check("iqn.2026-13.io.isergw", "month 13");
  check("iqn.2026-11.", "naming authority");
  check("iqn.2026-11:x", "date");
  check("eui.02004567a42567", "16 hex");
  check("naa.52004567ba64678g", "hex");
  check("iqn.2026-11.io.x:" + std::string(220, 'a'), "limit is 223");
}

}  // namespace
}  // namespace isergw::iscsi
