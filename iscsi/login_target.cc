#include "iscsi/login_target.h"

#include <utility>

#include "iscsi/iscsi_name.h"

namespace isergw::iscsi {
namespace {

std::string lower_case(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

// RFC 7143 §13.12: until the login completes, each side may send data
// segments of up to 8192 bytes, the MaxRecvDataSegmentLength default.
constexpr std::size_t kLoginSegmentLength = 8192;

bool is_security_key(std::string_view key) {
  return key == "AuthMethod" || is_chap_key(key);
}

KeyList only_chap(const KeyList& keys) {
  KeyList out;
  for (const auto& pair : keys) {
    if (is_chap_key(pair.key)) out.push_back(pair);
  }
  return out;
}

KeyList without_chap(const KeyList& keys) {
  KeyList out;
  for (const auto& pair : keys) {
    if (!is_chap_key(pair.key)) out.push_back(pair);
  }
  return out;
}

}  // namespace

LoginTarget::LoginTarget(LoginTargetConfig config, const LoginPolicy& policy)
    : config_(std::move(config)), policy_(policy), stat_sn_(config_.initial_stat_sn) {}

OwnedLoginResponse LoginTarget::fail(LoginStatus status, std::string reason) {
  state_ = State::kFailed;
  failure_status_ = status;
  failure_reason_ = std::move(reason);
  pending_segments_.clear();
  OwnedLoginResponse out;
  auto& h = out.header;
  // RFC 7143 §11.13: on failure T, CSG and NSG are reserved (zero).
  h.isid = isid_;
  h.tsih = tsih_;
  h.itt = itt_;
  h.stat_sn = stat_sn_++;
  h.exp_cmd_sn = cmd_sn_;
  h.max_cmd_sn = cmd_sn_ + config_.command_window - 1;
  h.status_class = status_class(status);
  h.status_detail = status_detail(status);
  return out;
}

void LoginTarget::apply_transit(LoginStage next) {
  current_ = next;
  if (next == LoginStage::kLoginOperationalNegotiation) {
    state_ = State::kOperational;
    return;
  }
  state_ = State::kFullFeature;
  // Published only now: a final response in C-bit pieces completes the
  // login with its last piece.
  result_ = std::move(pending_result_);
  if (result_) result_->next_stat_sn = stat_sn_;
}

OwnedLoginResponse LoginTarget::next_segment() {
  OwnedLoginResponse out;
  auto& h = out.header;
  TextSegment segment = std::move(pending_segments_.front());
  pending_segments_.pop_front();
  const bool last = pending_segments_.empty();
  h.continues = segment.continue_bit;
  h.transit = last && pending_transit_;
  h.csg = current_;
  h.nsg = h.transit ? pending_next_ : current_;
  h.version_max = kIscsiVersion;
  h.version_active = kIscsiVersion;
  h.isid = isid_;
  h.tsih = (h.transit && pending_next_ == LoginStage::kFullFeaturePhase) ? config_.new_tsih : tsih_;
  h.itt = itt_;
  h.stat_sn = stat_sn_++;
  h.exp_cmd_sn = cmd_sn_;
  h.max_cmd_sn = cmd_sn_ + config_.command_window - 1;
  out.data = std::move(segment.data);
  if (last && pending_transit_) apply_transit(pending_next_);
  return out;
}

OwnedLoginResponse LoginTarget::respond(const LoginRequest& request, KeyList keys, bool transit,
                                        LoginStage next) {
  first_response_sent_ = true;
  pending_transit_ = transit;
  pending_next_ = next;
  for (auto& segment : split_text_keys(keys, kLoginSegmentLength)) {
    pending_segments_.push_back(std::move(segment));
  }
  return next_segment();
}

std::optional<OwnedLoginResponse> LoginTarget::check_header(const LoginRequest& request) {
  if (state_ == State::kStart && !accumulator_.in_progress()) {
    itt_ = request.itt;
    isid_ = request.isid;
    tsih_ = request.tsih;
    cid_ = request.cid;
    cmd_sn_ = request.cmd_sn;
    current_ = request.csg;
  } else if (request.isid != isid_ || request.tsih != tsih_ || request.cid != cid_) {
    return fail(LoginStatus::kInitiatorError,
                "ISID, TSIH or CID changed during the login (RFC 7143 §6.3)");
  } else if (request.itt != itt_ || request.cmd_sn != cmd_sn_) {
    // One login carries one Initiator Task Tag (RFC 7143 §11.12), and its
    // requests are immediate: CmdSN does not advance.
    return fail(LoginStatus::kInitiatorError, "ITT or CmdSN changed during the login");
  }
  // RFC 7143 §11.12.4: this target speaks version 0 only.
  if (request.version_min > kIscsiVersion || request.version_max < request.version_min) {
    return fail(LoginStatus::kUnsupportedVersion, "no common iSCSI version (RFC 7143 §11.12.4)");
  }
  if (request.transit && request.continues) {
    return fail(LoginStatus::kInitiatorError, "T and C bits both set (RFC 7143 §11.12.2)");
  }
  if (request.csg == LoginStage::kFullFeaturePhase || request.csg != current_) {
    return fail(LoginStatus::kInitiatorError, "CSG is not the current stage (RFC 7143 §6.3)");
  }
  if (request.transit && static_cast<int>(request.nsg) <= static_cast<int>(request.csg)) {
    return fail(LoginStatus::kInitiatorError, "NSG does not advance past CSG (RFC 7143 §6.3)");
  }
  if (request.tsih != 0) {
    // This gateway runs one connection per session (MaxConnections=1), so
    // no login can join an existing session.
    return fail(LoginStatus::kSessionDoesNotExist,
                "TSIH names a session this target does not have (RFC 7143 §11.12.6)");
  }
  return std::nullopt;
}

std::optional<OwnedLoginResponse> LoginTarget::start_session(const KeyList& keys) {
  const std::string* initiator_name = find_key(keys, "InitiatorName");
  if (initiator_name == nullptr || initiator_name->empty()) {
    return fail(LoginStatus::kMissingParameter,
                "first Login Request lacks InitiatorName (RFC 7143 §13.5)");
  }
  // Names are checked before they reach a log line, a policy or the API: a
  // newline could forge log lines, and bytes that are not UTF-8 cannot be
  // listed in JSON. Initiators configured with upper-case letters are
  // common, so the initiator's name is checked case-blind.
  if (auto valid = validate_iscsi_name(lower_case(*initiator_name)); !valid) {
    return fail(LoginStatus::kInitiatorError, "InitiatorName: " + valid.error());
  }
  const std::string* session_type = find_key(keys, "SessionType");
  const bool discovery = session_type != nullptr && *session_type == "Discovery";
  discovery_ = discovery;
  if (session_type != nullptr && !discovery && *session_type != "Normal") {
    return fail(LoginStatus::kInitiatorError, "SessionType is neither Discovery nor Normal");
  }
  if (discovery) {
    access_ = policy_.discovery_session(*initiator_name);
    if (!access_) {
      return fail(LoginStatus::kSessionTypeNotSupported, "discovery sessions are not offered");
    }
  } else {
    const std::string* target_name = find_key(keys, "TargetName");
    if (target_name == nullptr || target_name->empty()) {
      return fail(LoginStatus::kMissingParameter,
                  "Normal session without TargetName (RFC 7143 §13.4)");
    }
    if (auto valid = validate_iscsi_name(*target_name); !valid) {
      return fail(LoginStatus::kInitiatorError, "TargetName: " + valid.error());
    }
    target_name_ = *target_name;
    access_ = policy_.normal_session(*target_name, *initiator_name);
    if (!access_) return fail(LoginStatus::kNotFound, "no target " + *target_name);
  }
  if (!access_->allowed) {
    return fail(LoginStatus::kAuthorizationFailure,
                "initiator " + *initiator_name + " may not log in to this target");
  }
  NegotiationPolicy policy = config_.negotiation;
  policy.auth_methods = {access_->auth == AuthRequirement::kNone ? "None" : "CHAP"};
  if (discovery) policy.rdma_extensions = false;  // RFC 7145 §6.3: Normal sessions only
  negotiator_.emplace(Role::kTarget, std::move(policy));
  state_ = current_ == LoginStage::kSecurityNegotiation ? State::kSecurity : State::kOperational;
  if (state_ == State::kOperational && access_->auth != AuthRequirement::kNone) {
    return fail(LoginStatus::kAuthenticationFailure,
                "authentication required but the security stage was skipped");
  }
  auth_step_ = access_->auth == AuthRequirement::kNone ? AuthStep::kDone : AuthStep::kNegotiating;
  return std::nullopt;
}

std::optional<OwnedLoginResponse> LoginTarget::security_keys(const KeyList& chap, KeyList& out) {
  const std::string* answered = find_key(out, "AuthMethod");
  if (answered != nullptr && *answered == kReject) {
    return fail(LoginStatus::kAuthenticationFailure,
                "no acceptable AuthMethod offered (RFC 7143 §12)");
  }
  if (auth_step_ == AuthStep::kNegotiating && negotiator_->value_of("AuthMethod") == "CHAP") {
    auth_step_ = AuthStep::kAwaitChapA;
  }
  if (chap.empty()) return std::nullopt;
  if (auth_step_ == AuthStep::kAwaitChapA) {
    const std::string* chap_a = find_key(chap, "CHAP_A");
    if (chap_a == nullptr || chap.size() != 1) {
      return fail(LoginStatus::kAuthenticationFailure, "expected CHAP_A (RFC 7143 §12.1.3)");
    }
    chap_.emplace(config_.chap_algorithms, config_.random);
    auto keys = chap_->challenge(*chap_a);
    if (!keys) return fail(LoginStatus::kAuthenticationFailure, keys.error().message());
    out.insert(out.end(), keys->begin(), keys->end());
    auth_step_ = AuthStep::kAwaitChapResponse;
    return std::nullopt;
  }
  if (auth_step_ == AuthStep::kAwaitChapResponse) {
    auto keys = chap_->verify(chap, access_->initiator_chap, access_->target_chap,
                              access_->auth == AuthRequirement::kChapMutual);
    if (!keys) return fail(LoginStatus::kAuthenticationFailure, keys.error().message());
    out.insert(out.end(), keys->begin(), keys->end());
    auth_step_ = AuthStep::kDone;
    return std::nullopt;
  }
  return fail(LoginStatus::kAuthenticationFailure, "CHAP key out of sequence (RFC 7143 §12.1.3)");
}

OwnedLoginResponse LoginTarget::handle_keys(const LoginRequest& request, const KeyList& keys) {
  if (state_ == State::kStart) {
    if (auto failed = start_session(keys)) return std::move(*failed);
  }
  KeyList out;
  if (!first_response_sent_ && !discovery_) {
    // RFC 7143 §13.9: the first Login Response of a Normal session carries
    // TargetPortalGroupTag.
    const std::string tpgt = std::to_string(config_.portal_group_tag);
    negotiator_->note_sent("TargetPortalGroupTag", tpgt);
    out.push_back({"TargetPortalGroupTag", tpgt});
    if (!access_->alias.empty()) {
      negotiator_->note_sent("TargetAlias", access_->alias);
      out.push_back({"TargetAlias", access_->alias});
    }
  }
  const bool security = current_ == LoginStage::kSecurityNegotiation;
  if (!security) {
    for (const auto& pair : keys) {
      if (is_security_key(pair.key)) {
        return fail(LoginStatus::kInitiatorError,
                    "key '" + pair.key + "' outside the security stage (RFC 7143 §6.3)");
      }
    }
  }
  auto answers = negotiator_->receive(without_chap(keys), current_);
  if (!answers) return fail(LoginStatus::kInitiatorError, answers.error().message());
  out.insert(out.end(), answers->begin(), answers->end());
  if (security) {
    if (auto failed = security_keys(only_chap(keys), out)) return std::move(*failed);
  }

  bool transit = request.transit;
  if (security && transit && auth_step_ != AuthStep::kDone) {
    if (auth_step_ == AuthStep::kNegotiating && !negotiator_->value_of("AuthMethod") &&
        access_->auth != AuthRequirement::kNone) {
      return fail(LoginStatus::kAuthenticationFailure,
                  "transit from security stage without authenticating");
    }
    // RFC 7143 §6.3: the target stays in the stage until CHAP completes.
    transit = false;
  }
  if (transit && request.nsg == LoginStage::kFullFeaturePhase) {
    KeyList declarations = negotiator_->target_declarations();
    out.insert(out.end(), declarations.begin(), declarations.end());
    auto parameters = negotiator_->finish();
    if (!parameters) return fail(LoginStatus::kInitiatorError, parameters.error().message());
    pending_result_ =
        LoginTargetResult{std::move(parameters).value(), isid_, config_.new_tsih, cid_, cmd_sn_, 0};
  }
  return respond(request, std::move(out), transit, request.nsg);
}

OwnedLoginResponse LoginTarget::on_request(const LoginRequest& request) {
  if (state_ == State::kFailed) {
    return fail(failure_status_, failure_reason_);
  }
  if (state_ == State::kFullFeature) {
    return fail(LoginStatus::kInvalidDuringLogin, "Login Request after the login completed");
  }
  if (auto failed = check_header(request)) return std::move(*failed);
  if (!pending_segments_.empty()) {
    // The initiator fetches the rest of our C-bit response with empty
    // requests (RFC 7143 §6.3, §11.13).
    if (!request.data.empty() || request.continues) {
      return fail(LoginStatus::kInitiatorError,
                  "Login Request with text while our response continues (RFC 7143 §6.3)");
    }
    return next_segment();
  }
  auto keys = accumulator_.add(request.data, request.continues);
  if (!keys) return fail(LoginStatus::kInitiatorError, keys.error().message());
  if (!keys->has_value()) {
    // RFC 7143 §6.3: acknowledge each C-bit piece with an empty response.
    return respond(request, {}, false, current_);
  }
  return handle_keys(request, **keys);
}

}  // namespace isergw::iscsi
