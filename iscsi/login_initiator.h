// The initiator side of an iSCSI login (RFC 7143 §6.3, §11.12, §11.13), as a
// pure state machine: start() gives the first Login Request, on_response()
// consumes each Login Response and gives the next request, until full
// feature phase or failure. Used by the gateway's back end toward storage.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "iscsi/chap.h"
#include "iscsi/login_pdu.h"
#include "iscsi/login_status.h"
#include "iscsi/negotiation.h"
#include "iscsi/text_keys.h"

namespace isergw::iscsi {

// An ISID of the Random format (RFC 7143 §11.12.5, T = 10b), unique among
// the sessions this process opens: each session of an initiator needs its
// own, or the target takes a second login for a reinstatement of the first.
Isid random_isid();

struct LoginInitiatorConfig {
  std::string initiator_name;
  std::string initiator_alias;  // sent when not empty
  std::string target_name;      // required for Normal sessions
  SessionType session_type = SessionType::kNormal;
  Isid isid{};
  std::uint16_t cid = 0;
  std::uint32_t itt = 0;
  std::uint32_t cmd_sn = 0;
  NegotiationPolicy negotiation;
  // With credentials the initiator offers AuthMethod=CHAP,None and answers
  // a CHAP challenge; with target_chap too it authenticates the target.
  std::optional<ChapCredentials> chap;
  std::optional<ChapCredentials> target_chap;
  std::vector<ChapAlgorithm> chap_algorithms = {ChapAlgorithm::kSha256, ChapAlgorithm::kMd5};
  RandomSource random = openssl_random();
};

// A Login Request with its data segment owned.
struct OwnedLoginRequest {
  LoginRequest header;  // header.data is left empty
  std::vector<std::uint8_t> data;

  LoginRequest pdu() const {
    LoginRequest out = header;
    out.data = data;
    return out;
  }
};

struct LoginInitiatorResult {
  NegotiatedParameters parameters;
  std::uint16_t tsih = 0;
  std::uint32_t exp_stat_sn = 0;
  std::uint32_t exp_cmd_sn = 0;
  std::uint32_t max_cmd_sn = 0;
};

class LoginInitiator {
 public:
  enum class State { kSecurity, kOperational, kFullFeature, kFailed };

  explicit LoginInitiator(LoginInitiatorConfig config);

  OwnedLoginRequest start();

  // The next request, or nullopt once the login succeeded or failed.
  std::optional<OwnedLoginRequest> on_response(const LoginResponse& response);

  State state() const { return state_; }
  const std::optional<LoginInitiatorResult>& result() const { return result_; }
  // The target's status when it refused the login, else kInitiatorError for
  // a protocol error found here (see failure_reason()).
  LoginStatus failure_status() const { return failure_status_; }
  const std::string& failure_reason() const { return failure_reason_; }
  // What the status asks the initiator to do (RFC 7143 §11.13.5).
  LoginStatusAction failure_action() const { return failure_action_; }
  // Whether the login ended right after the CHAP_A offer: the target
  // refused the list of algorithms (a failure status, CHAP_A=Reject, or an
  // answer that is no challenge). Some older targets refuse any list; the
  // caller may log in again offering one algorithm.
  bool refused_at_chap_algorithms() const {
    return state_ != State::kFullFeature && auth_step_ == AuthStep::kChapASent && !challenged_;
  }
  // TargetAddress of a redirection (status class 1), if the target sent one.
  const std::optional<std::string>& redirect_address() const { return redirect_address_; }

 private:
  std::optional<OwnedLoginRequest> fail(LoginStatus status, std::string reason,
                                        LoginStatusAction action);
  OwnedLoginRequest send(KeyList keys, bool transit, LoginStage next);
  OwnedLoginRequest next_segment();
  std::optional<OwnedLoginRequest> handle_keys(const LoginResponse& response, const KeyList& keys);
  std::optional<OwnedLoginRequest> security_step(const LoginResponse& response,
                                                 const KeyList& keys);
  std::optional<OwnedLoginRequest> operational_step(const LoginResponse& response,
                                                    const KeyList& keys);
  std::optional<OwnedLoginRequest> enter_operational();

  LoginInitiatorConfig config_;
  State state_ = State::kSecurity;
  Negotiator negotiator_;
  TextKeyAccumulator accumulator_;
  std::optional<ChapInitiator> chap_;
  enum class AuthStep {
    kOffered,
    kChapASent,
    kResponseSent,
    kDone
  } auth_step_ = AuthStep::kOffered;
  bool challenged_ = false;  // the target answered CHAP_A with a CHAP_C

  LoginStage current_ = LoginStage::kSecurityNegotiation;
  bool sent_transit_ = false;
  LoginStage sent_next_ = LoginStage::kSecurityNegotiation;
  std::uint32_t exp_stat_sn_ = 0;

  std::deque<TextSegment> pending_segments_;

  std::optional<LoginInitiatorResult> result_;
  LoginStatus failure_status_ = LoginStatus::kSuccess;
  LoginStatusAction failure_action_ = LoginStatusAction::kProceed;
  std::string failure_reason_;
  std::optional<std::string> redirect_address_;
};

}  // namespace isergw::iscsi
