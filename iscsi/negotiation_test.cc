#include "iscsi/negotiation.h"

#include <gtest/gtest.h>

namespace isergw::iscsi {
namespace {

constexpr LoginStage kSec = LoginStage::kSecurityNegotiation;
constexpr LoginStage kOp = LoginStage::kLoginOperationalNegotiation;
constexpr LoginStage kFfp = LoginStage::kFullFeaturePhase;

// The target's answer to one key.
std::string answer_of(Negotiator& n, std::string key, std::string value, LoginStage stage = kOp) {
  auto out = n.receive({{key, value}}, stage);
  EXPECT_TRUE(out) << key << "=" << value << ": " << (out ? "" : out.error().message());
  if (!out || out->empty()) return "<none>";
  EXPECT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].key, key);
  return (*out)[0].value;
}

NegotiationErrc error_of(Negotiator& n, const KeyList& keys, LoginStage stage = kOp) {
  auto out = n.receive(keys, stage);
  EXPECT_FALSE(out);
  return out ? NegotiationErrc::kBadValue : out.error().code;
}

Negotiator target(NegotiationPolicy policy = {}) {
  return Negotiator(Role::kTarget, policy);
}

TEST(NegotiationAcceptor, ListPicksFirstOfProposersOrderThatWeSupport) {
  NegotiationPolicy policy;
  policy.header_digests = {"None", "CRC32C"};
  auto n = target(policy);
  EXPECT_EQ(answer_of(n, "HeaderDigest", "CRC32C,None"), "CRC32C");
  EXPECT_EQ(answer_of(n, "DataDigest", "None,CRC32C"), "None");
}

TEST(NegotiationAcceptor, ListSkipsUnknownValuesAndRejectsWhenNoneFit) {
  auto n = target();  // digests: None only
  EXPECT_EQ(answer_of(n, "HeaderDigest", "X-vendor,CRC32C,None"), "None");
  EXPECT_EQ(answer_of(n, "DataDigest", "CRC32C"), "Reject");
  auto result = n.finish();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->connection.data_digest, DigestType::kNone);
}

TEST(NegotiationAcceptor, NumericalMinAndMax) {
  NegotiationPolicy policy;
  policy.max_burst_length = 1048576;
  policy.default_time2wait = 2;
  auto n = target(policy);
  EXPECT_EQ(answer_of(n, "MaxBurstLength", "16776192"), "1048576");
  EXPECT_EQ(answer_of(n, "MaxOutstandingR2T", "8"), "1");
  EXPECT_EQ(answer_of(n, "DefaultTime2Wait", "0"), "2");
  EXPECT_EQ(answer_of(n, "DefaultTime2Retain", "0"), "0");
  EXPECT_EQ(answer_of(n, "ErrorRecoveryLevel", "0x2"), "0");
  auto result = n.finish();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->session.max_burst_length, 1048576u);
  EXPECT_EQ(result->session.default_time2wait, 2u);
  EXPECT_EQ(result->session.default_time2retain, 0u);
}

TEST(NegotiationAcceptor, NumericalOutOfRangeOrMalformedIsRejected) {
  auto n = target();
  EXPECT_EQ(answer_of(n, "MaxBurstLength", "511"), "Reject");
  EXPECT_EQ(answer_of(n, "FirstBurstLength", "16777216"), "Reject");
  EXPECT_EQ(answer_of(n, "MaxConnections", "0"), "Reject");
  EXPECT_EQ(answer_of(n, "DefaultTime2Wait", "3601"), "Reject");
  EXPECT_EQ(answer_of(n, "ErrorRecoveryLevel", "3"), "Reject");
  EXPECT_EQ(answer_of(n, "MaxOutstandingR2T", "many"), "Reject");
  // Rejected keys keep their defaults.
  auto result = n.finish();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->session.max_burst_length, 262144u);
  EXPECT_EQ(result->session.first_burst_length, 65536u);
}

TEST(NegotiationAcceptor, BooleanAndOr) {
  NegotiationPolicy policy;
  policy.immediate_data = true;
  policy.initial_r2t = false;
  policy.data_pdu_in_order = true;
  auto n = target(policy);
  EXPECT_EQ(answer_of(n, "ImmediateData", "No"), "No");
  EXPECT_EQ(answer_of(n, "InitialR2T", "No"), "No");
  EXPECT_EQ(answer_of(n, "DataPDUInOrder", "No"), "Yes");
  EXPECT_EQ(answer_of(n, "IFMarker", "Yes"), "No");
  EXPECT_EQ(answer_of(n, "DataSequenceInOrder", "maybe"), "Reject");
  auto result = n.finish();
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->session.immediate_data);
  EXPECT_FALSE(result->session.initial_r2t);
  EXPECT_TRUE(result->session.data_pdu_in_order);
}

