#include "iscsi/send_targets.h"

#include <gtest/gtest.h>

namespace isergw::iscsi {
namespace {

const std::vector<DiscoveredTarget> kTargets = {
    {"iqn.2024-01.org.isergw:disk1", {{"10.0.0.1", 3260, 1}, {"fe80::1", 3261, 2}}},
    {"iqn.2024-01.org.isergw:disk2", {{"gw.example.org", 3260, 1}}},
};

TEST(SendTargets, AllInDiscoverySession) {
  const KeyList keys = send_targets_response("All", SessionType::kDiscovery, "", kTargets);
  EXPECT_EQ(keys, (KeyList{{"TargetName", "iqn.2024-01.org.isergw:disk1"},
                           {"TargetAddress", "10.0.0.1:3260,1"},
                           {"TargetAddress", "[fe80::1]:3261,2"},
                           {"TargetName", "iqn.2024-01.org.isergw:disk2"},
                           {"TargetAddress", "gw.example.org:3260,1"}}));
  // The text parses back with repeats allowed, and reads back as the list.
  auto parsed = parse_text_keys(build_text_keys(keys), {.allow_repeated_send_targets_keys = true});
  ASSERT_TRUE(parsed);
  auto targets = parse_send_targets_response(*parsed);
  ASSERT_TRUE(targets) << targets.error().message();
  EXPECT_EQ(*targets, kTargets);
}

TEST(SendTargets, AllInNormalSessionIsRejected) {
  EXPECT_EQ(
      send_targets_response("All", SessionType::kNormal, "iqn.2024-01.org.isergw:disk1", kTargets),
      (KeyList{{"SendTargets", "Reject"}}));
  auto parsed = parse_send_targets_response({{"SendTargets", "Reject"}});
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().key, "SendTargets");
}

TEST(SendTargets, NamedAndCurrentTarget) {
  EXPECT_EQ(
      send_targets_response("iqn.2024-01.org.isergw:disk2", SessionType::kDiscovery, "", kTargets),
      (KeyList{{"TargetName", "iqn.2024-01.org.isergw:disk2"},
               {"TargetAddress", "gw.example.org:3260,1"}}));
  EXPECT_EQ(
      send_targets_response("", SessionType::kNormal, "iqn.2024-01.org.isergw:disk2", kTargets)
          .size(),
      2u);
  EXPECT_TRUE(send_targets_response("iqn.none", SessionType::kDiscovery, "", kTargets).empty());
  EXPECT_TRUE(send_targets_response("All", SessionType::kDiscovery, "", {}).empty());
}

TEST(TargetAddress, Forms) {
  EXPECT_EQ(*parse_target_address("10.0.0.1"), (TargetPortal{"10.0.0.1", 3260, 1}));
  EXPECT_EQ(*parse_target_address("10.0.0.1:3261"), (TargetPortal{"10.0.0.1", 3261, 1}));
  EXPECT_EQ(*parse_target_address("10.0.0.1:3261,7"), (TargetPortal{"10.0.0.1", 3261, 7}));
  EXPECT_EQ(*parse_target_address("host.example,9"), (TargetPortal{"host.example", 3260, 9}));
  EXPECT_EQ(*parse_target_address("[fe80::1]"), (TargetPortal{"fe80::1", 3260, 1}));
  EXPECT_EQ(*parse_target_address("[fe80::1]:3262,65535"), (TargetPortal{"fe80::1", 3262, 65535}));
  EXPECT_EQ(format_target_address({"fe80::1", 3262, 4}), "[fe80::1]:3262,4");
}

TEST(TargetAddress, Errors) {
  for (const char* bad : {"", ",1", ":3260", "10.0.0.1:", "10.0.0.1:x", "10.0.0.1:65536",
                          "10.0.0.1,", "10.0.0.1,70000", "10.0.0.1,-1", "[fe80::1", "[fe80::1]x",
                          "[fe80::1]:", "fe80::1:3260", "[]:3260"}) {
    auto portal = parse_target_address(bad);
    ASSERT_FALSE(portal) << bad;
    EXPECT_EQ(portal.error().key, "TargetAddress");
    EXPECT_FALSE(portal.error().rule.empty());
  }
}

TEST(SendTargets, ResponseErrors) {
  auto orphan = parse_send_targets_response({{"TargetAddress", "10.0.0.1:3260,1"}});
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().message(),
            "SendTargets key 'TargetAddress'='10.0.0.1:3260,1': TargetAddress before any "
            "TargetName");
  EXPECT_FALSE(parse_send_targets_response({{"TargetName", ""}}));
  EXPECT_FALSE(
      parse_send_targets_response({{"TargetName", "iqn.a"}, {"TargetAddress", "10.0.0.1:x"}}));
  auto with_alias = parse_send_targets_response(
      {{"TargetName", "iqn.a"}, {"TargetAlias", "a"}, {"TargetAddress", "h"}});
  ASSERT_TRUE(with_alias);
  EXPECT_EQ((*with_alias)[0].portals.size(), 1u);
}

}  // namespace
}  // namespace isergw::iscsi
