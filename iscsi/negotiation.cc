#include "iscsi/negotiation.h"

#include <algorithm>
#include <array>

namespace isergw::iscsi {
namespace {

Unexpected<NegotiationError> fail(NegotiationErrc code, std::string_view key,
                                  std::string_view value) {
  return Unexpected{NegotiationError{code, std::string(key), std::string(value.substr(0, 64))}};
}

std::vector<std::string_view> split_list(std::string_view value) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = value.find(',', start);
    out.push_back(value.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

bool is_reserved_answer(std::string_view value) {
  return value == kReject || value == kIrrelevant || value == kNotUnderstood;
}

std::string join(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& value : values) {
    if (!out.empty()) out += ',';
    out += value;
  }
  return out;
}

bool in_range(const KeyDefinition& def, std::uint64_t value) {
  return value >= def.min && value <= def.max && (!def.zero_is_unlimited || value != 1);
}

// Numerical keys and declared numbers are processed before the rest of a PDU
// so that answers depending on them (FirstBurstLength on MaxBurstLength,
// Irrelevant on SessionType or RDMAExtensions) see them, whatever the
// peer's order.
constexpr std::array<std::string_view, 3> kFirstKeys = {"SessionType", "RDMAExtensions",
                                                        "MaxBurstLength"};

}  // namespace

std::string_view to_string(NegotiationErrc code) {
  switch (code) {
    case NegotiationErrc::kBadValue:
      return "value is not of the key's syntax (RFC 7143 §6.1)";
    case NegotiationErrc::kOutOfRange:
      return "value outside the key's range (RFC 7143 §13)";
    case NegotiationErrc::kNotOffered:
      return "answer is not one of the offered values (RFC 7143 §6.2.1)";
    case NegotiationErrc::kIllegalResponse:
      return "answer not allowed by the key's result function (RFC 7143 §6.2.2)";
    case NegotiationErrc::kWrongSender:
      return "key may not be sent by this side (RFC 7143 §13)";
    case NegotiationErrc::kWrongStage:
      return "key not allowed in this stage (RFC 7143 §6.3, §13)";
    case NegotiationErrc::kNotLeading:
      return "leading-only key on a non-leading connection (RFC 7143 §13)";
    case NegotiationErrc::kRenegotiated:
      return "key negotiated more than once (RFC 7143 §6.2)";
    case NegotiationErrc::kMissingResponse:
      return "offered key left unanswered (RFC 7143 §6.2)";
    case NegotiationErrc::kBurstInconsistent:
      return "FirstBurstLength exceeds MaxBurstLength (RFC 7143 §13.14)";
    case NegotiationErrc::kRdmaExtensionsRequired:
      return "iSER connection without RDMAExtensions=Yes (RFC 7145 §6.3)";
    case NegotiationErrc::kNotNegotiable:
      return "CHAP key outside the authentication exchange (RFC 7143 §12.1.3)";
  }
  return "unknown negotiation error";
}

std::string NegotiationError::message() const {
  std::string out = "key '" + key + "'";
  if (!value.empty()) out += "='" + value + "'";
  out += ": ";
  out += to_string(code);
  return out;
}

Negotiator::Negotiator(Role role, NegotiationPolicy policy, bool leading_connection)
    : role_(role), policy_(std::move(policy)), leading_(leading_connection) {}

std::vector<std::string> Negotiator::acceptable_list(const KeyDefinition& def) const {
  if (def.name == "HeaderDigest" || def.name == "DataDigest") {
    // RFC 7145 §6.1: an iSER connection carries no digests.
    if (policy_.rdma_extensions) return {"None"};
    return def.name == "HeaderDigest" ? policy_.header_digests : policy_.data_digests;
  }
  if (def.name == "AuthMethod") return policy_.auth_methods;
  if (def.name == "TaskReporting") return policy_.task_reporting;
  return {};
}

std::string Negotiator::local_value(const KeyDefinition& def) const {
  const auto& p = policy_;
  const std::string_view name = def.name;
  if (def.type == KeyType::kList) return join(acceptable_list(def));
  auto number = [](std::uint64_t v) { return std::to_string(v); };
  if (name == "MaxConnections") return number(p.max_connections);
  if (name == "InitialR2T") return std::string(boolean_text(p.initial_r2t));
  if (name == "ImmediateData") return std::string(boolean_text(p.immediate_data));
  if (name == "MaxRecvDataSegmentLength") return number(p.max_recv_data_segment_length);
  if (name == "MaxBurstLength") return number(p.max_burst_length);
  if (name == "FirstBurstLength") return number(p.first_burst_length);
  if (name == "DefaultTime2Wait") return number(p.default_time2wait);
  if (name == "DefaultTime2Retain") return number(p.default_time2retain);
  if (name == "MaxOutstandingR2T") return number(p.max_outstanding_r2t);
  if (name == "DataPDUInOrder") return std::string(boolean_text(p.data_pdu_in_order));
  if (name == "DataSequenceInOrder") return std::string(boolean_text(p.data_sequence_in_order));
  if (name == "ErrorRecoveryLevel") return number(p.error_recovery_level);
  if (name == "iSCSIProtocolLevel") return number(p.iscsi_protocol_level);
  if (name == "RDMAExtensions") return std::string(boolean_text(p.rdma_extensions));
  if (name == "InitiatorRecvDataSegmentLength") {
    return number(p.initiator_recv_data_segment_length);
  }
  if (name == "TargetRecvDataSegmentLength") return number(p.target_recv_data_segment_length);
  if (name == "MaxOutstandingUnexpectedPDUs") return number(p.max_outstanding_unexpected_pdus);
  return std::string(def.default_value);
}

KeyList Negotiator::initiator_offer(SessionType type) {
  session_type_ = type;
  // The order of the Linux open-iscsi initiator, which targets are most
  // tested against: digests (not on iSER), timers, markers, recovery, then
  // the Normal-session keys and the transport's data segment keys.
  std::vector<std::string_view> names;
  const bool iser = policy_.rdma_extensions && type == SessionType::kNormal;
  if (!iser) names.insert(names.end(), {"HeaderDigest", "DataDigest"});
  names.insert(names.end(), {"DefaultTime2Wait", "DefaultTime2Retain", "IFMarker", "OFMarker",
                             "ErrorRecoveryLevel"});
  if (type == SessionType::kNormal) {
    names.insert(names.end(),
                 {"InitialR2T", "ImmediateData", "MaxBurstLength", "FirstBurstLength",
                  "MaxOutstandingR2T", "MaxConnections", "DataPDUInOrder", "DataSequenceInOrder"});
  }
  if (iser) {
    names.insert(names.end(), {"InitiatorRecvDataSegmentLength", "TargetRecvDataSegmentLength",
                               "RDMAExtensions", "MaxOutstandingUnexpectedPDUs"});
  } else {
    names.push_back("MaxRecvDataSegmentLength");
  }
  KeyList offer;
  for (auto name : names) {
    if (keys_.contains(name)) continue;
    const KeyDefinition* def = find_key_definition(name);
    std::string value = local_value(*def);
    note_sent(name, value);
    offer.push_back({std::string(name), std::move(value)});
  }
  return offer;
}

KeyList Negotiator::target_declarations() {
  KeyList out;
  const bool iser = policy_.rdma_extensions && session_type_ == SessionType::kNormal;
  // With RDMAExtensions=Yes, the iSER keys replace MaxRecvDataSegmentLength
  // (RFC 7145 §6.2); the target answers them, so nothing is declared.
  const auto it = keys_.find("MaxRecvDataSegmentLength");
  if (!iser && (it == keys_.end() || !it->second.offered)) {
    std::string value = std::to_string(policy_.max_recv_data_segment_length);
    note_sent("MaxRecvDataSegmentLength", value);
    out.push_back({"MaxRecvDataSegmentLength", std::move(value)});
  }
  return out;
}

void Negotiator::note_sent(std::string_view key, std::string_view value) {
  auto& state = keys_[std::string(key)];
  state.offered = std::string(value);
  if (key == "SessionType" && value == "Discovery") session_type_ = SessionType::kDiscovery;
}

std::string Negotiator::answer(const KeyDefinition& def, std::string_view value) {
  if (def.always_irrelevant) return std::string(kIrrelevant);
  if (def.irrelevant_for_discovery && session_type_ == SessionType::kDiscovery) {
    return std::string(kIrrelevant);
  }
  if (def.iser_only) {
    // RFC 7145 §6.4 - §6.7: the iSER keys mean nothing without RDMAExtensions=Yes.
    const auto rdma = value_of("RDMAExtensions");
    if (!(rdma ? *rdma == "Yes" : policy_.rdma_extensions)) return std::string(kIrrelevant);
  }
  switch (def.type) {
    case KeyType::kList: {
      // RFC 7143 §6.2.1: the first value, in the proposer's order, that the
      // acceptor supports; values it does not know are skipped.
      const auto ours = acceptable_list(def);
      for (auto offered : split_list(value)) {
        if (std::find(ours.begin(), ours.end(), offered) != ours.end()) {
          return std::string(offered);
        }
      }
      return std::string(kReject);
    }
    case KeyType::kNumericalMin:
    case KeyType::kNumericalMax: {
      const auto theirs = parse_numerical(value);
      if (!theirs || !in_range(def, *theirs)) return std::string(kReject);
      std::uint64_t ours = *parse_numerical(local_value(def));
      if (def.name == "FirstBurstLength") {
        // RFC 7143 §13.14: never agree to more than MaxBurstLength.
        if (auto max_burst = value_of("MaxBurstLength")) {
          if (auto mb = parse_numerical(*max_burst)) ours = std::min(ours, *mb);
        }
      }
      std::uint64_t result;
      if (def.type == KeyType::kNumericalMax) {
        result = std::max(ours, *theirs);
      } else if (def.zero_is_unlimited && (ours == 0 || *theirs == 0)) {
        result = std::max(ours, *theirs);
      } else {
        result = std::min(ours, *theirs);
      }
      return std::to_string(result);
    }
    case KeyType::kBooleanAnd:
    case KeyType::kBooleanOr: {
      const auto theirs = parse_boolean(value);
      if (!theirs) return std::string(kReject);
      const bool ours = *parse_boolean(local_value(def));
      return std::string(
          boolean_text(def.type == KeyType::kBooleanAnd ? (ours && *theirs) : (ours || *theirs)));
    }
    case KeyType::kDeclarative:
      break;
  }
  return {};
}

Expected<void, NegotiationError> Negotiator::check_answer(const KeyDefinition& def, KeyState& state,
                                                          std::string_view value) {
  const std::string& offered = *state.offered;
  state.answered = true;
  if (is_reserved_answer(value)) return {};  // the key keeps its default
  switch (def.type) {
    case KeyType::kList: {
      const auto ours = split_list(offered);
      if (std::find(ours.begin(), ours.end(), value) == ours.end()) {
        return fail(NegotiationErrc::kNotOffered, def.name, value);
      }
      break;
    }
    case KeyType::kNumericalMin:
    case KeyType::kNumericalMax: {
      const auto theirs = parse_numerical(value);
      if (!theirs) return fail(NegotiationErrc::kBadValue, def.name, value);
      if (!in_range(def, *theirs)) return fail(NegotiationErrc::kOutOfRange, def.name, value);
      const std::uint64_t ours = *parse_numerical(offered);
      bool legal;
      if (def.type == KeyType::kNumericalMax) {
        legal = *theirs >= ours;
      } else if (def.zero_is_unlimited) {
        legal = ours == 0 || (*theirs != 0 && *theirs <= ours);
      } else {
        legal = *theirs <= ours;
      }
      if (!legal) return fail(NegotiationErrc::kIllegalResponse, def.name, value);
      break;
    }
    case KeyType::kBooleanAnd:
    case KeyType::kBooleanOr: {
      const auto theirs = parse_boolean(value);
      if (!theirs) return fail(NegotiationErrc::kBadValue, def.name, value);
      const bool ours = offered == "Yes";
      // AND with our No can only be No; OR with our Yes only Yes.
      if (def.type == KeyType::kBooleanAnd && !ours && *theirs) {
        return fail(NegotiationErrc::kIllegalResponse, def.name, value);
      }
      if (def.type == KeyType::kBooleanOr && ours && !*theirs) {
        return fail(NegotiationErrc::kIllegalResponse, def.name, value);
      }
      break;
    }
    case KeyType::kDeclarative:
      break;
  }
  state.result = std::string(value);
  return {};
}

Expected<std::optional<std::string>, NegotiationError> Negotiator::receive_one(
    const KeyDefinition& def, std::string_view value, LoginStage stage) {
  const std::string_view name = def.name;
  const bool from_initiator = role_ == Role::kTarget;
  if ((def.senders == KeySenders::kInitiator && !from_initiator) ||
      (def.senders == KeySenders::kTarget && from_initiator)) {
    // TargetName from a target is legal only in a SendTargets answer, which
    // is a full-feature Text exchange.
    return fail(NegotiationErrc::kWrongSender, name, value);
  }
  if (name == "TargetName" && !from_initiator && stage != LoginStage::kFullFeaturePhase) {
    return fail(NegotiationErrc::kWrongSender, name, value);
  }
  switch (stage) {
    case LoginStage::kSecurityNegotiation:
      if (def.use != KeyUse::kSecurity && !def.any_stage) {
        return fail(NegotiationErrc::kWrongStage, name, value);
      }
      break;
    case LoginStage::kLoginOperationalNegotiation:
      if (def.use == KeyUse::kSecurity || def.use == KeyUse::kFullFeatureOnly) {
        return fail(NegotiationErrc::kWrongStage, name, value);
      }
      break;
    case LoginStage::kFullFeaturePhase:
      if (def.use != KeyUse::kAll && def.use != KeyUse::kFullFeatureOnly && name != "TargetName") {
        return fail(NegotiationErrc::kWrongStage, name, value);
      }
      break;
  }
  if (def.use == KeyUse::kLeadingOnly && !leading_) {
    return fail(NegotiationErrc::kNotLeading, name, value);
  }

  auto& state = keys_[std::string(name)];
  if (state.offered && !state.answered && def.type != KeyType::kDeclarative) {
    if (auto checked = check_answer(def, state, value); !checked) {
      return Unexpected{checked.error()};
    }
    return std::optional<std::string>();
  }
  if (state.peer || state.answered) return fail(NegotiationErrc::kRenegotiated, name, value);
  if (is_reserved_answer(value)) return fail(NegotiationErrc::kBadValue, name, value);
  state.peer = std::string(value);

  if (def.type == KeyType::kDeclarative) {
    if (def.always_irrelevant) return std::optional<std::string>(std::string(kIrrelevant));
    if (def.max != 0) {
      const auto number = parse_numerical(value);
      if (!number) return fail(NegotiationErrc::kBadValue, name, value);
      if (!in_range(def, *number)) return fail(NegotiationErrc::kOutOfRange, name, value);
    }
    if (!def.legal_values.empty()) {
      const auto legal = split_list(def.legal_values);
      if (std::find(legal.begin(), legal.end(), value) == legal.end()) {
        return fail(NegotiationErrc::kBadValue, name, value);
      }
    }
    if (name == "SessionType") {
      session_type_ = value == "Discovery" ? SessionType::kDiscovery : SessionType::kNormal;
    }
    return std::optional<std::string>();
  }
  std::string response = answer(def, value);
  state.offered = response;
  state.answered = true;
  if (!is_reserved_answer(response)) state.result = response;
  return std::optional<std::string>(std::move(response));
}

Expected<KeyList, NegotiationError> Negotiator::receive(const KeyList& keys, LoginStage stage) {
  std::vector<std::optional<std::string>> answers(keys.size());
  std::vector<bool> done(keys.size(), false);
  auto process = [&](std::size_t i) -> Expected<void, NegotiationError> {
    const auto& [key, value] = keys[i];
    done[i] = true;
    if (is_chap_key(key)) return fail(NegotiationErrc::kNotNegotiable, key, value);
    const KeyDefinition* def = find_key_definition(key);
    if (def == nullptr) {
      // RFC 7143 §6.2: an unknown key (X- extensions included) is answered
      // NotUnderstood, once.
      auto& state = keys_[key];
      if (state.peer) return fail(NegotiationErrc::kRenegotiated, key, value);
      state.peer = value;
      answers[i] = std::string(kNotUnderstood);
      return {};
    }
    auto result = receive_one(*def, value, stage);
    if (!result) return Unexpected{result.error()};
    answers[i] = std::move(result).value();
    return {};
  };
  for (auto first : kFirstKeys) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].key == first) {
        if (auto r = process(i); !r) return Unexpected{r.error()};
      }
    }
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (done[i]) continue;
    if (auto r = process(i); !r) return Unexpected{r.error()};
  }
  KeyList out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (answers[i]) out.push_back({keys[i].key, std::move(*answers[i])});
  }
  return out;
}

