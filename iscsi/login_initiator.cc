#include "iscsi/login_initiator.h"

#include <openssl/rand.h>

#include <atomic>
#include <utility>

namespace isergw::iscsi {

Isid random_isid() {
  static std::atomic<std::uint16_t> qualifier{0};
  Isid isid{0x80, 0, 0, 0, 0, 0};
  RAND_bytes(isid.data() + 1, 3);
  const std::uint16_t q = ++qualifier;
  isid[4] = static_cast<std::uint8_t>(q >> 8);
  isid[5] = static_cast<std::uint8_t>(q);
  return isid;
}

namespace {

// RFC 7143 §13.12: the 8192-byte default bounds data segments during login.
constexpr std::size_t kLoginSegmentLength = 8192;

KeyList select_keys(const KeyList& keys, bool chap) {
  KeyList out;
  for (const auto& pair : keys) {
    if (is_chap_key(pair.key) == chap) out.push_back(pair);
  }
  return out;
}

NegotiationPolicy with_auth_methods(NegotiationPolicy policy, const LoginInitiatorConfig& config) {
  // Mutual CHAP is a demand on the target, so None is not offered with it.
  if (config.chap && config.target_chap) {
    policy.auth_methods = {"CHAP"};
  } else if (config.chap) {
    policy.auth_methods = {"CHAP", "None"};
  } else {
    policy.auth_methods = {"None"};
  }
  return policy;
}

}  // namespace

LoginInitiator::LoginInitiator(LoginInitiatorConfig config)
    : config_(std::move(config)),
      negotiator_(Role::kInitiator, with_auth_methods(config_.negotiation, config_)) {}

std::optional<OwnedLoginRequest> LoginInitiator::fail(LoginStatus status, std::string reason,
                                                      LoginStatusAction action) {
  state_ = State::kFailed;
  failure_status_ = status;
  failure_reason_ = std::move(reason);
  failure_action_ = action;
  pending_segments_.clear();
  return std::nullopt;
}

OwnedLoginRequest LoginInitiator::next_segment() {
  OwnedLoginRequest out;
  auto& h = out.header;
  TextSegment segment = std::move(pending_segments_.front());
  pending_segments_.pop_front();
  const bool last = pending_segments_.empty();
  h.continues = segment.continue_bit;
  h.transit = last && sent_transit_;
  h.csg = current_;
  h.nsg = h.transit ? sent_next_ : current_;
  h.version_max = kIscsiVersion;
  h.version_min = kIscsiVersion;
  h.isid = config_.isid;
  h.tsih = 0;  // a new session (RFC 7143 §11.12.6)
  h.itt = config_.itt;
  h.cid = config_.cid;
  h.cmd_sn = config_.cmd_sn;
  h.exp_stat_sn = exp_stat_sn_;
  out.data = std::move(segment.data);
  return out;
}

OwnedLoginRequest LoginInitiator::send(KeyList keys, bool transit, LoginStage next) {
  sent_transit_ = transit;
  sent_next_ = next;
  for (auto& segment : split_text_keys(keys, kLoginSegmentLength)) {
    pending_segments_.push_back(std::move(segment));
  }
  return next_segment();
}

OwnedLoginRequest LoginInitiator::start() {
  // The order the Linux open-iscsi initiator sends them in.
  KeyList keys{{"InitiatorName", config_.initiator_name}};
  if (!config_.initiator_alias.empty()) keys.push_back({"InitiatorAlias", config_.initiator_alias});
  if (config_.session_type == SessionType::kNormal) {
    keys.push_back({"TargetName", config_.target_name});
  }
  keys.push_back(
      {"SessionType", config_.session_type == SessionType::kNormal ? "Normal" : "Discovery"});
  std::string methods = config_.chap && config_.target_chap ? "CHAP"
                        : config_.chap                      ? "CHAP,None"
                                                            : "None";
  keys.push_back({"AuthMethod", methods});
  for (const auto& [key, value] : keys)
    negotiator_.note_sent(key, value);
  // Without CHAP the security stage ends at once (T=1, NSG=operational).
  return send(std::move(keys), !config_.chap, LoginStage::kLoginOperationalNegotiation);
}

std::optional<OwnedLoginRequest> LoginInitiator::enter_operational() {
  state_ = State::kOperational;
  current_ = LoginStage::kLoginOperationalNegotiation;
  return send(negotiator_.initiator_offer(config_.session_type), true,
              LoginStage::kFullFeaturePhase);
}

std::optional<OwnedLoginRequest> LoginInitiator::security_step(const LoginResponse& response,
                                                               const KeyList& keys) {
  auto answers = negotiator_.receive(select_keys(keys, false), current_);
  if (!answers) {
    return fail(LoginStatus::kInitiatorError, answers.error().message(),
                LoginStatusAction::kDoNotRetry);
  }
  KeyList out = std::move(answers).value();
  const KeyList chap = select_keys(keys, true);
  const std::string* auth_answer = find_key(keys, "AuthMethod");
  if (auth_answer != nullptr && *auth_answer == kReject) {
    return fail(LoginStatus::kAuthenticationFailure, "target rejected every AuthMethod offered",
                LoginStatusAction::kDoNotRetry);
  }
  switch (auth_step_) {
    case AuthStep::kOffered:
      if (!chap.empty()) {
        return fail(LoginStatus::kInitiatorError, "CHAP key before AuthMethod=CHAP was agreed",
                    LoginStatusAction::kDoNotRetry);
      }
      if (negotiator_.value_of("AuthMethod") == "CHAP") {
        chap_.emplace(*config_.chap, config_.target_chap, config_.chap_algorithms, config_.random);
        auto offer = chap_->offer();
        out.insert(out.end(), offer.begin(), offer.end());
        auth_step_ = AuthStep::kChapASent;
        return send(std::move(out), false, LoginStage::kSecurityNegotiation);
      }
      if (auth_answer != nullptr || response.transit) {
        if (config_.target_chap) {
          return fail(LoginStatus::kAuthenticationFailure,
                      "target would not authenticate itself (mutual CHAP required)",
                      LoginStatusAction::kDoNotRetry);
        }
        auth_step_ = AuthStep::kDone;
      }
      break;
    case AuthStep::kChapASent: {
      challenged_ = find_key(chap, "CHAP_C") != nullptr;
      auto reply = chap_->respond(chap);
      if (!reply) {
        return fail(LoginStatus::kAuthenticationFailure, reply.error().message(),
                    LoginStatusAction::kDoNotRetry);
      }
      out.insert(out.end(), reply->begin(), reply->end());
      auth_step_ = AuthStep::kResponseSent;
      return send(std::move(out), true, LoginStage::kLoginOperationalNegotiation);
    }
    case AuthStep::kResponseSent:
      if (chap_->mutual()) {
        if (auto verified = chap_->verify_target(chap); !verified) {
          return fail(LoginStatus::kAuthenticationFailure,
                      "target failed mutual CHAP: " + verified.error().message(),
                      LoginStatusAction::kDoNotRetry);
        }
      } else if (!chap.empty()) {
        return fail(LoginStatus::kInitiatorError, "unexpected CHAP keys from the target",
                    LoginStatusAction::kDoNotRetry);
      }
      auth_step_ = AuthStep::kDone;
      break;
    case AuthStep::kDone:
      if (!chap.empty()) {
        return fail(LoginStatus::kInitiatorError, "CHAP keys after authentication",
                    LoginStatusAction::kDoNotRetry);
      }
      break;
  }
  if (response.transit) {
    if (auth_step_ != AuthStep::kDone) {
      return fail(LoginStatus::kInitiatorError,
                  "target left the security stage before authentication completed",
                  LoginStatusAction::kDoNotRetry);
    }
    return enter_operational();
  }
  if (auth_step_ == AuthStep::kDone) {
    return send(std::move(out), true, LoginStage::kLoginOperationalNegotiation);
  }
  return send(std::move(out), false, LoginStage::kSecurityNegotiation);
}

std::optional<OwnedLoginRequest> LoginInitiator::operational_step(const LoginResponse& response,
                                                                  const KeyList& keys) {
  auto answers = negotiator_.receive(keys, current_);
  if (!answers) {
    return fail(LoginStatus::kInitiatorError, answers.error().message(),
                LoginStatusAction::kDoNotRetry);
  }
  if (!response.transit)
    return send(std::move(answers).value(), true, LoginStage::kFullFeaturePhase);
  if (!answers->empty()) {
    return fail(LoginStatus::kInitiatorError,
                "target proposed keys in its final response (RFC 7143 §6.2)",
                LoginStatusAction::kDoNotRetry);
  }
  auto parameters = negotiator_.finish();
  if (!parameters) {
    return fail(LoginStatus::kInitiatorError, parameters.error().message(),
                LoginStatusAction::kDoNotRetry);
  }
  // RFC 7143 §11.13.3: the final response of a new session carries the
  // TSIH the target assigned, never 0.
  if (response.tsih == 0) {
    return fail(LoginStatus::kInitiatorError, "final Login Response without a TSIH",
                LoginStatusAction::kDoNotRetry);
  }
  state_ = State::kFullFeature;
  current_ = LoginStage::kFullFeaturePhase;
  result_ = LoginInitiatorResult{std::move(parameters).value(), response.tsih, exp_stat_sn_,
                                 response.exp_cmd_sn, response.max_cmd_sn};
  return std::nullopt;
}

std::optional<OwnedLoginRequest> LoginInitiator::on_response(const LoginResponse& response) {
  if (state_ == State::kFullFeature || state_ == State::kFailed) return std::nullopt;
  if (response.status_class != LoginStatusClass::kSuccess) {
    const auto meaning = describe(response.status_class, response.status_detail);
    if (response.status_class == LoginStatusClass::kRedirection) {
      // RFC 7143 §11.13.5: a redirection names the new TargetAddress.
      if (auto keys = parse_text_keys(response.data)) {
        if (const std::string* address = find_key(*keys, "TargetAddress")) {
          redirect_address_ = *address;
        }
      }
    }
    return fail(login_status(response.status_class, response.status_detail),
                "target refused the login: " + std::string(meaning.text), meaning.action);
  }
  if (response.version_active != kIscsiVersion) {
    return fail(LoginStatus::kUnsupportedVersion, "target chose an unknown iSCSI version",
                LoginStatusAction::kDoNotRetry);
  }
  if (response.isid != config_.isid || response.itt != config_.itt) {
    return fail(LoginStatus::kInitiatorError, "response ISID or ITT does not match the request",
                LoginStatusAction::kDoNotRetry);
  }
  if (response.csg != current_) {
    return fail(LoginStatus::kInitiatorError, "response CSG is not the current stage",
                LoginStatusAction::kDoNotRetry);
  }
  if (response.transit && response.continues) {
    return fail(LoginStatus::kInitiatorError, "response has both T and C set (RFC 7143 §11.13)",
                LoginStatusAction::kDoNotRetry);
  }
  if (response.transit &&
      (!sent_transit_ || !pending_segments_.empty() || response.nsg != sent_next_)) {
    // RFC 7143 §6.3: the target transits only when asked, to the stage asked.
    return fail(LoginStatus::kInitiatorError, "target transited to a stage not requested",
                LoginStatusAction::kDoNotRetry);
  }
  if (response.tsih != 0 && !(response.transit && response.nsg == LoginStage::kFullFeaturePhase)) {
    return fail(LoginStatus::kInitiatorError, "TSIH set before the final response",
                LoginStatusAction::kDoNotRetry);
  }
  exp_stat_sn_ = response.stat_sn + 1;
  if (!pending_segments_.empty()) {
    if (!response.data.empty() || response.continues) {
      return fail(LoginStatus::kInitiatorError,
                  "target sent text while our request continues (RFC 7143 §6.3)",
                  LoginStatusAction::kDoNotRetry);
    }
    return next_segment();
  }
  auto keys = accumulator_.add(response.data, response.continues);
  if (!keys) {
    return fail(LoginStatus::kInitiatorError, keys.error().message(),
                LoginStatusAction::kDoNotRetry);
  }
  if (!keys->has_value()) {
    // Fetch the rest of the target's text with an empty request; T stays
    // as first asked, for the target's last piece to answer.
    OwnedLoginRequest fetch;
    pending_segments_.push_back(TextSegment{});
    fetch = next_segment();
    fetch.header.transit = false;
    fetch.header.nsg = current_;
    return fetch;
  }
  if (current_ == LoginStage::kSecurityNegotiation) return security_step(response, **keys);
  return operational_step(response, **keys);
}

}  // namespace isergw::iscsi
