// The target side of an iSCSI login (RFC 7143 §6.3, §11.12, §11.13), as a
// pure state machine: it consumes decoded Login Requests and produces the
// Login Response to send, until the connection reaches full feature phase
// or the login fails with a status (RFC 7143 §11.13.5).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iscsi/chap.h"
#include "iscsi/login_pdu.h"
#include "iscsi/login_status.h"
#include "iscsi/negotiation.h"
#include "iscsi/text_keys.h"

namespace isergw::iscsi {

enum class AuthRequirement {
  kNone,        // AuthMethod=None only
  kChap,        // one-way CHAP at least
  kChapMutual,  // the initiator must also authenticate the target
};

// What the target's configuration says about one initiator's login.
struct TargetAccess {
  bool allowed = true;  // false: authorization failure (0x0202)
  std::string alias{};  // TargetAlias to declare, if not empty
  AuthRequirement auth = AuthRequirement::kNone;
  ChapCredentials initiator_chap{};              // what the initiator must prove
  std::optional<ChapCredentials> target_chap{};  // for mutual CHAP
};

// The caller's view of its targets: the relay plugs its target map in here.
class LoginPolicy {
 public:
  virtual ~LoginPolicy() = default;
  // nullopt: no such target (0x0203).
  virtual std::optional<TargetAccess> normal_session(std::string_view target_name,
                                                     std::string_view initiator_name) const = 0;
  // nullopt: discovery not offered on this portal (0x0209).
  virtual std::optional<TargetAccess> discovery_session(std::string_view initiator_name) const = 0;
};

struct LoginTargetConfig {
  NegotiationPolicy negotiation;
  std::uint16_t portal_group_tag = 1;
  // The TSIH given to the new session (RFC 7143 §11.13.3: never 0); the
  // caller keeps TSIHs unique among its sessions.
  std::uint16_t new_tsih = 1;
  std::uint32_t initial_stat_sn = 0;
  // MaxCmdSN - ExpCmdSN + 1 granted in the login responses.
  std::uint32_t command_window = 32;
  std::vector<ChapAlgorithm> chap_algorithms = {ChapAlgorithm::kSha256, ChapAlgorithm::kMd5};
  RandomSource random = openssl_random();
};

// A Login Response with its data segment owned.
struct OwnedLoginResponse {
  LoginResponse header;  // header.data is left empty
  std::vector<std::uint8_t> data;

  // The response with `data` attached, valid while this object lives.
  LoginResponse pdu() const {
    LoginResponse out = header;
    out.data = data;
    return out;
  }
};

struct LoginTargetResult {
  NegotiatedParameters parameters;
  Isid isid{};
  std::uint16_t tsih = 0;
  std::uint16_t cid = 0;
  std::uint32_t exp_cmd_sn = 0;    // the CmdSN the first command will carry
  std::uint32_t next_stat_sn = 0;  // StatSN of the first full-feature response
};

class LoginTarget {
 public:
  enum class State { kStart, kSecurity, kOperational, kFullFeature, kFailed };

  LoginTarget(LoginTargetConfig config, const LoginPolicy& policy);

  // Consumes one Login Request and returns the Login Response to send.
  // After a failure response the connection is to be closed.
  OwnedLoginResponse on_request(const LoginRequest& request);

  State state() const { return state_; }
  // Set once state() is kFullFeature.
  const std::optional<LoginTargetResult>& result() const { return result_; }
  // The TargetName the first request named: empty for a discovery login,
  // and before the first request was taken.
  const std::string& target_name() const { return target_name_; }
  // Whether the login asked for a discovery session (known once the first
  // request's keys are read).
  bool discovery() const { return discovery_; }
  // Why the login failed, for the log: the status and the rule broken.
  LoginStatus failure_status() const { return failure_status_; }
  const std::string& failure_reason() const { return failure_reason_; }

 private:
  OwnedLoginResponse fail(LoginStatus status, std::string reason);
  OwnedLoginResponse respond(const LoginRequest& request, KeyList keys, bool transit,
                             LoginStage next);
  OwnedLoginResponse next_segment();
  std::optional<OwnedLoginResponse> check_header(const LoginRequest& request);
  std::optional<OwnedLoginResponse> start_session(const KeyList& keys);
  std::optional<OwnedLoginResponse> security_keys(const KeyList& keys, KeyList& out);
  OwnedLoginResponse handle_keys(const LoginRequest& request, const KeyList& keys);
  void apply_transit(LoginStage next);

  LoginTargetConfig config_;
  const LoginPolicy& policy_;
  State state_ = State::kStart;
  std::optional<Negotiator> negotiator_;
  TextKeyAccumulator accumulator_;
  std::optional<TargetAccess> access_;
  std::optional<ChapTarget> chap_;
  enum class AuthStep {
    kNegotiating,
    kAwaitChapA,
    kAwaitChapResponse,
    kDone
  } auth_step_ = AuthStep::kNegotiating;
  bool first_response_sent_ = false;
  bool discovery_ = false;
  std::string target_name_;

  // The fields every request of this login must repeat (RFC 7143 §6.3).
  Isid isid_{};
  std::uint16_t tsih_ = 0;
  std::uint16_t cid_ = 0;
  std::uint32_t itt_ = 0;
  std::uint32_t cmd_sn_ = 0;
  std::uint32_t stat_sn_ = 0;
  LoginStage current_ = LoginStage::kSecurityNegotiation;

  // A response too long for one PDU goes out in C-bit pieces, each fetched
  // by an empty Login Request (RFC 7143 §6.3, §11.13).
  std::deque<TextSegment> pending_segments_;
  bool pending_transit_ = false;
  LoginStage pending_next_ = LoginStage::kSecurityNegotiation;
  bool finish_after_segments_ = false;

  std::optional<LoginTargetResult> pending_result_;
  std::optional<LoginTargetResult> result_;
  LoginStatus failure_status_ = LoginStatus::kSuccess;
  std::string failure_reason_;
};

}  // namespace isergw::iscsi