std::vector<std::string> Negotiator::pending() const {
  std::vector<std::string> out;
  for (const auto& [name, state] : keys_) {
    if (!state.offered || state.answered || state.peer) continue;
    const KeyDefinition* def = find_key_definition(name);
    if (def == nullptr || def->type == KeyType::kDeclarative) continue;
    // RFC 7143 §6.2.2: an offer that decides the result by itself (AND with
    // No, OR with Yes) needs no answer.
    if (def->type == KeyType::kBooleanAnd && *state.offered == "No") continue;
    if (def->type == KeyType::kBooleanOr && *state.offered == "Yes") continue;
    // Irrelevant keys need no answer either (RFC 7143 §13 "Irrelevant when").
    if (def->irrelevant_for_discovery && session_type_ == SessionType::kDiscovery) continue;
    out.push_back(name);
  }
  return out;
}

std::optional<std::string> Negotiator::value_of(std::string_view key) const {
  const auto it = keys_.find(key);
  if (it == keys_.end()) return std::nullopt;
  const KeyState& state = it->second;
  if (state.result) return state.result;
  const KeyDefinition* def = find_key_definition(key);
  if (def != nullptr && def->type == KeyType::kDeclarative) {
    return state.peer ? state.peer : state.offered;
  }
  // An offer that decides the result by itself.
  if (def != nullptr && state.offered && !state.answered) {
    if (def->type == KeyType::kBooleanAnd && *state.offered == "No") return state.offered;
    if (def->type == KeyType::kBooleanOr && *state.offered == "Yes") return state.offered;
  }
  return std::nullopt;
}

