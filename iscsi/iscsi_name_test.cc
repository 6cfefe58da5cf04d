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

TEST(IscsiName, PrintableEscapesWhatAPeerCouldHideInAName) {
  EXPECT_EQ(printable("iqn.2026-11.io.isergw:ram0"), "iqn.2026-11.io.isergw:ram0");
  EXPECT_EQ(printable("a\nb"), "a\\x0ab");
  EXPECT_EQ(printable("\xff\\"), "\\xff\\x5c");
  EXPECT_EQ(printable("RFC 7143 \xc2\xa7 11"), "RFC 7143 \xc2\xa7 11");       // '§' stays
  EXPECT_EQ(printable("\xc2\x85\xe0\x80\xaf"), "\\xc2\\x85\\xe0\\x80\\xaf");  // C1, overlong
  const auto result = validate_iscsi_name("iqn.2026-11.io.isergw:a\nforged");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().find('\n'), std::string::npos) << result.error();
}

}  // namespace
}  // namespace isergw::iscsi