TEST(NegotiationAcceptor, MarkerIntervalsAreIrrelevant) {
  auto n = target();
  EXPECT_EQ(answer_of(n, "OFMarkInt", "2048~8192"), "Irrelevant");
}

TEST(NegotiationAcceptor, UnknownAndExtensionKeysAreNotUnderstood) {
  auto n = target();
  EXPECT_EQ(answer_of(n, "X-com.cisco.protocol", "draft20"), "NotUnderstood");
  EXPECT_EQ(answer_of(n, "FutureKey", "1"), "NotUnderstood");
  EXPECT_EQ(error_of(n, {{"FutureKey", "1"}}), NegotiationErrc::kRenegotiated);
}

TEST(NegotiationAcceptor, DeclarativesGetNoAnswerAndAreRecorded) {
  auto n = target();
  auto out = n.receive({{"InitiatorName", "iqn.1994-05.com.redhat:abc"},
                        {"InitiatorAlias", "host"},
                        {"SessionType", "Normal"},
                        {"TargetName", "iqn.2003-01.org.example:t1"}},
                       kSec);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->empty());
  ASSERT_TRUE(n.receive({{"MaxRecvDataSegmentLength", "262144"}}, kOp));
  auto result = n.finish();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->session.initiator_name, "iqn.1994-05.com.redhat:abc");
  EXPECT_EQ(result->session.initiator_alias, "host");
  EXPECT_EQ(result->session.target_name, "iqn.2003-01.org.example:t1");
  EXPECT_EQ(result->connection.max_send_data_segment_length, 262144u);
  EXPECT_EQ(result->connection.max_recv_data_segment_length, 8192u);
}

TEST(NegotiationAcceptor, DeclarativeErrors) {
  auto n = target();
  EXPECT_EQ(error_of(n, {{"MaxRecvDataSegmentLength", "511"}}), NegotiationErrc::kOutOfRange);
  auto m = target();
  EXPECT_EQ(error_of(m, {{"MaxRecvDataSegmentLength", "lots"}}), NegotiationErrc::kBadValue);
  auto s = target();
  EXPECT_EQ(error_of(s, {{"SessionType", "Sideways"}}, kSec), NegotiationErrc::kBadValue);
  auto r = target();
  EXPECT_EQ(error_of(r, {{"InitiatorName", "Reject"}}, kSec), NegotiationErrc::kBadValue);
}

TEST(NegotiationAcceptor, TargetDeclaresItsMaxRecvDataSegmentLengthOnce) {
  NegotiationPolicy policy;
  policy.max_recv_data_segment_length = 65536;
  auto n = target(policy);
  EXPECT_EQ(n.target_declarations(), (KeyList{{"MaxRecvDataSegmentLength", "65536"}}));
  EXPECT_TRUE(n.target_declarations().empty());
  auto result = n.finish();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->connection.max_recv_data_segment_length, 65536u);
}

TEST(NegotiationAcceptor, TargetDeclaresAfterInitiatorDeclared) {
  auto n = target();
  ASSERT_TRUE(n.receive({{"MaxRecvDataSegmentLength", "262144"}}, kOp));
  EXPECT_EQ(n.target_declarations(), (KeyList{{"MaxRecvDataSegmentLength", "8192"}}));
  auto result = n.finish();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->connection.max_send_data_segment_length, 262144u);
}

TEST(NegotiationAcceptor, WrongSender) {
  auto n = target();
  EXPECT_EQ(error_of(n, {{"TargetAlias", "x"}}, kSec), NegotiationErrc::kWrongSender);
  Negotiator initiator(Role::kInitiator, {});
  EXPECT_EQ(error_of(initiator, {{"InitiatorName", "iqn.x"}}, kSec), NegotiationErrc::kWrongSender);
  Negotiator initiator2(Role::kInitiator, {});
  EXPECT_EQ(error_of(initiator2, {{"SessionType", "Normal"}}, kSec), NegotiationErrc::kWrongSender);
  Negotiator initiator3(Role::kInitiator, {});
  EXPECT_EQ(error_of(initiator3, {{"TargetName", "iqn.x"}}, kOp), NegotiationErrc::kWrongSender);
}