Expected<NegotiatedParameters, NegotiationError> Negotiator::finish() const {
  if (auto missing = pending(); !missing.empty()) {
    return fail(NegotiationErrc::kMissingResponse, missing.front(), {});
  }
  NegotiatedParameters out;
  auto& s = out.session;
  auto& c = out.connection;
  auto number = [&](std::string_view key, std::uint32_t fallback) -> std::uint32_t {
    const auto value = value_of(key);
    if (!value) return fallback;
    const auto parsed = parse_numerical(*value);
    return parsed ? static_cast<std::uint32_t>(*parsed) : fallback;
  };
  auto boolean = [&](std::string_view key, bool fallback) {
    const auto value = value_of(key);
    if (!value) return fallback;
    return parse_boolean(*value).value_or(fallback);
  };
  auto text = [&](std::string_view key) {
    const auto it = keys_.find(key);
    if (it == keys_.end()) return std::string();
    // Names and aliases: the peer's declaration, else our own.
    return it->second.peer.value_or(it->second.offered.value_or(""));
  };
  s.session_type = session_type_;
  s.initiator_name = text("InitiatorName");
  s.initiator_alias = text("InitiatorAlias");
  s.target_name = text("TargetName");
  s.target_alias = text("TargetAlias");
  if (auto tpgt = value_of("TargetPortalGroupTag")) {
    if (auto parsed = parse_numerical(*tpgt)) {
      s.target_portal_group_tag = static_cast<std::uint16_t>(*parsed);
    }
  }
  s.max_connections = number("MaxConnections", s.max_connections);
  s.initial_r2t = boolean("InitialR2T", s.initial_r2t);
  s.immediate_data = boolean("ImmediateData", s.immediate_data);
  s.max_burst_length = number("MaxBurstLength", s.max_burst_length);
  s.first_burst_length = number("FirstBurstLength", s.first_burst_length);
  s.default_time2wait = number("DefaultTime2Wait", s.default_time2wait);
  s.default_time2retain = number("DefaultTime2Retain", s.default_time2retain);
  s.max_outstanding_r2t = number("MaxOutstandingR2T", s.max_outstanding_r2t);
  s.data_pdu_in_order = boolean("DataPDUInOrder", s.data_pdu_in_order);
  s.data_sequence_in_order = boolean("DataSequenceInOrder", s.data_sequence_in_order);
  s.error_recovery_level = number("ErrorRecoveryLevel", s.error_recovery_level);
  s.task_reporting = value_of("TaskReporting").value_or(s.task_reporting);
  s.iscsi_protocol_level = number("iSCSIProtocolLevel", s.iscsi_protocol_level);
  s.rdma_extensions = boolean("RDMAExtensions", false);
  s.peer_max_outstanding_unexpected_pdus = number("MaxOutstandingUnexpectedPDUs", 0);

  // RFC 7143 §13.14, checked unless FirstBurstLength is irrelevant
  // (InitialR2T=Yes with ImmediateData=No, or a Discovery session).
  const bool first_burst_used = !(s.initial_r2t && !s.immediate_data);
  if (s.session_type == SessionType::kNormal && first_burst_used &&
      s.first_burst_length > s.max_burst_length) {
    return fail(NegotiationErrc::kBurstInconsistent, "FirstBurstLength",
                std::to_string(s.first_burst_length));
  }
  if (policy_.rdma_extensions && s.session_type == SessionType::kNormal && !s.rdma_extensions) {
    return fail(NegotiationErrc::kRdmaExtensionsRequired, "RDMAExtensions",
                value_of("RDMAExtensions").value_or(""));
  }

  auto digest = [&](std::string_view key) {
    return value_of(key) == "CRC32C" ? DigestType::kCrc32c : DigestType::kNone;
  };
  c.header_digest = digest("HeaderDigest");
  c.data_digest = digest("DataDigest");
  c.auth_method = value_of("AuthMethod").value_or("None");
  if (s.rdma_extensions) {
    // RFC 7145 §6.4, §6.5.
    const std::uint32_t initiator_recv = number("InitiatorRecvDataSegmentLength", 8192);
    const std::uint32_t target_recv = number("TargetRecvDataSegmentLength", 8192);
    c.max_recv_data_segment_length = role_ == Role::kTarget ? target_recv : initiator_recv;
    c.max_send_data_segment_length = role_ == Role::kTarget ? initiator_recv : target_recv;
  } else {
    c.max_recv_data_segment_length = policy_.max_recv_data_segment_length;
    const auto it = keys_.find("MaxRecvDataSegmentLength");
    std::uint32_t declared = 8192;
    if (it != keys_.end() && it->second.peer) {
      declared = static_cast<std::uint32_t>(parse_numerical(*it->second.peer).value_or(8192));
    }
    c.max_send_data_segment_length = declared;
  }
  return out;
}

}  // namespace isergw::iscsi
