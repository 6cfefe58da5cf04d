#include "iscsi/login_target.h"

#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <memory>

namespace isergw::iscsi {
namespace {

constexpr LoginStage kSec = LoginStage::kSecurityNegotiation;
constexpr LoginStage kOp = LoginStage::kLoginOperationalNegotiation;
constexpr LoginStage kFfp = LoginStage::kFullFeaturePhase;

class OneTarget : public LoginPolicy {
 public:
  std::optional<TargetAccess> normal_session(std::string_view target,
                                             std::string_view) const override {
    if (target != "iqn.2024-01.org.isergw:disk1") return std::nullopt;
    return access;
  }
  std::optional<TargetAccess> discovery_session(std::string_view) const override {
    return TargetAccess{};
  }
  TargetAccess access;
};

// A request whose data segment it owns.
struct Request {
  LoginRequest header;
  std::vector<std::uint8_t> data;
  LoginRequest pdu() const {
    LoginRequest out = header;
    out.data = data;
    return out;
  }
};

Request request(LoginStage csg, bool transit, LoginStage nsg, const KeyList& keys) {
  Request r;
  r.header.csg = csg;
  r.header.transit = transit;
  r.header.nsg = nsg;
  r.header.isid = {0x00, 0x02, 0x3d, 0x00, 0x00, 0x07};
  r.header.itt = 0x7;
  r.header.cmd_sn = 0x10;
  r.data = build_text_keys(keys);
  return r;
}

KeyList keys_of(const OwnedLoginResponse& response) {
  auto keys = parse_text_keys(response.data);
  EXPECT_TRUE(keys);
  return keys ? *keys : KeyList{};
}

LoginTargetConfig config() {
  LoginTargetConfig c;
  c.new_tsih = 0x0042;
  c.portal_group_tag = 1;
  c.initial_stat_sn = 500;
  // Deterministic CHAP identifier and challenge: bytes 0x20, 0x21, ...
  auto next = std::make_shared<std::uint8_t>(0x20);
  c.random = [next](std::span<std::uint8_t> out) {
    for (auto& b : out)
      b = (*next)++;
    return true;
  };
  return c;
}

const KeyList kFirstKeys = {{"InitiatorName", "iqn.2005-03.org.open-iscsi:abcdef"},
                            {"InitiatorAlias", "host"},
                            {"TargetName", "iqn.2024-01.org.isergw:disk1"},
                            {"SessionType", "Normal"},
                            {"AuthMethod", "None"}};

// The operational keys of a Linux open-iscsi (iscsid) login over TCP, in its
// order (usr/login.c: fill_op_params_text, add_params_normal_session).
const KeyList kOpenIscsiOperational = {{"HeaderDigest", "None"},
                                       {"DataDigest", "None"},
                                       {"DefaultTime2Wait", "2"},
                                       {"DefaultTime2Retain", "0"},
                                       {"IFMarker", "No"},
                                       {"OFMarker", "No"},
                                       {"ErrorRecoveryLevel", "0"},
                                       {"InitialR2T", "No"},
                                       {"ImmediateData", "Yes"},
                                       {"MaxBurstLength", "16776192"},
                                       {"FirstBurstLength", "262144"},
                                       {"MaxOutstandingR2T", "1"},
                                       {"MaxConnections", "1"},
                                       {"DataPDUInOrder", "Yes"},
                                       {"DataSequenceInOrder", "Yes"},
                                       {"MaxRecvDataSegmentLength", "262144"}};

TEST(LoginTarget, OpenIscsiLoginWithoutAuthentication) {
  OneTarget policy;
  auto c = config();
  c.negotiation.initial_r2t = false;
  c.negotiation.max_burst_length = 1048576;
  c.negotiation.first_burst_length = 262144;
  LoginTarget target(c, policy);
  EXPECT_EQ(target.target_name(), "");

  auto first = target.on_request(request(kSec, true, kOp, kFirstKeys).pdu());
  EXPECT_EQ(first.header.status_class, LoginStatusClass::kSuccess);
  EXPECT_EQ(target.target_name(), "iqn.2024-01.org.isergw:disk1");
  EXPECT_TRUE(first.header.transit);
  EXPECT_EQ(first.header.csg, kSec);
  EXPECT_EQ(first.header.nsg, kOp);
  EXPECT_EQ(first.header.tsih, 0);
  EXPECT_EQ(first.header.stat_sn, 500u);
  EXPECT_EQ(first.header.exp_cmd_sn, 0x10u);
  EXPECT_EQ(first.header.max_cmd_sn, 0x10u + 31);
  EXPECT_EQ(first.header.itt, 0x7u);
  EXPECT_EQ(keys_of(first), (KeyList{{"TargetPortalGroupTag", "1"}, {"AuthMethod", "None"}}));
  EXPECT_EQ(target.state(), LoginTarget::State::kOperational);

  auto second = target.on_request(request(kOp, true, kFfp, kOpenIscsiOperational).pdu());
  EXPECT_TRUE(second.header.transit);
  EXPECT_EQ(second.header.csg, kOp);
  EXPECT_EQ(second.header.nsg, kFfp);
  EXPECT_EQ(second.header.tsih, 0x0042);
  EXPECT_EQ(second.header.stat_sn, 501u);
  EXPECT_EQ(keys_of(second), (KeyList{{"HeaderDigest", "None"},
                                      {"DataDigest", "None"},
                                      {"DefaultTime2Wait", "2"},
                                      {"DefaultTime2Retain", "0"},
                                      {"IFMarker", "No"},
                                      {"OFMarker", "No"},
                                      {"ErrorRecoveryLevel", "0"},
                                      {"InitialR2T", "No"},
                                      {"ImmediateData", "Yes"},
                                      {"MaxBurstLength", "1048576"},
                                      {"FirstBurstLength", "262144"},
                                      {"MaxOutstandingR2T", "1"},
                                      {"MaxConnections", "1"},
                                      {"DataPDUInOrder", "Yes"},
                                      {"DataSequenceInOrder", "Yes"},
                                      {"MaxRecvDataSegmentLength", "8192"}}));
  ASSERT_EQ(target.state(), LoginTarget::State::kFullFeature);
  const auto& result = *target.result();
  EXPECT_EQ(result.tsih, 0x0042);
  EXPECT_EQ(result.next_stat_sn, 502u);
  EXPECT_EQ(result.parameters.session.max_burst_length, 1048576u);
  EXPECT_EQ(result.parameters.session.default_time2retain, 0u);
  EXPECT_FALSE(result.parameters.session.initial_r2t);
  EXPECT_TRUE(result.parameters.session.immediate_data);
  EXPECT_EQ(result.parameters.session.initiator_alias, "host");
  EXPECT_EQ(result.parameters.connection.max_send_data_segment_length, 262144u);
}

TEST(LoginTarget, OpenIscsiIserLogin) {
  // An iSER login from the Linux initiator: no digests in the first
  // operational PDU, then the iSER keys (usr/login.c:
  // add_params_transport_specific).
  OneTarget policy;
  auto c = config();
  c.negotiation.rdma_extensions = true;
  c.negotiation.target_recv_data_segment_length = 8192;
  c.negotiation.initiator_recv_data_segment_length = 262144;
  LoginTarget target(c, policy);
  target.on_request(request(kSec, true, kOp, kFirstKeys).pdu());
  KeyList op(kOpenIscsiOperational.begin() + 2, kOpenIscsiOperational.end() - 1);
  op.push_back({"InitiatorRecvDataSegmentLength", "262144"});
  op.push_back({"TargetRecvDataSegmentLength", "262144"});
  op.push_back({"RDMAExtensions", "Yes"});
  auto response = target.on_request(request(kOp, true, kFfp, op).pdu());
  ASSERT_EQ(target.state(), LoginTarget::State::kFullFeature) << target.failure_reason();
  const auto keys = keys_of(response);
  EXPECT_EQ(*find_key(keys, "RDMAExtensions"), "Yes");
  EXPECT_EQ(*find_key(keys, "TargetRecvDataSegmentLength"), "8192");
  EXPECT_EQ(*find_key(keys, "InitiatorRecvDataSegmentLength"), "262144");
  EXPECT_EQ(find_key(keys, "MaxRecvDataSegmentLength"), nullptr);
  const auto& p = target.result()->parameters;
  EXPECT_TRUE(p.session.rdma_extensions);
  EXPECT_EQ(p.connection.max_send_data_segment_length, 262144u);
  EXPECT_EQ(p.connection.max_recv_data_segment_length, 8192u);
}

TEST(LoginTarget, LibiscsiLoginStraightToOperational) {
  // libiscsi without CHAP starts in the operational stage with every key in
  // one PDU (lib/login.c: iscsi_login_async).
  OneTarget policy;
  LoginTarget target(config(), policy);
  const KeyList keys = {{"InitiatorName", "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test"},
                        {"TargetName", "iqn.2024-01.org.isergw:disk1"},
                        {"SessionType", "Normal"},
                        {"HeaderDigest", "None,CRC32C"},
                        {"DataDigest", "None"},
                        {"InitialR2T", "No"},
                        {"ImmediateData", "Yes"},
                        {"MaxBurstLength", "262144"},
                        {"FirstBurstLength", "262144"},
                        {"DefaultTime2Wait", "2"},
                        {"DefaultTime2Retain", "0"},
                        {"MaxOutstandingR2T", "1"},
                        {"ErrorRecoveryLevel", "0"},
                        {"IFMarker", "No"},
                        {"OFMarker", "No"},
                        {"MaxConnections", "1"},
                        {"MaxRecvDataSegmentLength", "262144"},
                        {"DataPDUInOrder", "Yes"},
                        {"DataSequenceInOrder", "Yes"}};
  auto response = target.on_request(request(kOp, true, kFfp, keys).pdu());
  ASSERT_EQ(target.state(), LoginTarget::State::kFullFeature) << target.failure_reason();
  const auto answer = keys_of(response);
  EXPECT_EQ(answer[0], (TextKey{"TargetPortalGroupTag", "1"}));
  EXPECT_EQ(*find_key(answer, "HeaderDigest"), "None");
  // InitialR2T=No OR Yes (our default) gives Yes.
  EXPECT_EQ(*find_key(answer, "InitialR2T"), "Yes");
  EXPECT_EQ(*find_key(answer, "FirstBurstLength"), "65536");
}

TEST(LoginTarget, LibiscsiChapLogin) {
  // libiscsi with CHAP: AuthMethod with T=1, then CHAP_A=5 with T=0, then
  // CHAP_N/CHAP_R (upper-case hex) with T=1.
  OneTarget policy;
  policy.access.auth = AuthRequirement::kChap;
  policy.access.initiator_chap = {"user", "libiscsi-secret"};
  LoginTarget target(config(), policy);
  KeyList first(kFirstKeys.begin(), kFirstKeys.end() - 1);
  first.push_back({"AuthMethod", "CHAP,None"});
  auto r1 = target.on_request(request(kSec, true, kOp, first).pdu());
  EXPECT_FALSE(r1.header.transit);  // CHAP not done: stay in security
  EXPECT_EQ(*find_key(keys_of(r1), "AuthMethod"), "CHAP");
  auto r2 = target.on_request(request(kSec, false, kSec, {{"CHAP_A", "5"}}).pdu());
  const auto challenge = keys_of(r2);
  EXPECT_EQ(*find_key(challenge, "CHAP_A"), "5");
  EXPECT_EQ(*find_key(challenge, "CHAP_I"), "32");  // 0x20 from the test source
  const auto c = *decode_binary_value(*find_key(challenge, "CHAP_C"));
  EXPECT_EQ(c.size(), 16u);
  std::string upper = encode_hex(chap_response(ChapAlgorithm::kMd5, 32, "libiscsi-secret", c));
  for (std::size_t i = 2; i < upper.size(); ++i) {
    upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
  }
  auto r3 =
      target.on_request(request(kSec, true, kOp, {{"CHAP_N", "user"}, {"CHAP_R", upper}}).pdu());
  EXPECT_EQ(r3.header.status_class, LoginStatusClass::kSuccess) << target.failure_reason();
  EXPECT_TRUE(r3.header.transit);
  EXPECT_EQ(target.state(), LoginTarget::State::kOperational);
}

TEST(LoginTarget, ContinuedRequestSplitMidKey) {
  OneTarget policy;
  LoginTarget target(config(), policy);
  const auto whole = build_text_keys(kFirstKeys);
  Request part1 = request(kSec, false, kSec, {});
  part1.header.continues = true;
  part1.data.assign(whole.begin(), whole.begin() + 20);  // inside "iqn..."
  auto ack = target.on_request(part1.pdu());
  EXPECT_EQ(ack.header.status_class, LoginStatusClass::kSuccess);
  EXPECT_TRUE(ack.data.empty());
  EXPECT_FALSE(ack.header.transit);
  Request part2 = request(kSec, true, kOp, {});
  part2.data.assign(whole.begin() + 20, whole.end());
  auto response = target.on_request(part2.pdu());
  EXPECT_TRUE(response.header.transit) << target.failure_reason();
  EXPECT_EQ(target.state(), LoginTarget::State::kOperational);
}

TEST(LoginTarget, LongResponseGoesOutInContinuedPieces) {
  OneTarget policy;
  LoginTarget target(config(), policy);
  target.on_request(request(kSec, true, kOp, kFirstKeys).pdu());
  // 40 unknown keys of ~250 bytes each draw 40 NotUnderstood answers; with
  // long names the answer exceeds 8192 bytes.
  KeyList keys;
  for (int i = 0; i < 200; ++i) {
    keys.push_back({"X-com.example.key-number-" + std::to_string(i) + std::string(30, 'k'), "1"});
  }
  auto first = target.on_request(request(kOp, true, kFfp, keys).pdu());
  ASSERT_EQ(first.header.status_class, LoginStatusClass::kSuccess) << target.failure_reason();
  EXPECT_TRUE(first.header.continues);
  EXPECT_FALSE(first.header.transit);
  EXPECT_EQ(first.data.size(), 8192u);
  std::vector<std::uint8_t> all = first.data;
  int pieces = 1;
  while (true) {
    auto next = target.on_request(request(kOp, true, kFfp, {}).pdu());
    ASSERT_EQ(next.header.status_class, LoginStatusClass::kSuccess) << target.failure_reason();
    all.insert(all.end(), next.data.begin(), next.data.end());
    ++pieces;
    if (!next.header.continues) {
      EXPECT_TRUE(next.header.transit);
      EXPECT_EQ(next.header.tsih, 0x0042);
      ASSERT_TRUE(target.result());
      EXPECT_EQ(target.result()->next_stat_sn, next.header.stat_sn + 1);
      break;
    }
    EXPECT_FALSE(target.result());  // not logged in before the last piece
    ASSERT_LT(pieces, 10);
  }
  EXPECT_GE(pieces, 2);
  auto parsed = parse_text_keys(all);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*find_key(*parsed, "X-com.example.key-number-0" + std::string(30, 'k')),
            "NotUnderstood");
  EXPECT_EQ(target.state(), LoginTarget::State::kFullFeature);
}

TEST(LoginTarget, TextWhileOurResponseContinuesIsAnError) {
  OneTarget policy;
  LoginTarget target(config(), policy);
  target.on_request(request(kSec, true, kOp, kFirstKeys).pdu());
  KeyList keys;
  for (int i = 0; i < 200; ++i) {
    keys.push_back({"X-com.example.key-number-" + std::to_string(i) + std::string(30, 'k'), "1"});
  }
  target.on_request(request(kOp, true, kFfp, keys).pdu());
  auto bad = target.on_request(request(kOp, true, kFfp, {{"MaxBurstLength", "512"}}).pdu());
  EXPECT_EQ(bad.header.status_class, LoginStatusClass::kInitiatorError);
}

struct HeaderCase {
  std::string name;
  std::function<void(Request&)> mutate;
  LoginStatus status;
};

TEST(LoginTarget, FirstRequestHeaderErrors) {
  const HeaderCase cases[] = {
      {"version", [](Request& r) { r.header.version_min = 1, r.header.version_max = 2; },
       LoginStatus::kUnsupportedVersion},
      {"T and C", [](Request& r) { r.header.continues = true; }, LoginStatus::kInitiatorError},
      {"CSG FFP", [](Request& r) { r.header.csg = kFfp; }, LoginStatus::kInitiatorError},
      {"NSG backwards",
       [](Request& r) {
         r.header.csg = kOp;
         r.header.nsg = kSec;
       },
       LoginStatus::kInitiatorError},
      {"NSG same", [](Request& r) { r.header.nsg = kSec; }, LoginStatus::kInitiatorError},
      {"TSIH", [](Request& r) { r.header.tsih = 5; }, LoginStatus::kSessionDoesNotExist},
  };
  for (const auto& c : cases) {
    OneTarget policy;
    LoginTarget target(config(), policy);
    Request r = request(kSec, true, kOp, kFirstKeys);
    c.mutate(r);
    auto response = target.on_request(r.pdu());
    EXPECT_EQ(login_status(response.header.status_class, response.header.status_detail), c.status)
        << c.name;
    EXPECT_EQ(target.state(), LoginTarget::State::kFailed) << c.name;
    EXPECT_FALSE(response.header.transit);
    EXPECT_TRUE(response.data.empty());
    EXPECT_FALSE(target.failure_reason().empty());
  }
}

TEST(LoginTarget, LaterRequestHeaderErrors) {
  const HeaderCase cases[] = {
      {"ISID", [](Request& r) { r.header.isid[5] = 9; }, LoginStatus::kInitiatorError},
      {"CID", [](Request& r) { r.header.cid = 9; }, LoginStatus::kInitiatorError},
      {"CSG stale", [](Request& r) { r.header.csg = kSec; }, LoginStatus::kInitiatorError},
      // One login, one ITT, and CmdSN does not advance (RFC 7143 §11.12).
      {"ITT", [](Request& r) { r.header.itt = 8; }, LoginStatus::kInitiatorError},
      {"CmdSN", [](Request& r) { r.header.cmd_sn = 0x11; }, LoginStatus::kInitiatorError},
  };
  for (const auto& c : cases) {
    OneTarget policy;
    LoginTarget target(config(), policy);
    target.on_request(request(kSec, true, kOp, kFirstKeys).pdu());
    Request r = request(kOp, true, kFfp, {});
    c.mutate(r);
    auto response = target.on_request(r.pdu());
    EXPECT_EQ(login_status(response.header.status_class, response.header.status_detail), c.status)
        << c.name;
  }
}

// Names that are no iSCSI names (RFC 7143 §4.2.7) are refused as an
// initiator error before they reach a log line or the API: bytes that are
// not UTF-8 (the API once answered 500 while such a login was held), a
// newline that would forge a log line. The reason shows them escaped. An
// initiator configured with upper-case letters still logs in.
TEST(LoginTarget, ANameThatIsNoIscsiNameIsRefusedAsAnInitiatorError) {
  const auto refusal = [](const KeyList& keys) {
    OneTarget policy;
    LoginTarget target(config(), policy);
    auto response = target.on_request(request(kSec, true, kOp, keys).pdu());
    EXPECT_EQ(login_status(response.header.status_class, response.header.status_detail),
              LoginStatus::kInitiatorError);
    return target.failure_reason();
  };
  const std::string not_utf8 = refusal({{"InitiatorName", "\xff\xfe"},
                                        {"TargetName", "iqn.2024-01.org.isergw:disk1"},
                                        {"AuthMethod", "None"}});
  EXPECT_NE(not_utf8.find("\\xff\\xfe"), std::string::npos) << not_utf8;
  const std::string forged =
      refusal({{"InitiatorName", "iqn.2005-03.org.open-iscsi:abcdef"},
               {"TargetName", "iqn.2024-01.org.isergw:disk1\n[info] admin logged in"},
               {"AuthMethod", "None"}});
  EXPECT_EQ(forged.find('\n'), std::string::npos) << forged;
  EXPECT_NE(forged.find("\\x0a"), std::string::npos) << forged;

  OneTarget policy;
  LoginTarget target(config(), policy);
  KeyList upper = kFirstKeys;
  upper[0].value = "iqn.1991-05.com.Microsoft:Host-7";
  auto response = target.on_request(request(kSec, true, kOp, upper).pdu());
  EXPECT_EQ(response.header.status_class, LoginStatusClass::kSuccess) << target.failure_reason();
}

LoginStatus first_status(const KeyList& keys, LoginStage csg = kSec, const OneTarget& policy = {}) {
  LoginTarget target(config(), policy);
  auto response = target.on_request(request(csg, true, kOp == csg ? kFfp : kOp, keys).pdu());
  return login_status(response.header.status_class, response.header.status_detail);
}

TEST(LoginTarget, FirstRequestKeyErrors) {
  EXPECT_EQ(first_status({{"TargetName", "iqn.2024-01.org.isergw:disk1"}}),
            LoginStatus::kMissingParameter);
  EXPECT_EQ(first_status({{"InitiatorName", ""}, {"TargetName", "iqn.2024-01.org.isergw:disk1"}}),
            LoginStatus::kMissingParameter);
  const std::string host = "iqn.2005-03.org.open-iscsi:x";
  EXPECT_EQ(first_status({{"InitiatorName", host}}), LoginStatus::kMissingParameter);
  EXPECT_EQ(first_status({{"InitiatorName", host}, {"TargetName", "iqn.2024-01.org.isergw:nope"}}),
            LoginStatus::kNotFound);
  EXPECT_EQ(first_status({{"InitiatorName", host}, {"SessionType", "Bogus"}}),
            LoginStatus::kInitiatorError);
  // Operational keys do not belong in the security stage (RFC 7143 §6.3).
  KeyList with_op = kFirstKeys;
  with_op.push_back({"MaxBurstLength", "65536"});
  EXPECT_EQ(first_status(with_op), LoginStatus::kInitiatorError);
  // Nor security keys in the operational stage.
  EXPECT_EQ(first_status(kFirstKeys, kOp), LoginStatus::kInitiatorError);
  // Malformed text.
  KeyList bad = kFirstKeys;
  bad.push_back({"lowercase", "1"});
  EXPECT_EQ(first_status(bad), LoginStatus::kInitiatorError);
  OneTarget denied;
  denied.access.allowed = false;
  EXPECT_EQ(first_status(kFirstKeys, kSec, denied), LoginStatus::kAuthorizationFailure);
}

TEST(LoginTarget, AuthenticationRequiredButSkipped) {
  OneTarget policy;
  policy.access.auth = AuthRequirement::kChap;
  KeyList keys(kFirstKeys.begin(), kFirstKeys.end() - 1);
  EXPECT_EQ(first_status(keys, kOp, policy), LoginStatus::kAuthenticationFailure);
  // Transit out of security without any AuthMethod.
  EXPECT_EQ(first_status(keys, kSec, policy), LoginStatus::kAuthenticationFailure);
}

TEST(LoginTarget, ChapOutOfSequence) {
  OneTarget policy;
  policy.access.auth = AuthRequirement::kChap;
  policy.access.initiator_chap = {"user", "secret-1234567"};
  KeyList first(kFirstKeys.begin(), kFirstKeys.end() - 1);
  first.push_back({"AuthMethod", "CHAP"});
  {
    LoginTarget target(config(), policy);
    target.on_request(request(kSec, false, kSec, first).pdu());
    auto r =
        target.on_request(request(kSec, true, kOp, {{"CHAP_N", "user"}, {"CHAP_R", "0x00"}}).pdu());
    EXPECT_EQ(login_status(r.header.status_class, r.header.status_detail),
              LoginStatus::kAuthenticationFailure);
  }
  {
    LoginTarget target(config(), policy);
    target.on_request(request(kSec, false, kSec, first).pdu());
    auto r = target.on_request(request(kSec, false, kSec, {{"CHAP_A", "6"}}).pdu());
    EXPECT_EQ(login_status(r.header.status_class, r.header.status_detail),
              LoginStatus::kAuthenticationFailure);
  }
  {
    // CHAP keys when AuthMethod=None was agreed.
    OneTarget open;
    LoginTarget target(config(), open);
    target.on_request(request(kSec, false, kSec, kFirstKeys).pdu());
    auto r = target.on_request(request(kSec, false, kSec, {{"CHAP_A", "5"}}).pdu());
    EXPECT_EQ(login_status(r.header.status_class, r.header.status_detail),
              LoginStatus::kAuthenticationFailure);
  }
}

TEST(LoginTarget, StaysInSecurityUntilChapCompletes) {
  OneTarget policy;
  policy.access.auth = AuthRequirement::kChap;
  policy.access.initiator_chap = {"user", "secret-1234567"};
  LoginTarget target(config(), policy);
  KeyList first(kFirstKeys.begin(), kFirstKeys.end() - 1);
  first.push_back({"AuthMethod", "CHAP"});
  target.on_request(request(kSec, true, kOp, first).pdu());
  auto r = target.on_request(request(kSec, true, kOp, {{"CHAP_A", "5"}}).pdu());
  EXPECT_EQ(r.header.status_class, LoginStatusClass::kSuccess);
  EXPECT_FALSE(r.header.transit);
  EXPECT_EQ(target.state(), LoginTarget::State::kSecurity);
}

TEST(LoginTarget, RequestAfterCompletionOrFailure) {
  OneTarget policy;
  LoginTarget target(config(), policy);
  target.on_request(request(kSec, true, kFfp, kFirstKeys).pdu());
  ASSERT_EQ(target.state(), LoginTarget::State::kFullFeature) << target.failure_reason();
  auto again = target.on_request(request(kFfp, true, kFfp, {}).pdu());
  EXPECT_EQ(login_status(again.header.status_class, again.header.status_detail),
            LoginStatus::kInvalidDuringLogin);

  LoginTarget failed(config(), policy);
  failed.on_request(request(kSec, true, kOp, {{"TargetName", "x"}}).pdu());
  auto still = failed.on_request(request(kSec, true, kOp, kFirstKeys).pdu());
  EXPECT_EQ(login_status(still.header.status_class, still.header.status_detail),
            LoginStatus::kMissingParameter);
}

TEST(LoginTarget, SecurityStraightToFullFeature) {
  OneTarget policy;
  LoginTarget target(config(), policy);
  auto r = target.on_request(request(kSec, true, kFfp, kFirstKeys).pdu());
  EXPECT_TRUE(r.header.transit);
  EXPECT_EQ(r.header.nsg, kFfp);
  EXPECT_EQ(r.header.tsih, 0x0042);
  EXPECT_EQ(*find_key(keys_of(r), "MaxRecvDataSegmentLength"), "8192");
}

TEST(LoginStatus, Interpretation) {
  EXPECT_EQ(describe(LoginStatusClass::kInitiatorError, 1).text, "authentication failure");
  EXPECT_EQ(describe(LoginStatusClass::kInitiatorError, 3).action, LoginStatusAction::kDoNotRetry);
  EXPECT_EQ(describe(LoginStatusClass::kRedirection, 2).action, LoginStatusAction::kRedirect);
  EXPECT_EQ(describe(LoginStatusClass::kTargetError, 1).action, LoginStatusAction::kRetryLater);
  EXPECT_EQ(describe(LoginStatusClass::kTargetError, 0x77).text, "target error (unknown detail)");
  EXPECT_EQ(describe(LoginStatusClass::kSuccess, 0).action, LoginStatusAction::kProceed);
  EXPECT_EQ(status_class(LoginStatus::kMissingParameter), LoginStatusClass::kInitiatorError);
  EXPECT_EQ(status_detail(LoginStatus::kMissingParameter), 7);
}

}  // namespace
}  // namespace isergw::iscsi
