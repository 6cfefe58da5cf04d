#include "iscsi/login_initiator.h"

#include <gtest/gtest.h>

#include <functional>

namespace isergw::iscsi {
namespace {

constexpr LoginStage kSec = LoginStage::kSecurityNegotiation;
constexpr LoginStage kOp = LoginStage::kLoginOperationalNegotiation;
constexpr LoginStage kFfp = LoginStage::kFullFeaturePhase;

LoginInitiatorConfig config() {
  LoginInitiatorConfig c;
  c.initiator_name = "iqn.2024-01.org.isergw:gateway";
  c.target_name = "iqn.2003-01.org.linux-iscsi.storage:lun0";
  c.isid = {0x80, 0, 0, 0, 0, 1};
  c.itt = 0x55;
  c.cmd_sn = 9;
  return c;
}

struct Response {
  LoginResponse header;
  std::vector<std::uint8_t> data;
  LoginResponse pdu() const {
    LoginResponse out = header;
    out.data = data;
    return out;
  }
};

// A well-formed answer to `request`.
Response answer(const OwnedLoginRequest& request, const KeyList& keys, bool transit,
                LoginStage next, std::uint32_t stat_sn = 1000) {
  Response r;
  r.header.transit = transit;
  r.header.csg = request.header.csg;
  r.header.nsg = transit ? next : request.header.csg;
  r.header.isid = request.header.isid;
  r.header.itt = request.header.itt;
  r.header.tsih = transit && next == kFfp ? 0x77 : 0;
  r.header.stat_sn = stat_sn;
  r.header.exp_cmd_sn = request.header.cmd_sn;
  r.header.max_cmd_sn = request.header.cmd_sn + 15;
  r.data = build_text_keys(keys);
  return r;
}

KeyList keys_of(const OwnedLoginRequest& request) {
  auto keys = parse_text_keys(request.data);
  EXPECT_TRUE(keys);
  return keys ? *keys : KeyList{};
}

// Every offered key answered with the offer itself, which is always legal.
KeyList echo(const KeyList& offer) {
  return offer;
}

TEST(LoginInitiator, FirstRequestLikeOpenIscsi) {
  LoginInitiator initiator(config());
  auto first = initiator.start();
  EXPECT_EQ(first.header.csg, kSec);
  EXPECT_TRUE(first.header.transit);
  EXPECT_EQ(first.header.nsg, kOp);
  EXPECT_EQ(first.header.tsih, 0);
  EXPECT_EQ(first.header.cmd_sn, 9u);
  EXPECT_EQ(keys_of(first), (KeyList{{"InitiatorName", "iqn.2024-01.org.isergw:gateway"},
                                     {"TargetName", "iqn.2003-01.org.linux-iscsi.storage:lun0"},
                                     {"SessionType", "Normal"},
                                     {"AuthMethod", "None"}}));
}

TEST(LoginInitiator, CompletesAgainstScriptedTarget) {
  LoginInitiator initiator(config());
  auto first = initiator.start();
  auto second = initiator.on_response(
      answer(first, {{"TargetPortalGroupTag", "1"}, {"AuthMethod", "None"}}, true, kOp).pdu());
  ASSERT_TRUE(second) << initiator.failure_reason();
  EXPECT_EQ(second->header.csg, kOp);
  EXPECT_EQ(second->header.nsg, kFfp);
  EXPECT_EQ(second->header.exp_stat_sn, 1001u);
  KeyList reply = echo(keys_of(*second));
  reply.push_back({"TargetAlias", "lun0"});
  auto done = initiator.on_response(answer(*second, reply, true, kFfp, 1001).pdu());
  EXPECT_FALSE(done);
  ASSERT_EQ(initiator.state(), LoginInitiator::State::kFullFeature) << initiator.failure_reason();
  EXPECT_EQ(initiator.result()->tsih, 0x77);
  EXPECT_EQ(initiator.result()->exp_stat_sn, 1002u);
  EXPECT_EQ(initiator.result()->parameters.session.target_alias, "lun0");
}

TEST(LoginInitiator, TargetNotReadyToTransitGetsAnotherRequest) {
  LoginInitiator initiator(config());
  auto first = initiator.start();
  auto second = initiator.on_response(answer(first, {{"AuthMethod", "None"}}, true, kOp).pdu());
  ASSERT_TRUE(second);
  const KeyList offer = keys_of(*second);
  // The target answers half and proposes a key, without transit.
  KeyList half(offer.begin(), offer.begin() + 8);
  half.push_back({"TaskReporting", "RFC3720"});
  auto third = initiator.on_response(answer(*second, half, false, kOp).pdu());
  ASSERT_TRUE(third) << initiator.failure_reason();
  EXPECT_EQ(keys_of(*third), (KeyList{{"TaskReporting", "RFC3720"}}));
  EXPECT_TRUE(third->header.transit);
  KeyList rest(offer.begin() + 8, offer.end());
  EXPECT_FALSE(initiator.on_response(answer(*third, rest, true, kFfp).pdu()));
  EXPECT_EQ(initiator.state(), LoginInitiator::State::kFullFeature) << initiator.failure_reason();
}

TEST(LoginInitiator, ContinuedResponseIsFetchedWithEmptyRequests) {
  LoginInitiator initiator(config());
  auto first = initiator.start();
  const auto text = build_text_keys({{"TargetPortalGroupTag", "1"}, {"AuthMethod", "None"}});
  Response piece = answer(first, {}, false, kSec);
  piece.header.continues = true;
  piece.data.assign(text.begin(), text.begin() + 10);
  auto fetch = initiator.on_response(piece.pdu());
  ASSERT_TRUE(fetch) << initiator.failure_reason();
  EXPECT_TRUE(fetch->data.empty());
  EXPECT_FALSE(fetch->header.transit);
  EXPECT_FALSE(fetch->header.continues);
  Response last = answer(*fetch, {}, true, kOp);
  last.data.assign(text.begin() + 10, text.end());
  auto next = initiator.on_response(last.pdu());
  ASSERT_TRUE(next) << initiator.failure_reason();
  EXPECT_EQ(initiator.state(), LoginInitiator::State::kOperational);
}

TEST(LoginInitiator, TargetStatusIsReported) {
  struct Case {
    LoginStatusClass cls;
    std::uint8_t detail;
    LoginStatusAction action;
  };
  const Case cases[] = {
      {LoginStatusClass::kInitiatorError, 0x03, LoginStatusAction::kDoNotRetry},
      {LoginStatusClass::kInitiatorError, 0x01, LoginStatusAction::kDoNotRetry},
      {LoginStatusClass::kTargetError, 0x01, LoginStatusAction::kRetryLater},
      {LoginStatusClass::kTargetError, 0x02, LoginStatusAction::kRetryLater},
  };
  for (const auto& c : cases) {
    LoginInitiator initiator(config());
    auto first = initiator.start();
    Response r = answer(first, {}, false, kSec);
    r.header.status_class = c.cls;
    r.header.status_detail = c.detail;
    EXPECT_FALSE(initiator.on_response(r.pdu()));
    EXPECT_EQ(initiator.state(), LoginInitiator::State::kFailed);
    EXPECT_EQ(initiator.failure_status(), login_status(c.cls, c.detail));
    EXPECT_EQ(initiator.failure_action(), c.action);
    EXPECT_FALSE(initiator.redirect_address());
  }
}

TEST(LoginInitiator, RedirectionNamesTheNewAddress) {
  LoginInitiator initiator(config());
  auto first = initiator.start();
  Response r = answer(first, {{"TargetAddress", "10.1.2.3:3260,2"}}, false, kSec);
  r.header.status_class = LoginStatusClass::kRedirection;
  r.header.status_detail = 0x01;
  EXPECT_FALSE(initiator.on_response(r.pdu()));
  EXPECT_EQ(initiator.failure_status(), LoginStatus::kTargetMovedTemporarily);
  EXPECT_EQ(initiator.failure_action(), LoginStatusAction::kRedirect);
  EXPECT_EQ(initiator.redirect_address(), "10.1.2.3:3260,2");
}

TEST(LoginInitiator, ResponseHeaderErrors) {
  const std::pair<const char*, std::function<void(Response&)>> cases[] = {
      {"version", [](Response& r) { r.header.version_active = 1; }},
      {"ISID", [](Response& r) { r.header.isid[0] = 0x40; }},
      {"ITT", [](Response& r) { r.header.itt = 1; }},
      {"CSG", [](Response& r) { r.header.csg = kOp; }},
      {"T and C", [](Response& r) { r.header.continues = true; }},
      {"NSG other than asked", [](Response& r) { r.header.nsg = kFfp; }},
      {"TSIH early", [](Response& r) { r.header.tsih = 3; }},
      {"bad text",
       [](Response& r) {
         r.data = {'a', '=', '1', 0};
       }},
      {"unknown CHAP",
       [](Response& r) {
         r.data = build_text_keys({{"CHAP_A", "5"}});
       }},
      {"rejected auth",
       [](Response& r) {
         r.data = build_text_keys({{"AuthMethod", "Reject"}});
       }},
      {"operational key",
       [](Response& r) {
         r.data = build_text_keys({{"MaxBurstLength", "512"}});
       }},
  };
  for (const auto& [name, mutate] : cases) {
    LoginInitiator initiator(config());
    auto first = initiator.start();
    Response r = answer(first, {{"AuthMethod", "None"}}, true, kOp);
    mutate(r);
    EXPECT_FALSE(initiator.on_response(r.pdu())) << name;
    EXPECT_EQ(initiator.state(), LoginInitiator::State::kFailed) << name;
    EXPECT_FALSE(initiator.failure_reason().empty()) << name;
  }
}

TEST(LoginInitiator, TransitWithoutBeingAskedIsAnError) {
  auto c = config();
  c.chap = ChapCredentials{"user", "secret-123456"};
  LoginInitiator initiator(c);
  auto first = initiator.start();
  EXPECT_FALSE(first.header.transit);  // CHAP: stay in security
  EXPECT_EQ(*find_key(keys_of(first), "AuthMethod"), "CHAP,None");
  EXPECT_FALSE(initiator.on_response(answer(first, {{"AuthMethod", "CHAP"}}, true, kOp).pdu()));
  EXPECT_EQ(initiator.state(), LoginInitiator::State::kFailed);
}

TEST(LoginInitiator, FinalResponseChecks) {
  {
    // No TSIH in the final response.
    LoginInitiator initiator(config());
    auto first = initiator.start();
    auto second = initiator.on_response(answer(first, {{"AuthMethod", "None"}}, true, kOp).pdu());
    Response last = answer(*second, echo(keys_of(*second)), true, kFfp);
    last.header.tsih = 0;
    EXPECT_FALSE(initiator.on_response(last.pdu()));
    EXPECT_EQ(initiator.state(), LoginInitiator::State::kFailed);
  }
  {
    // An offer left unanswered.
    LoginInitiator initiator(config());
    auto first = initiator.start();
    auto second = initiator.on_response(answer(first, {{"AuthMethod", "None"}}, true, kOp).pdu());
    EXPECT_FALSE(initiator.on_response(answer(*second, {}, true, kFfp).pdu()));
    EXPECT_EQ(initiator.state(), LoginInitiator::State::kFailed);
    EXPECT_NE(initiator.failure_reason().find("unanswered"), std::string::npos);
  }
  {
    // An illegal answer.
    LoginInitiator initiator(config());
    auto first = initiator.start();
    auto second = initiator.on_response(answer(first, {{"AuthMethod", "None"}}, true, kOp).pdu());
    KeyList reply = echo(keys_of(*second));
    for (auto& [key, value] : reply) {
      if (key == "MaxBurstLength") value = "99999999";
    }
    EXPECT_FALSE(initiator.on_response(answer(*second, reply, true, kFfp).pdu()));
    EXPECT_EQ(initiator.state(), LoginInitiator::State::kFailed);
  }
  {
    // A proposal in the final response cannot be answered any more.
    LoginInitiator initiator(config());
    auto first = initiator.start();
    auto second = initiator.on_response(answer(first, {{"AuthMethod", "None"}}, true, kOp).pdu());
    KeyList reply = echo(keys_of(*second));
    reply.push_back({"TaskReporting", "RFC3720"});
    EXPECT_FALSE(initiator.on_response(answer(*second, reply, true, kFfp).pdu()));
    EXPECT_EQ(initiator.state(), LoginInitiator::State::kFailed);
  }
}

TEST(LoginInitiator, NothingAfterTheEnd) {
  LoginInitiator initiator(config());
  auto first = initiator.start();
  Response r = answer(first, {}, false, kSec);
  r.header.status_class = LoginStatusClass::kTargetError;
  EXPECT_FALSE(initiator.on_response(r.pdu()));
  EXPECT_FALSE(initiator.on_response(answer(first, {{"AuthMethod", "None"}}, true, kOp).pdu()));
  EXPECT_EQ(initiator.failure_status(), LoginStatus::kTargetError);
}

TEST(LoginInitiator, ChapAnswersTheChallenge) {
  auto c = config();
  c.chap = ChapCredentials{"user", "secret-123456"};
  c.chap_algorithms = {ChapAlgorithm::kMd5};
  LoginInitiator initiator(c);
  auto first = initiator.start();
  auto chap_a = initiator.on_response(answer(first, {{"AuthMethod", "CHAP"}}, false, kSec).pdu());
  ASSERT_TRUE(chap_a);
  EXPECT_EQ(keys_of(*chap_a), (KeyList{{"CHAP_A", "5"}}));
  const std::vector<std::uint8_t> challenge(16, 0xab);
  auto response = initiator.on_response(
      answer(*chap_a, {{"CHAP_A", "5"}, {"CHAP_I", "3"}, {"CHAP_C", encode_hex(challenge)}}, false,
             kSec)
          .pdu());
  ASSERT_TRUE(response) << initiator.failure_reason();
  EXPECT_TRUE(response->header.transit);
  EXPECT_EQ(keys_of(*response),
            (KeyList{{"CHAP_N", "user"},
                     {"CHAP_R", encode_hex(chap_response(ChapAlgorithm::kMd5, 3, "secret-123456",
                                                         challenge))}}));
  // The target rejects a bad challenge the same way: a short one fails here.
  LoginInitiator other(c);
  auto f = other.start();
  auto a = other.on_response(answer(f, {{"AuthMethod", "CHAP"}}, false, kSec).pdu());
  EXPECT_FALSE(other.on_response(
      answer(*a, {{"CHAP_A", "5"}, {"CHAP_I", "3"}, {"CHAP_C", "0x01"}}, false, kSec).pdu()));
  EXPECT_EQ(other.failure_status(), LoginStatus::kAuthenticationFailure);
  EXPECT_FALSE(other.refused_at_chap_algorithms()) << "it failed at the challenge, past CHAP_A";
}

// Older targets (some NAS firmware, older LIO) refuse a list of CHAP_A
// values, by a failure status or by CHAP_A=Reject: the caller learns that
// the login went no further than the offer.
TEST(LoginInitiator, ARefusedChapAlgorithmListIsToldApart) {
  auto c = config();
  c.chap = ChapCredentials{"user", "secret-123456"};
  c.chap_algorithms = {ChapAlgorithm::kMd5, ChapAlgorithm::kSha256};
  for (const bool by_status : {true, false}) {
    LoginInitiator initiator(c);
    auto first = initiator.start();
    EXPECT_FALSE(initiator.refused_at_chap_algorithms());
    auto chap_a = initiator.on_response(answer(first, {{"AuthMethod", "CHAP"}}, false, kSec).pdu());
    ASSERT_TRUE(chap_a);
    EXPECT_EQ(keys_of(*chap_a), (KeyList{{"CHAP_A", "5,7"}}));
    Response refusal = answer(*chap_a, {{"CHAP_A", "Reject"}}, false, kSec);
    if (by_status) {
      refusal = answer(*chap_a, {}, false, kSec);
      refusal.header.status_class = LoginStatusClass::kInitiatorError;
      refusal.header.status_detail = 0x01;
    }
    EXPECT_FALSE(initiator.on_response(refusal.pdu()));
    EXPECT_EQ(initiator.state(), LoginInitiator::State::kFailed);
    EXPECT_TRUE(initiator.refused_at_chap_algorithms()) << (by_status ? "status" : "Reject");
  }
  // A login that ends before CHAP_A is not one of them.
  LoginInitiator early(c);
  auto first = early.start();
  Response refused = answer(first, {}, false, kSec);
  refused.header.status_class = LoginStatusClass::kInitiatorError;
  refused.header.status_detail = 0x03;
  EXPECT_FALSE(early.on_response(refused.pdu()));
  EXPECT_FALSE(early.refused_at_chap_algorithms());
}

}  // namespace
}  // namespace isergw::iscsi
