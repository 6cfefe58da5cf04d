// The initiator machine against the target machine, every PDU going through
// the PDU codec as it would on the wire.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "iscsi/login_initiator.h"
#include "iscsi/login_target.h"
#include "iscsi/pdu_decoder.h"
#include "iscsi/pdu_encoder.h"

namespace isergw::iscsi {
namespace {

class MapPolicy : public LoginPolicy {
 public:
  std::optional<TargetAccess> normal_session(std::string_view target,
                                             std::string_view initiator) const override {
    const auto it = targets.find(std::string(target));
    if (it == targets.end()) return std::nullopt;
    TargetAccess access = it->second;
    if (!allowed_initiators.empty() && !allowed_initiators.contains(std::string(initiator))) {
      access.allowed = false;
    }
    return access;
  }
  std::optional<TargetAccess> discovery_session(std::string_view) const override {
    return discovery;
  }

  std::map<std::string, TargetAccess> targets;
  std::set<std::string> allowed_initiators;
  std::optional<TargetAccess> discovery = TargetAccess{};
};

constexpr const char* kTargetName = "iqn.2024-01.org.isergw:disk1";
constexpr const char* kInitiatorName = "iqn.1994-05.com.redhat:host1";

// Encodes and decodes a PDU so each side sees exactly what the wire carries.
template <typename T>
struct OnWire {
  std::vector<std::uint8_t> bytes;
  T pdu;
};

template <typename T>
OnWire<T> through_codec(const T& pdu) {
  OnWire<T> out;
  const Pdu any = pdu;
  out.bytes.resize(encoded_length(any, {}));
  auto written = encode_pdu(any, {}, out.bytes);
  EXPECT_TRUE(written);
  auto decoded = decode_pdu(out.bytes, {});
  EXPECT_TRUE(decoded) << (decoded ? "" : decoded.error().message);
  out.pdu = std::get<T>(decoded->pdu);
  return out;
}

struct LoginPair {
  LoginInitiator initiator;
  LoginTarget target;
  int exchanges = 0;
};

void run(LoginPair& r) {
  auto request = r.initiator.start();
  for (r.exchanges = 1; r.exchanges < 20; ++r.exchanges) {
    auto wire_request = through_codec(request.pdu());
    auto response = r.target.on_request(wire_request.pdu);
    auto wire_response = through_codec(response.pdu());
    auto next = r.initiator.on_response(wire_response.pdu);
    if (!next) return;
    request = std::move(*next);
  }
  ADD_FAILURE() << "login did not end";
}

LoginInitiatorConfig initiator_config() {
  LoginInitiatorConfig c;
  c.initiator_name = kInitiatorName;
  c.target_name = kTargetName;
  c.isid = {0x00, 0x02, 0x3d, 0x00, 0x00, 0x01};
  c.itt = 0x11;
  c.cmd_sn = 7;
  return c;
}

LoginTargetConfig target_config() {
  LoginTargetConfig c;
  c.new_tsih = 0x1234;
  c.portal_group_tag = 3;
  c.initial_stat_sn = 100;
  return c;
}

MapPolicy policy_with(TargetAccess access) {
  MapPolicy p;
  p.targets[kTargetName] = access;
  return p;
}

const ChapCredentials kUser{"host1-user", "host1-secret-123"};
const ChapCredentials kTargetUser{"disk1-user", "disk1-secret-456"};

TEST(Login, NoAuthentication) {
  const auto policy = policy_with({.alias = "disk one"});
  LoginPair r{LoginInitiator(initiator_config()), LoginTarget(target_config(), policy)};
  run(r);
  ASSERT_EQ(r.target.state(), LoginTarget::State::kFullFeature) << r.target.failure_reason();
  ASSERT_EQ(r.initiator.state(), LoginInitiator::State::kFullFeature)
      << r.initiator.failure_reason();
  EXPECT_EQ(r.exchanges, 2);
  const auto& t = *r.target.result();
  const auto& i = *r.initiator.result();
  EXPECT_EQ(t.tsih, 0x1234);
  EXPECT_EQ(i.tsih, 0x1234);
  EXPECT_EQ(t.exp_cmd_sn, 7u);
  EXPECT_EQ(i.exp_cmd_sn, 7u);
  EXPECT_EQ(i.exp_stat_sn, 102u);
  EXPECT_EQ(t.next_stat_sn, 102u);
  EXPECT_EQ(t.parameters.session, i.parameters.session);
  EXPECT_EQ(i.parameters.session.target_alias, "disk one");
  EXPECT_EQ(i.parameters.session.target_portal_group_tag, 3);
  EXPECT_EQ(t.parameters.session.initiator_name, kInitiatorName);
  EXPECT_EQ(t.parameters.connection.auth_method, "None");
  // Each side's send limit is the other's receive limit.
  EXPECT_EQ(t.parameters.connection.max_send_data_segment_length,
            i.parameters.connection.max_recv_data_segment_length);
  EXPECT_EQ(i.parameters.connection.max_send_data_segment_length,
            t.parameters.connection.max_recv_data_segment_length);
}

TEST(Login, NegotiatedValuesAgree) {
  auto ic = initiator_config();
  ic.negotiation.max_burst_length = 16776192;
  ic.negotiation.first_burst_length = 262144;
  ic.negotiation.initial_r2t = false;
  ic.negotiation.max_recv_data_segment_length = 262144;
  ic.negotiation.header_digests = {"CRC32C", "None"};
  auto tc = target_config();
  tc.negotiation.max_burst_length = 1048576;
  tc.negotiation.first_burst_length = 262144;
  tc.negotiation.initial_r2t = false;
  tc.negotiation.header_digests = {"None", "CRC32C"};
  tc.negotiation.max_recv_data_segment_length = 65536;
  const auto policy = policy_with({});
  LoginPair r{LoginInitiator(ic), LoginTarget(tc, policy)};
  run(r);
  ASSERT_TRUE(r.initiator.result()) << r.initiator.failure_reason();
  const auto& i = r.initiator.result()->parameters;
  EXPECT_EQ(i.session.max_burst_length, 1048576u);
  EXPECT_EQ(i.session.first_burst_length, 262144u);
  EXPECT_FALSE(i.session.initial_r2t);
  EXPECT_EQ(i.connection.header_digest, DigestType::kCrc32c);
  EXPECT_EQ(i.connection.max_send_data_segment_length, 65536u);
  EXPECT_EQ(r.target.result()->parameters.connection.max_send_data_segment_length, 262144u);
  EXPECT_EQ(r.target.result()->parameters.session, i.session);
}

TEST(Login, OneWayChap) {
  for (auto algorithm : {ChapAlgorithm::kMd5, ChapAlgorithm::kSha256, ChapAlgorithm::kSha3_256}) {
    auto ic = initiator_config();
    ic.chap = kUser;
    ic.chap_algorithms = {algorithm};
    auto tc = target_config();
    tc.chap_algorithms = {ChapAlgorithm::kSha3_256, ChapAlgorithm::kSha256, ChapAlgorithm::kMd5};
    const auto policy = policy_with({.auth = AuthRequirement::kChap, .initiator_chap = kUser});
    LoginPair r{LoginInitiator(ic), LoginTarget(tc, policy)};
    run(r);
    ASSERT_EQ(r.target.state(), LoginTarget::State::kFullFeature) << r.target.failure_reason();
    ASSERT_EQ(r.initiator.state(), LoginInitiator::State::kFullFeature)
        << r.initiator.failure_reason();
    EXPECT_EQ(r.target.result()->parameters.connection.auth_method, "CHAP");
    EXPECT_EQ(r.exchanges, 4);
  }
}

TEST(Login, MutualChap) {
  auto ic = initiator_config();
  ic.chap = kUser;
  ic.target_chap = kTargetUser;
  const auto policy = policy_with(
      {.auth = AuthRequirement::kChapMutual, .initiator_chap = kUser, .target_chap = kTargetUser});
  LoginPair r{LoginInitiator(ic), LoginTarget(target_config(), policy)};
  run(r);
  ASSERT_EQ(r.target.state(), LoginTarget::State::kFullFeature) << r.target.failure_reason();
  ASSERT_EQ(r.initiator.state(), LoginInitiator::State::kFullFeature)
      << r.initiator.failure_reason();
}

TEST(Login, ChapOptionalTargetAcceptsNone) {
  auto ic = initiator_config();
  ic.chap = kUser;  // offers CHAP,None
  const auto policy = policy_with({});
  LoginPair r{LoginInitiator(ic), LoginTarget(target_config(), policy)};
  run(r);
  ASSERT_EQ(r.initiator.state(), LoginInitiator::State::kFullFeature)
      << r.initiator.failure_reason();
  EXPECT_EQ(r.initiator.result()->parameters.connection.auth_method, "None");
}

struct Failure {
  LoginStatus target_status;
  LoginStatus initiator_status;
  LoginStatusAction action;
};

Failure run_failing(LoginInitiatorConfig ic, const MapPolicy& policy,
                    LoginTargetConfig tc = target_config()) {
  LoginPair r{LoginInitiator(std::move(ic)), LoginTarget(std::move(tc), policy)};
  run(r);
  EXPECT_EQ(r.initiator.state(), LoginInitiator::State::kFailed);
  return {r.target.failure_status(), r.initiator.failure_status(), r.initiator.failure_action()};
}

TEST(LoginFailure, WrongChapSecret) {
  auto ic = initiator_config();
  ic.chap = ChapCredentials{kUser.name, "wrong-secret-000"};
  const auto f =
      run_failing(ic, policy_with({.auth = AuthRequirement::kChap, .initiator_chap = kUser}));
  EXPECT_EQ(f.target_status, LoginStatus::kAuthenticationFailure);
  EXPECT_EQ(f.initiator_status, LoginStatus::kAuthenticationFailure);
  EXPECT_EQ(f.action, LoginStatusAction::kDoNotRetry);
}

TEST(LoginFailure, InitiatorWithoutChapAgainstChapTarget) {
  const auto f = run_failing(
      initiator_config(), policy_with({.auth = AuthRequirement::kChap, .initiator_chap = kUser}));
  EXPECT_EQ(f.target_status, LoginStatus::kAuthenticationFailure);
  EXPECT_EQ(f.initiator_status, LoginStatus::kAuthenticationFailure);
}

TEST(LoginFailure, TargetRequiresMutual) {
  auto ic = initiator_config();
  ic.chap = kUser;
  const auto f = run_failing(ic, policy_with({.auth = AuthRequirement::kChapMutual,
                                              .initiator_chap = kUser,
                                              .target_chap = kTargetUser}));
  EXPECT_EQ(f.target_status, LoginStatus::kAuthenticationFailure);
  EXPECT_EQ(f.initiator_status, LoginStatus::kAuthenticationFailure);
}

TEST(LoginFailure, InitiatorRequiresMutualTargetHasNoCredentials) {
  auto ic = initiator_config();
  ic.chap = kUser;
  ic.target_chap = kTargetUser;
  const auto f =
      run_failing(ic, policy_with({.auth = AuthRequirement::kChap, .initiator_chap = kUser}));
  EXPECT_EQ(f.target_status, LoginStatus::kAuthenticationFailure);
}

TEST(LoginFailure, InitiatorRequiresMutualTargetWantsNoAuth) {
  auto ic = initiator_config();
  ic.chap = kUser;
  ic.target_chap = kTargetUser;  // offers AuthMethod=CHAP only
  const auto f = run_failing(ic, policy_with({}));
  EXPECT_EQ(f.target_status, LoginStatus::kAuthenticationFailure);
}

TEST(LoginFailure, ImpostorTargetFailsMutualChap) {
  auto ic = initiator_config();
  ic.chap = kUser;
  ic.target_chap = kTargetUser;
  const auto policy =
      policy_with({.auth = AuthRequirement::kChap,
                   .initiator_chap = kUser,
                   .target_chap = ChapCredentials{kTargetUser.name, "impostor-secret"}});
  LoginPair r{LoginInitiator(ic), LoginTarget(target_config(), policy)};
  run(r);
  EXPECT_EQ(r.initiator.state(), LoginInitiator::State::kFailed);
  EXPECT_EQ(r.initiator.failure_status(), LoginStatus::kAuthenticationFailure);
  EXPECT_NE(r.initiator.failure_reason().find("mutual CHAP"), std::string::npos);
}

TEST(LoginFailure, TargetNotFound) {
  auto ic = initiator_config();
  ic.target_name = "iqn.2024-01.org.isergw:nope";
  const auto f = run_failing(ic, policy_with({}));
  EXPECT_EQ(f.target_status, LoginStatus::kNotFound);
  EXPECT_EQ(f.initiator_status, LoginStatus::kNotFound);
}

TEST(LoginFailure, InitiatorNotAllowed) {
  auto policy = policy_with({});
  policy.allowed_initiators = {"iqn.1994-05.com.redhat:other"};
  const auto f = run_failing(initiator_config(), policy);
  EXPECT_EQ(f.target_status, LoginStatus::kAuthorizationFailure);
  EXPECT_EQ(f.initiator_status, LoginStatus::kAuthorizationFailure);
}

TEST(LoginFailure, MissingTargetName) {
  auto ic = initiator_config();
  ic.target_name.clear();
  const auto f = run_failing(ic, policy_with({}));
  EXPECT_EQ(f.target_status, LoginStatus::kMissingParameter);
  EXPECT_EQ(f.initiator_status, LoginStatus::kMissingParameter);
}

TEST(LoginFailure, MissingInitiatorName) {
  auto ic = initiator_config();
  ic.initiator_name.clear();
  const auto f = run_failing(ic, policy_with({}));
  EXPECT_EQ(f.target_status, LoginStatus::kMissingParameter);
}

TEST(LoginFailure, IserTargetAgainstTcpInitiator) {
  auto tc = target_config();
  tc.negotiation.rdma_extensions = true;
  const auto f = run_failing(initiator_config(), policy_with({}), tc);
  EXPECT_EQ(f.target_status, LoginStatus::kInitiatorError);
}

TEST(LoginDiscovery, Succeeds) {
  auto ic = initiator_config();
  ic.session_type = SessionType::kDiscovery;
  ic.target_name.clear();
  const auto policy = policy_with({});
  LoginPair r{LoginInitiator(ic), LoginTarget(target_config(), policy)};
  run(r);
  ASSERT_EQ(r.target.state(), LoginTarget::State::kFullFeature) << r.target.failure_reason();
  ASSERT_EQ(r.initiator.state(), LoginInitiator::State::kFullFeature)
      << r.initiator.failure_reason();
  EXPECT_EQ(r.target.result()->parameters.session.session_type, SessionType::kDiscovery);
  // No portal group tag in a discovery login (RFC 7143 §13.9).
  EXPECT_FALSE(r.initiator.result()->parameters.session.target_portal_group_tag);
}

TEST(LoginDiscovery, NotOffered) {
  auto ic = initiator_config();
  ic.session_type = SessionType::kDiscovery;
  auto policy = policy_with({});
  policy.discovery.reset();
  const auto f = run_failing(ic, policy);
  EXPECT_EQ(f.target_status, LoginStatus::kSessionTypeNotSupported);
  EXPECT_EQ(f.initiator_status, LoginStatus::kSessionTypeNotSupported);
}

TEST(LoginDiscovery, WithChap) {
  auto ic = initiator_config();
  ic.session_type = SessionType::kDiscovery;
  ic.chap = kUser;
  auto policy = policy_with({});
  policy.discovery = TargetAccess{.auth = AuthRequirement::kChap, .initiator_chap = kUser};
  LoginPair r{LoginInitiator(ic), LoginTarget(target_config(), policy)};
  run(r);
  ASSERT_EQ(r.initiator.state(), LoginInitiator::State::kFullFeature)
      << r.initiator.failure_reason();
}

TEST(LoginIser, NegotiatesRdmaExtensions) {
  auto ic = initiator_config();
  ic.negotiation.rdma_extensions = true;
  ic.negotiation.initiator_recv_data_segment_length = 262144;
  ic.negotiation.target_recv_data_segment_length = 262144;
  auto tc = target_config();
  tc.negotiation.rdma_extensions = true;
  tc.negotiation.target_recv_data_segment_length = 8192;
  tc.negotiation.initiator_recv_data_segment_length = 16777215;
  const auto policy = policy_with({});
  LoginPair r{LoginInitiator(ic), LoginTarget(tc, policy)};
  run(r);
  ASSERT_EQ(r.initiator.state(), LoginInitiator::State::kFullFeature)
      << r.initiator.failure_reason();
  ASSERT_EQ(r.target.state(), LoginTarget::State::kFullFeature) << r.target.failure_reason();
  const auto& t = r.target.result()->parameters;
  const auto& i = r.initiator.result()->parameters;
  EXPECT_TRUE(t.session.rdma_extensions);
  EXPECT_TRUE(i.session.rdma_extensions);
  EXPECT_EQ(t.connection.max_recv_data_segment_length, 8192u);
  EXPECT_EQ(t.connection.max_send_data_segment_length, 262144u);
  EXPECT_EQ(i.connection.max_recv_data_segment_length, 262144u);
  EXPECT_EQ(i.connection.max_send_data_segment_length, 8192u);
  EXPECT_EQ(i.connection.header_digest, DigestType::kNone);
}

}  // namespace
}  // namespace isergw::iscsi
