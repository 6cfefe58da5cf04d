#include "iscsi/keys.h"

#include <gtest/gtest.h>

#include "iscsi/text_keys.h"

namespace isergw::iscsi {
namespace {

TEST(Keys, EveryRfc7143OperationalKeyIsDefined) {
  for (auto name : {"HeaderDigest",
                    "DataDigest",
                    "MaxConnections",
                    "SendTargets",
                    "TargetName",
                    "InitiatorName",
                    "TargetAlias",
                    "InitiatorAlias",
                    "TargetAddress",
                    "TargetPortalGroupTag",
                    "InitialR2T",
                    "ImmediateData",
                    "MaxRecvDataSegmentLength",
                    "MaxBurstLength",
                    "FirstBurstLength",
                    "DefaultTime2Wait",
                    "DefaultTime2Retain",
                    "MaxOutstandingR2T",
                    "DataPDUInOrder",
                    "DataSequenceInOrder",
                    "ErrorRecoveryLevel",
                    "SessionType",
                    "AuthMethod",
                    "TaskReporting",
                    "iSCSIProtocolLevel",
                    "RDMAExtensions",
                    "InitiatorRecvDataSegmentLength",
                    "TargetRecvDataSegmentLength",
                    "MaxOutstandingUnexpectedPDUs"}) {
    EXPECT_NE(find_key_definition(name), nullptr) << name;
  }
  EXPECT_EQ(find_key_definition("X-com.example.Foo"), nullptr);
  EXPECT_EQ(find_key_definition("maxburstlength"), nullptr);
}

TEST(Keys, TableIsConsistent) {
  for (const auto& def : key_definitions()) {
    EXPECT_FALSE(check_key_name(def.name).has_value()) << def.name;
    EXPECT_LE(def.min, def.max) << def.name;
    if (def.max != 0 && !def.default_value.empty()) {
      const auto value = parse_numerical(def.default_value);
      ASSERT_TRUE(value) << def.name;
      EXPECT_GE(*value, def.min) << def.name;
      EXPECT_LE(*value, def.max) << def.name;
    }
    if (def.type == KeyType::kBooleanAnd || def.type == KeyType::kBooleanOr) {
      EXPECT_TRUE(parse_boolean(def.default_value)) << def.name;
    }
    if (def.type == KeyType::kList) {
      EXPECT_NE(def.legal_values.find(def.default_value), std::string_view::npos) << def.name;
    }
  }
}

TEST(Keys, Rfc7143Definitions) {
  const auto* mbl = find_key_definition("MaxBurstLength");
  EXPECT_EQ(mbl->type, KeyType::kNumericalMin);
  EXPECT_EQ(mbl->scope, KeyScope::kSession);
  EXPECT_EQ(mbl->use, KeyUse::kLeadingOnly);
  EXPECT_EQ(mbl->min, 512u);
  EXPECT_EQ(mbl->max, 16777215u);
  EXPECT_EQ(mbl->default_value, "262144");
  EXPECT_EQ(find_key_definition("FirstBurstLength")->default_value, "65536");
  EXPECT_EQ(find_key_definition("DefaultTime2Wait")->type, KeyType::kNumericalMax);
  EXPECT_EQ(find_key_definition("InitialR2T")->type, KeyType::kBooleanOr);
  EXPECT_EQ(find_key_definition("ImmediateData")->type, KeyType::kBooleanAnd);
  EXPECT_EQ(find_key_definition("MaxRecvDataSegmentLength")->type, KeyType::kDeclarative);
  EXPECT_EQ(find_key_definition("MaxRecvDataSegmentLength")->scope, KeyScope::kConnection);
  EXPECT_EQ(find_key_definition("ErrorRecoveryLevel")->max, 2u);
  EXPECT_EQ(find_key_definition("InitiatorName")->senders, KeySenders::kInitiator);
  EXPECT_TRUE(find_key_definition("InitiatorName")->any_stage);
  EXPECT_EQ(find_key_definition("TargetAlias")->senders, KeySenders::kTarget);
  EXPECT_EQ(find_key_definition("SendTargets")->use, KeyUse::kFullFeatureOnly);
  EXPECT_EQ(find_key_definition("AuthMethod")->use, KeyUse::kSecurity);
  EXPECT_EQ(find_key_definition("RDMAExtensions")->default_value, "No");
  EXPECT_TRUE(find_key_definition("TargetRecvDataSegmentLength")->iser_only);
}

TEST(Keys, ExtensionAndChapKeys) {
  EXPECT_TRUE(is_extension_key("X-com.example.Foo"));
  EXPECT_TRUE(is_extension_key("X#Registered"));
  EXPECT_FALSE(is_extension_key("X-"));
  EXPECT_FALSE(is_extension_key("XFoo"));
  EXPECT_TRUE(is_chap_key("CHAP_A"));
  EXPECT_FALSE(is_chap_key("AuthMethod"));
}

TEST(Keys, ParseNumerical) {
  EXPECT_EQ(parse_numerical("0"), 0u);
  EXPECT_EQ(parse_numerical("262144"), 262144u);
  EXPECT_EQ(parse_numerical("0x40000"), 262144u);
  EXPECT_EQ(parse_numerical("0X1f"), 31u);
  EXPECT_EQ(parse_numerical("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(parse_numerical("18446744073709551616"));
  EXPECT_FALSE(parse_numerical("0x10000000000000000"));
  EXPECT_FALSE(parse_numerical(""));
  EXPECT_FALSE(parse_numerical("0x"));
  EXPECT_FALSE(parse_numerical("-1"));
  EXPECT_FALSE(parse_numerical("12a"));
  EXPECT_FALSE(parse_numerical(" 1"));
}

TEST(Keys, ParseBoolean) {
  EXPECT_EQ(parse_boolean("Yes"), true);
  EXPECT_EQ(parse_boolean("No"), false);
  EXPECT_FALSE(parse_boolean("yes"));
  EXPECT_FALSE(parse_boolean(""));
  EXPECT_EQ(boolean_text(true), "Yes");
  EXPECT_EQ(boolean_text(false), "No");
}

}  // namespace
}  // namespace isergw::iscsi
