// Operational and security key negotiation of one login (RFC 7143 §6.2,
// §13; RFC 7145 §6 for iSER): answering the peer's offers, checking the
// peer's answers to ours, and the typed result.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "iscsi/keys.h"
#include "iscsi/login_pdu.h"
#include "iscsi/text_keys.h"

namespace isergw::iscsi {

enum class Role { kInitiator, kTarget };

enum class DigestType { kNone, kCrc32c };
enum class SessionType { kNormal, kDiscovery };

// What this side offers as proposer and accepts as acceptor. Lists are in
// preference order.
struct NegotiationPolicy {
  std::vector<std::string> header_digests{"None"};
  std::vector<std::string> data_digests{"None"};
  std::vector<std::string> auth_methods{"None"};
  std::vector<std::string> task_reporting{"RFC3720"};
  std::uint32_t max_connections = 1;
  bool initial_r2t = true;
  bool immediate_data = true;
  // Declared: the largest data segment this side can receive.
  std::uint32_t max_recv_data_segment_length = 8192;
  std::uint32_t max_burst_length = 262144;
  std::uint32_t first_burst_length = 65536;
  std::uint32_t default_time2wait = 2;
  std::uint32_t default_time2retain = 20;
  std::uint32_t max_outstanding_r2t = 1;
  bool data_pdu_in_order = true;
  bool data_sequence_in_order = true;
  std::uint32_t error_recovery_level = 0;
  std::uint32_t iscsi_protocol_level = 1;
  // True on an iSER connection (RFC 7145 §6.3): Normal sessions must end
  // with RDMAExtensions=Yes, digests are None (§6.1), and the iSER data
  // segment keys replace MaxRecvDataSegmentLength.
  bool rdma_extensions = false;
  std::uint32_t initiator_recv_data_segment_length = 8192;
  std::uint32_t target_recv_data_segment_length = 8192;
  std::uint32_t max_outstanding_unexpected_pdus = 0;
};

struct SessionParameters {
  SessionType session_type = SessionType::kNormal;
  std::string initiator_name;
  std::string initiator_alias;
  std::string target_name;
  std::string target_alias;
  std::optional<std::uint16_t> target_portal_group_tag;
  std::uint32_t max_connections = 1;
  bool initial_r2t = true;
  bool immediate_data = true;
  std::uint32_t max_burst_length = 262144;
  std::uint32_t first_burst_length = 65536;
  std::uint32_t default_time2wait = 2;
  std::uint32_t default_time2retain = 20;
  std::uint32_t max_outstanding_r2t = 1;
  bool data_pdu_in_order = true;
  bool data_sequence_in_order = true;
  std::uint32_t error_recovery_level = 0;
  std::string task_reporting = "RFC3720";
  std::uint32_t iscsi_protocol_level = 1;
  bool rdma_extensions = false;
  // As declared by the peer (RFC 7145 §6.7); 0 is no limit.
  std::uint32_t peer_max_outstanding_unexpected_pdus = 0;

  friend bool operator==(const SessionParameters&, const SessionParameters&) = default;
};

struct ConnectionParameters {
  DigestType header_digest = DigestType::kNone;
  DigestType data_digest = DigestType::kNone;
  std::string auth_method = "None";
  // The largest data segment the peer may send us (what we declared) and
  // the largest we may send it (what it declared). With RDMAExtensions=Yes
  // these come from Initiator/TargetRecvDataSegmentLength (RFC 7145 §6.4,
  // §6.5) instead of MaxRecvDataSegmentLength.
  std::uint32_t max_recv_data_segment_length = 8192;
  std::uint32_t max_send_data_segment_length = 8192;

  friend bool operator==(const ConnectionParameters&, const ConnectionParameters&) = default;
};

struct NegotiatedParameters {
  SessionParameters session;
  ConnectionParameters connection;
};

enum class NegotiationErrc {
  kBadValue,                // not of the key's syntax, where no Reject answer is possible
  kOutOfRange,              // a declared number outside the key's range
  kNotOffered,              // a list answer that is not one of the values we offered
  kIllegalResponse,         // an answer the result function does not allow
  kWrongSender,             // e.g. a target sending InitiatorName (RFC 7143 §13)
  kWrongStage,              // a key outside its stage, e.g. MaxBurstLength in security
  kNotLeading,              // a leading-only key on a non-leading connection
  kRenegotiated,            // a key negotiated twice in one login (RFC 7143 §6.2)
  kMissingResponse,         // the peer left one of our offers unanswered
  kBurstInconsistent,       // FirstBurstLength > MaxBurstLength (RFC 7143 §13.14)
  kRdmaExtensionsRequired,  // iSER connection without RDMAExtensions=Yes
  kNotNegotiable,           // a CHAP key, which belongs to the authentication exchange
};

struct NegotiationError {
  NegotiationErrc code;
  std::string key;
  std::string value;

  std::string message() const;
};

std::string_view to_string(NegotiationErrc code);

class Negotiator {
 public:
  Negotiator(Role role, NegotiationPolicy policy, bool leading_connection = true);

  // The initiator's operational offer for the session type: every key whose
  // value this side wants, in the order the Linux initiator sends them. The
  // keys are recorded as awaiting an answer.
  KeyList initiator_offer(SessionType type);

  // The target's declarations not yet sent (MaxRecvDataSegmentLength or its
  // iSER replacement), for the response that ends the operational stage.
  KeyList target_declarations();

  // Records one key this side sends, as proposer or declarer (used for keys
  // the login machine adds itself, e.g. AuthMethod or TargetPortalGroupTag).
  void note_sent(std::string_view key, std::string_view value);

  // Consumes the peer's keys of one PDU (or C-bit sequence) in a stage and
  // returns our answers, in the peer's order. CHAP keys must not be passed.
  Expected<KeyList, NegotiationError> receive(const KeyList& keys, LoginStage stage);

  // Keys we offered that still await an answer the result function needs.
  std::vector<std::string> pending() const;

  // The negotiated values, defaults where a key was not negotiated; fails if
  // an answer is missing or the values are inconsistent.
  Expected<NegotiatedParameters, NegotiationError> finish() const;

  // The agreed (or declared) value of a key so far, if any.
  std::optional<std::string> value_of(std::string_view key) const;

  SessionType session_type() const { return session_type_; }

 private:
  struct KeyState {
    std::optional<std::string> offered;  // what we proposed or declared
    std::optional<std::string> peer;     // what the peer proposed or declared
    std::optional<std::string> result;   // the agreed value (not for declaratives)
    bool answered = false;               // our offer got its answer
  };

  Expected<std::optional<std::string>, NegotiationError> receive_one(const KeyDefinition& def,
                                                                     std::string_view value,
                                                                     LoginStage stage);
  Expected<void, NegotiationError> check_answer(const KeyDefinition& def, KeyState& state,
                                                std::string_view value);
  std::string answer(const KeyDefinition& def, std::string_view value);
  std::string local_value(const KeyDefinition& def) const;
  std::vector<std::string> acceptable_list(const KeyDefinition& def) const;

  Role role_;
  NegotiationPolicy policy_;
  bool leading_;
  SessionType session_type_ = SessionType::kNormal;
  std::map<std::string, KeyState, std::less<>> keys_;
};

}  // namespace isergw::iscsi