TEST(NegotiationAcceptor, WrongStage) {
  auto a = target();
  EXPECT_EQ(error_of(a, {{"MaxBurstLength", "65536"}}, kSec), NegotiationErrc::kWrongStage);
  auto b = target();
  EXPECT_EQ(error_of(b, {{"AuthMethod", "None"}}, kOp), NegotiationErrc::kWrongStage);
  auto c = target();
  EXPECT_EQ(error_of(c, {{"SendTargets", "All"}}, kOp), NegotiationErrc::kWrongStage);
  auto d = target();
  EXPECT_EQ(error_of(d, {{"InitialR2T", "Yes"}}, kFfp), NegotiationErrc::kWrongStage);
  auto e = target();
  EXPECT_EQ(error_of(e, {{"HeaderDigest", "None"}}, kFfp), NegotiationErrc::kWrongStage);
  // Any-stage keys and ALL keys are fine where the RFC allows them.
  auto f = target();
  EXPECT_TRUE(f.receive({{"InitiatorName", "iqn.x"}}, kOp));
  auto g = target();
  EXPECT_TRUE(g.receive({{"SendTargets", "All"}, {"MaxRecvDataSegmentLength", "8192"}}, kFfp));
}

TEST(NegotiationAcceptor, LeadingOnlyKeysOnSecondConnection) {
  Negotiator n(Role::kTarget, {}, /*leading_connection=*/false);
  EXPECT_EQ(error_of(n, {{"MaxBurstLength", "65536"}}), NegotiationErrc::kNotLeading);
  Negotiator m(Role::kTarget, {}, false);
  EXPECT_EQ(answer_of(m, "HeaderDigest", "None"), "None");
}

TEST(NegotiationAcceptor, ChapKeysAreNotNegotiatedHere) {
  auto n = target();
  EXPECT_EQ(error_of(n, {{"CHAP_A", "5"}}, kSec), NegotiationErrc::kNotNegotiable);
}

TEST(NegotiationAcceptor, KeyTwiceInOneLoginIsRenegotiation) {
  auto n = target();
  EXPECT_EQ(answer_of(n, "MaxBurstLength", "65536"), "65536");
  EXPECT_EQ(error_of(n, {{"MaxBurstLength", "65536"}}), NegotiationErrc::kRenegotiated);
  auto m = target();
  ASSERT_TRUE(m.receive({{"InitiatorName", "iqn.a"}}, kSec));
  EXPECT_EQ(error_of(m, {{"InitiatorName", "iqn.a"}}, kOp), NegotiationErrc::kRenegotiated);
}

TEST(NegotiationAcceptor, AnswersComeInThePeersOrder) {
  auto n = target();
  auto out = n.receive({{"FirstBurstLength", "65536"},
                        {"HeaderDigest", "None"},
                        {"MaxBurstLength", "262144"},
                        {"SessionType", "Normal"}},
                       kOp);
  // SessionType is leading-only but Any-Stage: legal in the operational stage.
  ASSERT_TRUE(out) << out.error().message();
  ASSERT_EQ(out->size(), 3u);
  EXPECT_EQ((*out)[0].key, "FirstBurstLength");
  EXPECT_EQ((*out)[1].key, "HeaderDigest");
  EXPECT_EQ((*out)[2].key, "MaxBurstLength");
}

TEST(NegotiationAcceptor, FirstBurstNeverAboveMaxBurstWhateverTheOrder) {
  auto n = target();
  auto out = n.receive({{"FirstBurstLength", "262144"}, {"MaxBurstLength", "16384"}}, kOp);
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)[0], (TextKey{"FirstBurstLength", "16384"}));
  EXPECT_EQ((*out)[1], (TextKey{"MaxBurstLength", "16384"}));
  auto result = n.finish();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->session.first_burst_length, 16384u);
}

