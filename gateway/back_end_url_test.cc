#include "gateway/back_end_url.h"

#include <gtest/gtest.h>

namespace isergw::gateway {
namespace {

std::string error_of(std::string_view url) {
  const auto parsed = parse_back_end_url(url);
  return parsed ? "accepted" : parsed.error();
}

TEST(BackEndUrl, ParsesIscsiUrlsInLibiscsiForm) {
  const auto url = parse_back_end_url("iscsi://10.0.0.5/iqn.2026-01.com.example:disk");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->kind, BackEndKind::kIscsi);
  EXPECT_EQ(url->portal.transport, Transport::kTcp);
  EXPECT_EQ(url->portal.host_port(), "10.0.0.5:3260");
  EXPECT_EQ(url->target_name, "iqn.2026-01.com.example:disk");
  EXPECT_TRUE(url->chap_user.empty());
}

TEST(BackEndUrl, TakesChapCredentialsAndHidesTheSecret) {
  const auto url =
      parse_back_end_url("iscsi://gw%s3cret-pass@[fd00::5]:3261/iqn.2026-01.com.example:disk");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->chap_user, "gw");
  EXPECT_EQ(url->chap_secret, "s3cret-pass");
  EXPECT_EQ(url->portal.host, "fd00::5");
  EXPECT_EQ(url->portal.port, 3261);
  EXPECT_EQ(url->redacted(), "iscsi://gw%***@[fd00::5]:3261/iqn.2026-01.com.example:disk");
}

TEST(BackEndUrl, ParsesIserUrls) {
  const auto url = parse_back_end_url("iser://192.168.77.2/iqn.2026-01.com.example:array");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->kind, BackEndKind::kIser);
  EXPECT_EQ(url->portal.transport, Transport::kIser);
}

TEST(BackEndUrl, ParsesBuiltInSizes) {
  struct Case {
    std::string_view url;
    BackEndKind kind;
    uint64_t bytes;
  };
  for (const Case& c : {Case{"ram://256M", BackEndKind::kRam, 256ULL << 20},
                        Case{"ram://1G", BackEndKind::kRam, 1ULL << 30},
                        Case{"null://2TiB", BackEndKind::kNull, 2ULL << 40},
                        Case{"ram://4096", BackEndKind::kRam, 4096},
                        Case{"ram://64K", BackEndKind::kRam, 64 << 10}}) {
    const auto url = parse_back_end_url(c.url);
    ASSERT_TRUE(url) << c.url << ": " << url.error();
    EXPECT_EQ(url->kind, c.kind) << c.url;
    EXPECT_EQ(url->size_bytes, c.bytes) << c.url;
  }
}

TEST(BackEndUrl, ExplainsWhatIsWrong) {
  EXPECT_NE(error_of("nfs://host/export").find("must start with"), std::string::npos);
  EXPECT_NE(error_of("10.0.0.5/iqn.2026-01.com.example:disk").find("must start with"),
            std::string::npos);
  EXPECT_NE(error_of("iscsi://10.0.0.5").find("names no target"), std::string::npos);
  EXPECT_NE(error_of("iscsi://10.0.0.5/iqn.2026-01.com.example:disk/0").find("names a LUN"),
            std::string::npos);
  EXPECT_NE(error_of("iscsi://10.0.0.5/disk0").find("iqn."), std::string::npos);
  EXPECT_NE(error_of("iscsi://gw@10.0.0.5/iqn.2026-01.com.example:d").find("user%secret"),
            std::string::npos);
  EXPECT_NE(error_of("iscsi://10.0.0.5:99999/iqn.2026-01.com.example:d").find("65535"),
            std::string::npos);
  // The built-in back end's own parser words its errors (backend_url_test);
  // they reach the admin unchanged.
  EXPECT_NE(error_of("ram://12Q").find("'Q'"), std::string::npos);
  EXPECT_NE(error_of("null://0"), "accepted");
}

// The API, the log and isergwctl show a built-in back end's size as an
// admin writes it.
TEST(BackEndUrl, ABuiltInSizeIsShownInItsLargestExactUnit) {
  EXPECT_EQ(parse_back_end_url("ram://1G")->redacted(), "ram://1G");
  EXPECT_EQ(parse_back_end_url("ram://1073741824")->redacted(), "ram://1G");
  EXPECT_EQ(parse_back_end_url("null://1536K")->redacted(), "null://1536K");
  EXPECT_EQ(parse_back_end_url("ram://4T")->redacted(), "ram://4T");
  EXPECT_EQ(parse_back_end_url("ram://512")->redacted(), "ram://512");
  EXPECT_EQ(size_text(3 * 512), "1536");
}

}  // namespace
}  // namespace isergw::gateway