TEST(NegotiationAcceptor, DiscoverySessionAnswersIrrelevant) {
  auto n = target();
  ASSERT_TRUE(n.receive({{"SessionType", "Discovery"}}, kSec));
  auto out = n.receive({{"InitialR2T", "No"},
                        {"MaxBurstLength", "65536"},
                        {"MaxConnections", "1"},
                        {"DefaultTime2Wait", "2"},
                        {"RDMAExtensions", "Yes"}},
                       kOp);
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)[0].value, "Irrelevant");
  EXPECT_EQ((*out)[1].value, "Irrelevant");
  EXPECT_EQ((*out)[2].value, "Irrelevant");
  EXPECT_EQ((*out)[3].value, "2");
  EXPECT_EQ((*out)[4].value, "Irrelevant");
  auto result = n.finish();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->session.session_type, SessionType::kDiscovery);
  EXPECT_EQ(result->session.max_burst_length, 262144u);
}

TEST(NegotiationAcceptor, IserKeysIrrelevantOnTcp) {
  auto n = target();
  auto out = n.receive({{"RDMAExtensions", "Yes"},
                        {"InitiatorRecvDataSegmentLength", "262144"},
                        {"TargetRecvDataSegmentLength", "8192"}},
                       kOp);
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)[0].value, "No");
  EXPECT_EQ((*out)[1].value, "Irrelevant");
  EXPECT_EQ((*out)[2].value, "Irrelevant");
}

TEST(NegotiationAcceptor, IserTargetAgainstLinuxInitiator) {
  NegotiationPolicy policy;
  policy.rdma_extensions = true;
  policy.header_digests = {"CRC32C", "None"};  // ignored on iSER
  policy.target_recv_data_segment_length = 8192;
  policy.initiator_recv_data_segment_length = 16777215;
  auto n = target(policy);
  auto out = n.receive({{"DefaultTime2Wait", "2"},
                        {"InitialR2T", "No"},
                        {"ImmediateData", "Yes"},
                        {"InitiatorRecvDataSegmentLength", "262144"},
                        {"TargetRecvDataSegmentLength", "262144"},
                        {"RDMAExtensions", "Yes"}},
                       kOp);
  ASSERT_TRUE(out);
  EXPECT_EQ(*find_key(*out, "InitiatorRecvDataSegmentLength"), "262144");
  EXPECT_EQ(*find_key(*out, "TargetRecvDataSegmentLength"), "8192");
  EXPECT_EQ(*find_key(*out, "RDMAExtensions"), "Yes");
  EXPECT_EQ(answer_of(n, "HeaderDigest", "CRC32C,None"), "None");
  EXPECT_TRUE(n.target_declarations().empty());
  auto result = n.finish();
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->session.rdma_extensions);
  EXPECT_EQ(result->connection.max_recv_data_segment_length, 8192u);
  EXPECT_EQ(result->connection.max_send_data_segment_length, 262144u);
  EXPECT_EQ(result->connection.header_digest, DigestType::kNone);
}

TEST(NegotiationAcceptor, IserTargetRequiresRdmaExtensions) {
  NegotiationPolicy policy;
  policy.rdma_extensions = true;
  auto n = target(policy);
  EXPECT_EQ(answer_of(n, "RDMAExtensions", "No"), "No");
  auto result = n.finish();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, NegotiationErrc::kRdmaExtensionsRequired);
  auto m = target(policy);
  ASSERT_FALSE(m.finish());
}

TEST(NegotiationAcceptor, MaxOutstandingUnexpectedPdusZeroIsUnlimited) {
  NegotiationPolicy policy;
  policy.rdma_extensions = true;
  policy.max_outstanding_unexpected_pdus = 0;
  auto n = target(policy);
  ASSERT_TRUE(n.receive({{"RDMAExtensions", "Yes"}}, kOp));
  EXPECT_EQ(answer_of(n, "MaxOutstandingUnexpectedPDUs", "16"), "16");
  policy.max_outstanding_unexpected_pdus = 8;
  auto m = target(policy);
  ASSERT_TRUE(m.receive({{"RDMAExtensions", "Yes"}}, kOp));
  EXPECT_EQ(answer_of(m, "MaxOutstandingUnexpectedPDUs", "0"), "8");
  auto k = target(policy);
  ASSERT_TRUE(k.receive({{"RDMAExtensions", "Yes"}}, kOp));
  EXPECT_EQ(answer_of(k, "MaxOutstandingUnexpectedPDUs", "1"), "Reject");
}

// --- The proposer's side: checking the peer's answers. ---

Negotiator initiator_with_offer(NegotiationPolicy policy = {},
                                SessionType type = SessionType::kNormal) {
  Negotiator n(Role::kInitiator, policy);
  (void)n.initiator_offer(type);
  return n;
}

TEST(NegotiationProposer, OfferFollowsOpenIscsiOrder) {
  Negotiator n(Role::kInitiator, {});
  const KeyList offer = n.initiator_offer(SessionType::kNormal);
  std::vector<std::string> names;
  for (const auto& [key, value] : offer)
    names.push_back(key);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "HeaderDigest", "DataDigest", "DefaultTime2Wait", "DefaultTime2Retain",
                       "IFMarker", "OFMarker", "ErrorRecoveryLevel", "InitialR2T", "ImmediateData",
                       "MaxBurstLength", "FirstBurstLength", "MaxOutstandingR2T", "MaxConnections",
                       "DataPDUInOrder", "DataSequenceInOrder", "MaxRecvDataSegmentLength"}));
  EXPECT_EQ(*find_key(offer, "MaxBurstLength"), "262144");
  // A second call offers nothing new.
  EXPECT_TRUE(n.initiator_offer(SessionType::kNormal).empty());
}

TEST(NegotiationProposer, DiscoveryOfferIsShort) {
  Negotiator n(Role::kInitiator, {});
  const KeyList offer = n.initiator_offer(SessionType::kDiscovery);
  EXPECT_EQ(find_key(offer, "MaxBurstLength"), nullptr);
  EXPECT_NE(find_key(offer, "MaxRecvDataSegmentLength"), nullptr);
}

TEST(NegotiationProposer, IserOfferHasNoDigestsAndTheIserKeys) {
  NegotiationPolicy policy;
  policy.rdma_extensions = true;
  Negotiator n(Role::kInitiator, policy);
  const KeyList offer = n.initiator_offer(SessionType::kNormal);
  EXPECT_EQ(find_key(offer, "HeaderDigest"), nullptr);
  EXPECT_EQ(find_key(offer, "MaxRecvDataSegmentLength"), nullptr);
  EXPECT_EQ(*find_key(offer, "RDMAExtensions"), "Yes");
  EXPECT_NE(find_key(offer, "InitiatorRecvDataSegmentLength"), nullptr);
}

TEST(NegotiationProposer, LegalAnswersAreAccepted) {
  auto n = initiator_with_offer();
  auto out = n.receive({{"HeaderDigest", "None"},
                        {"DataDigest", "None"},
                        {"DefaultTime2Wait", "5"},
                        {"DefaultTime2Retain", "0"},
                        {"IFMarker", "No"},
                        {"OFMarker", "No"},
                        {"ErrorRecoveryLevel", "0"},
                        {"InitialR2T", "Yes"},
                        {"ImmediateData", "No"},
                        {"MaxBurstLength", "65536"},
                        {"FirstBurstLength", "8192"},
                        {"MaxOutstandingR2T", "1"},
                        {"MaxConnections", "1"},
                        {"DataPDUInOrder", "Yes"},
                        {"DataSequenceInOrder", "Yes"},
                        {"MaxRecvDataSegmentLength", "32768"},
                        {"TargetPortalGroupTag", "1"},
                        {"TargetAlias", "array"}},
                       kOp);
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_TRUE(out->empty());  // answers need no answer
  EXPECT_TRUE(n.pending().empty());
  auto result = n.finish();
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->session.default_time2wait, 5u);
  EXPECT_FALSE(result->session.immediate_data);
  EXPECT_EQ(result->session.max_burst_length, 65536u);
  EXPECT_EQ(result->session.first_burst_length, 8192u);
  EXPECT_EQ(result->session.target_portal_group_tag, 1);
  EXPECT_EQ(result->session.target_alias, "array");
  EXPECT_EQ(result->connection.max_send_data_segment_length, 32768u);
}

TEST(NegotiationProposer, IllegalAnswers) {
  struct Case {
    TextKey answer;
    NegotiationErrc code;
  };
  const Case cases[] = {
      {{"HeaderDigest", "CRC32C"}, NegotiationErrc::kNotOffered},
      {{"HeaderDigest", "None,CRC32C"}, NegotiationErrc::kNotOffered},
      {{"MaxBurstLength", "524288"}, NegotiationErrc::kIllegalResponse},
      {{"MaxBurstLength", "256"}, NegotiationErrc::kOutOfRange},
      {{"MaxBurstLength", "big"}, NegotiationErrc::kBadValue},
      {{"DefaultTime2Wait", "1"}, NegotiationErrc::kIllegalResponse},
      {{"IFMarker", "Yes"}, NegotiationErrc::kIllegalResponse},
      {{"InitialR2T", "No"}, NegotiationErrc::kIllegalResponse},
      {{"ImmediateData", "Maybe"}, NegotiationErrc::kBadValue},
      {{"ErrorRecoveryLevel", "3"}, NegotiationErrc::kOutOfRange},
  };
  for (const auto& c : cases) {
    auto n = initiator_with_offer();
    auto out = n.receive({c.answer}, kOp);
    ASSERT_FALSE(out) << c.answer.key << "=" << c.answer.value;
    EXPECT_EQ(out.error().code, c.code) << c.answer.key << "=" << c.answer.value;
    EXPECT_EQ(out.error().key, c.answer.key);
  }
}

TEST(NegotiationProposer, ReservedAnswersKeepDefaults) {
  NegotiationPolicy policy;
  policy.max_burst_length = 1048576;
  auto n = initiator_with_offer(policy);
  ASSERT_TRUE(n.receive({{"MaxBurstLength", "Reject"},
                         {"MaxConnections", "Irrelevant"},
                         {"ErrorRecoveryLevel", "NotUnderstood"}},
                        kOp));
  auto pending = n.pending();
  EXPECT_EQ(std::count(pending.begin(), pending.end(), "MaxBurstLength"), 0);
}

TEST(NegotiationProposer, MissingAnswerFailsFinish) {
  auto n = initiator_with_offer();
  ASSERT_TRUE(n.receive({{"HeaderDigest", "None"}}, kOp));
  const auto pending = n.pending();
  EXPECT_NE(std::find(pending.begin(), pending.end(), "MaxBurstLength"), pending.end());
  // Offers that decide their own result need no answer (RFC 7143 §6.2.2):
  // IFMarker=No (AND) and InitialR2T=Yes, DataPDUInOrder=Yes (OR).
  EXPECT_EQ(std::find(pending.begin(), pending.end(), "IFMarker"), pending.end());
  EXPECT_EQ(std::find(pending.begin(), pending.end(), "InitialR2T"), pending.end());
  auto result = n.finish();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, NegotiationErrc::kMissingResponse);
}

TEST(NegotiationProposer, TargetProposalIsAnswered) {
  auto n = initiator_with_offer();
  EXPECT_EQ(answer_of(n, "TaskReporting", "ResponseFence,RFC3720"), "RFC3720");
}

TEST(NegotiationProposer, FirstBurstAboveMaxBurstIsInconsistent) {
  Negotiator n(Role::kInitiator, {});
  n.note_sent("MaxBurstLength", "65536");
  n.note_sent("FirstBurstLength", "65536");
  // Each answer is legal alone; together they break RFC 7143 §13.14.
  ASSERT_TRUE(n.receive({{"MaxBurstLength", "16384"}, {"FirstBurstLength", "65536"}}, kOp));
  auto result = n.finish();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, NegotiationErrc::kBurstInconsistent);
  EXPECT_EQ(result.error().key, "FirstBurstLength");
}

TEST(NegotiationProposer, FirstBurstIrrelevantWithoutUnsolicitedData) {
  // With InitialR2T=Yes and ImmediateData=No no unsolicited data flows, so
  // FirstBurstLength is irrelevant and not checked against MaxBurstLength.
  Negotiator n(Role::kInitiator, {});
  n.note_sent("MaxBurstLength", "65536");
  n.note_sent("FirstBurstLength", "65536");
  n.note_sent("ImmediateData", "No");
  ASSERT_TRUE(n.receive({{"MaxBurstLength", "16384"}, {"FirstBurstLength", "65536"}}, kOp));
  auto result = n.finish();
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_FALSE(result->session.immediate_data);
}

TEST(NegotiationErrors, MessagesNameKeyValueAndRule) {
  NegotiationError error{NegotiationErrc::kOutOfRange, "MaxBurstLength", "256"};
  EXPECT_EQ(error.message(),
            "key 'MaxBurstLength'='256': value outside the key's range (RFC 7143 §13)");
  for (int code = 0; code <= static_cast<int>(NegotiationErrc::kNotNegotiable); ++code) {
    EXPECT_NE(to_string(static_cast<NegotiationErrc>(code)), "unknown negotiation error");
  }
}

}  // namespace
}  // namespace isergw::iscsi
