#include "gateway/front_session.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <cctype>
#include <charconv>

#include "common/log.h"
#include "iscsi/iscsi_name.h"
#include "iscsi/send_targets.h"
#include "iscsi/sense.h"
#include "iscsi/serial_number.h"

namespace isergw::gateway {

namespace {

// TSIHs are unique across the gateway (RFC 7143 §11.13.4: never 0).
uint16_t next_tsih() {
  static std::atomic<uint32_t> counter{0};
  uint16_t tsih = 0;
  while (tsih == 0)
    tsih = static_cast<uint16_t>(++counter);
  return tsih;
}

// A MaxRecvDataSegmentLength value (RFC 7143 §13.12: 512 to 2^24 - 1), in
// decimal or hexadecimal; nullopt when it is no such number.
std::optional<uint32_t> declared_length(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  uint32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (error != std::errc() || end != text.data() + text.size() || value < 512 || value > 16777215) {
    return std::nullopt;
  }
  return value;
}

uint64_t next_task_id() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

}  // namespace

FrontSession::FrontSession(boost::asio::any_io_executor executor, BufferPool& pool,
                           std::shared_ptr<const TargetMap> targets, FrontSessionOptions options,
                           ClosedCallback on_closed)
    : pool_(pool),
      options_(std::move(options)),
      targets_(std::move(targets)),
      on_closed_(std::move(on_closed)),
      timer_(std::move(executor)) {}

FrontSession::~FrontSession() = default;

const std::optional<iscsi::LoginTargetResult>& FrontSession::login_result() const {
  static const std::optional<iscsi::LoginTargetResult> none;
  return login_ ? login_->result() : none;
}

std::optional<std::string> FrontSession::target_of_login() const {
  if (!login_ || login_->state() == iscsi::LoginTarget::State::kStart) return std::nullopt;
  return login_->target_name();
}

std::string FrontSession::login_destination() const {
  if (!login_ || login_->state() == iscsi::LoginTarget::State::kStart) return "";
  if (login_->discovery()) return " to discovery";
  if (login_->target_name().empty()) return "";
  return " to " + iscsi::printable(login_->target_name());
}

void FrontSession::start() {
  started_ = last_heard_ = std::chrono::steady_clock::now();
  iscsi::LoginTargetConfig config;
  config.portal_group_tag = options_.portal_group_tag;
  config.new_tsih = next_tsih();
  config.command_window = options_.command_window;
  iscsi::NegotiationPolicy& policy = config.negotiation;
  policy.auth_methods = {"CHAP", "None"};
  policy.max_burst_length = options_.max_burst_length;
  // No more unasked data per command than one pool buffer holds, so that a
  // host can send all of it as immediate data in the command itself (the
  // data segment limit is a buffer too), as Linux does, rather than as
  // unsolicited Data-Out, which could find no buffer behind data it owes
  // (ARCHITECTURE.md, "Buffer admission").
  policy.first_burst_length =
      static_cast<uint32_t>(std::min<size_t>(options_.first_burst_length, pool_.buffer_size()));
  policy.max_outstanding_r2t = options_.max_outstanding_r2t;
  policy.initial_r2t = false;  // accept unsolicited data where the host offers it
  policy.immediate_data = true;
  adjust_login_policy(policy);
  login_.emplace(std::move(config), *targets_);
  begin_receiving();
  schedule_keepalive();
}

void FrontSession::request_logout(std::chrono::seconds within) {
  if (!is_open()) return;
  if (!full_feature_ || discovery_) {
    close("the gateway is shutting down");
    return;
  }
  log::peer_info("{}: asking {} to log out within {} s", peer_, parameters_.session.initiator_name,
                 within.count());
  iscsi::AsyncMessage message;
  message.async_event = iscsi::AsyncEvent::kLogoutRequested;
  message.parameter3 = static_cast<uint16_t>(within.count());
  stamp(message, true);
  send(message);
}

void FrontSession::received_pdu(InboundPdu& inbound) {
  last_heard_ = std::chrono::steady_clock::now();
  heard_ = true;
  if (!full_feature_) {
    if (!std::holds_alternative<iscsi::LoginRequest>(inbound.pdu)) {
      protocol_error(std::string("sent ") +
                     std::string(iscsi::opcode_name(iscsi::pdu_opcode(inbound.pdu))) +
                     " before its login completed");
      return;
    }
    handle_login(inbound);
    return;
  }
  std::visit(
      [&](auto& pdu) {
        using T = std::decay_t<decltype(pdu)>;
        if constexpr (std::is_same_v<T, iscsi::ScsiCommand>) {
          handle_command(pdu, inbound);
        } else if constexpr (std::is_same_v<T, iscsi::DataOut>) {
          handle_data_out(pdu, inbound);
        } else if constexpr (std::is_same_v<T, iscsi::NopOut>) {
          handle_nop_out(pdu);
        } else if constexpr (std::is_same_v<T, iscsi::TextRequest>) {
          handle_text(pdu);
        } else if constexpr (std::is_same_v<T, iscsi::TaskManagementRequest>) {
          handle_task_management(pdu);
        } else if constexpr (std::is_same_v<T, iscsi::LogoutRequest>) {
          handle_logout(pdu);
        } else if constexpr (std::is_same_v<T, iscsi::SnackRequest>) {
          // SNACK needs ErrorRecoveryLevel > 0, which this gateway never
          // negotiates (RFC 7143 §11.16).
          reject(inbound, iscsi::RejectReason::kSnackReject, "SNACK at error recovery level 0");
        } else if constexpr (std::is_same_v<T, iscsi::LoginRequest>) {
          reject(inbound, iscsi::RejectReason::kProtocolError,
                 "Login Request in full feature phase");
        } else {
          protocol_error(std::string("sent the target-only PDU ") +
                         std::string(iscsi::opcode_name(iscsi::pdu_opcode(inbound.pdu))));
        }
      },
      inbound.pdu);
}

void FrontSession::handle_login(InboundPdu& inbound) {
  const auto& request = std::get<iscsi::LoginRequest>(inbound.pdu);
  iscsi::OwnedLoginResponse response = login_->on_request(request);
  if (login_->state() == iscsi::LoginTarget::State::kFullFeature &&
      login_->result()->parameters.session.session_type == iscsi::SessionType::kNormal) {
    reinstate_then_open(std::move(response));
    return;
  }
  if (login_->state() == iscsi::LoginTarget::State::kFullFeature) release_login_place();
  send(response.pdu(), response.data);
  switch (login_->state()) {
    case iscsi::LoginTarget::State::kFailed:
      log::peer_warn("login from {}{} refused: {} ({})", peer_, login_destination(),
                     iscsi::describe(iscsi::status_class(login_->failure_status()),
                                     iscsi::status_detail(login_->failure_status()))
                         .text,
                     iscsi::printable(login_->failure_reason()));
      close_after_sending("login failed: " + iscsi::printable(login_->failure_reason()));
      break;
    case iscsi::LoginTarget::State::kFullFeature:
      enter_full_feature(response.header.max_cmd_sn);
      break;
    default:
      break;
  }
}

bool SessionIdentity::matches(const iscsi::LoginTargetResult& result) const {
  const iscsi::SessionParameters& session = result.parameters.session;
  // iSCSI names compare without regard to case (RFC 3722 §6.1 folds them).
  auto same_name = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  };
  return session.session_type == iscsi::SessionType::kNormal && result.isid == isid &&
         same_name(session.initiator_name, initiator_name) &&
         same_name(session.target_name, target_name);
}

void FrontSession::reinstate_then_open(iscsi::OwnedLoginResponse final_response) {
  if (!options_.reinstate) {
    open_back_leg(std::move(final_response));
    return;
  }
  const iscsi::LoginTargetResult& result = *login_->result();
  SessionIdentity identity{result.parameters.session.initiator_name, result.isid,
                           result.parameters.session.target_name};
  // Nothing is read until the old session is gone and the back leg open.
  pause_receiving();
  auto held = std::make_shared<iscsi::OwnedLoginResponse>(std::move(final_response));
  options_.reinstate(identity, [weak = weak_from_this(), executor = timer_.get_executor(), held] {
    boost::asio::post(executor, [weak, held] {
      auto self = weak.lock();
      if (self && self->is_open()) self->open_back_leg(std::move(*held));
    });
  });
}

void FrontSession::open_back_leg(iscsi::OwnedLoginResponse final_response) {
  const iscsi::LoginTargetResult& result = *login_->result();
  const iscsi::SessionParameters& session = result.parameters.session;
  target_ = targets_->find(session.target_name);
  if (target_ == nullptr) {
    // The map changed between the login's first and last PDU.
    refuse_login(std::move(final_response), iscsi::LoginStatus::kTargetRemoved,
                 "target " + session.target_name + " is gone");
    return;
  }
  auto back =
      targets_->make_back_leg(*target_, pool_, timer_.get_executor(), options_.rdma, claims_);
  if (!back) {
    log::peer_warn("{}: cannot relay to target {}: {}", peer(), session.target_name, back.error());
    refuse_login(std::move(final_response), iscsi::LoginStatus::kServiceUnavailable, back.error());
    return;
  }
  back_ = std::move(*back);
  // The host hears that its login succeeded only once the storage has
  // taken the gateway's: until then it sends nothing, and nothing is read.
  pause_receiving();
  auto held = std::make_shared<iscsi::OwnedLoginResponse>(std::move(final_response));
  back_->open(*this, {session.initiator_name, session.initiator_alias, result.isid},
              [weak = weak_from_this(), held](const BackOpenResult& opened) {
                auto self = weak.lock();
                if (self && self->is_open()) self->on_back_open(*held, opened);
              });
}

void FrontSession::on_back_open(const iscsi::OwnedLoginResponse& final_response,
                                const BackOpenResult& opened) {
  if (!opened.ok()) {
    refuse_login(final_response, opened.status, opened.reason);
    return;
  }
  // The final Login Response keeps the gateway's own window even where the
  // storage's is narrower: a host logging in again after a failure keeps
  // the highest MaxCmdSN it saw from the old session (Linux's
  // iscsi_update_cmdsn only raises it), so a smaller promise would be
  // ignored and the commands beyond it dropped. What the storage cannot
  // take yet waits in the back leg; from here on max_cmd_sn() widens the
  // window no further than the storage's.
  release_login_place();
  send(final_response.pdu(), final_response.data);
  enter_full_feature(final_response.header.max_cmd_sn);
  resume_receiving();
}

void FrontSession::refuse_login(iscsi::OwnedLoginResponse response, iscsi::LoginStatus status,
                                const std::string& reason) {
  response.header.transit = false;
  response.header.status_class = iscsi::status_class(status);
  response.header.status_detail = iscsi::status_detail(status);
  response.data.clear();
  log::peer_warn("login from {}{} refused: {} ({})", peer_, login_destination(),
                 iscsi::describe(iscsi::status_class(status), iscsi::status_detail(status)).text,
                 iscsi::printable(reason));
  send(response.pdu(), response.data);
  close_after_sending("login failed: " + iscsi::printable(reason));
}

void FrontSession::release_login_place() {
  // Before the final Login Response goes out: a host that has it may
  // connect again at once, and must find the place free.
  if (options_.admission) options_.admission->logged_in();
}

void FrontSession::enter_full_feature(uint32_t max_cmd_sn) {
  advertised_max_cmd_sn_ = max_cmd_sn;
  const iscsi::LoginTargetResult& result = *login_->result();
  parameters_ = result.parameters;
  const iscsi::SessionParameters& session = parameters_.session;
  stat_sn_ = result.next_stat_sn;
  exp_cmd_sn_ = result.exp_cmd_sn;
  discovery_ = session.session_type == iscsi::SessionType::kDiscovery;
  begin_full_feature(parameters_);
  full_feature_ = true;
  log::peer_info("{} logged in from {} to {} (TSIH {}, {} session)", session.initiator_name, peer_,
                 discovery_ ? std::string("discovery") : session.target_name, result.tsih,
                 discovery_ ? "discovery" : "normal");
}

bool FrontSession::accept_cmd_sn(bool immediate, uint32_t cmd_sn) {
  if (immediate) return true;
  // A command outside the window is dropped silently (RFC 7143 §3.2.2.1); on
  // one connection anything else than the expected CmdSN is a lost PDU,
  // which error recovery level 0 answers by ending the connection.
  if (iscsi::sn_lt(cmd_sn, exp_cmd_sn_) || iscsi::sn_gt(cmd_sn, max_cmd_sn())) {
    ++statistics_.out_of_window_commands;
    log::peer_warn("{}: dropped CmdSN {} outside the window [{}, {}]", peer_, cmd_sn, exp_cmd_sn_,
                   max_cmd_sn());
    return false;
  }
  if (cmd_sn != exp_cmd_sn_) {
    protocol_error("CmdSN " + std::to_string(cmd_sn) + " where " + std::to_string(exp_cmd_sn_) +
                   " was expected");
    return false;
  }
  ++exp_cmd_sn_;
  return true;
}

uint32_t FrontSession::max_cmd_sn() {
  // The window only grows as far as the back end takes, and commands in
  // flight use it up: the host is not invited to queue more than the
  // storage accepts, and a MaxCmdSN of ExpCmdSN - 1 closes it. It never
  // shrinks below what the host has seen, though, as a host ignores a lower
  // MaxCmdSN (RFC 7143 §4.2.2.1); a storage whose window shrank has the
  // excess wait in its back leg.
  uint32_t window = options_.command_window;
  if (back_) window = std::min(window, back_->command_window());
  const uint32_t busy = static_cast<uint32_t>(tasks_.size());
  const uint32_t open = window > busy ? window - busy : 0;
  const uint32_t computed = exp_cmd_sn_ + open - 1;
  if (iscsi::sn_gt(computed, advertised_max_cmd_sn_)) advertised_max_cmd_sn_ = computed;
  return advertised_max_cmd_sn_;
}

FrontSession::FrontTask* FrontSession::find_task(uint32_t itt) {
  const auto found = tasks_.find(itt);
  return found == tasks_.end() ? nullptr : found->second.get();
}

FrontSession::FrontTask* FrontSession::find_task(uint32_t itt, uint64_t id) {
  FrontTask* front_task = find_task(itt);
  return front_task != nullptr && front_task->task.id == id ? front_task : nullptr;
}

void FrontSession::handle_command(const iscsi::ScsiCommand& command, InboundPdu& inbound) {
  if (!accept_cmd_sn(command.immediate, command.cmd_sn)) return;
  if (discovery_) {
    reject(inbound, iscsi::RejectReason::kProtocolError, "SCSI command in a discovery session");
    return;
  }
  if (find_task(command.itt) != nullptr) {
    reject(inbound, iscsi::RejectReason::kTaskInProgress,
           "ITT " + std::to_string(command.itt) + " is already in use");
    return;
  }
  if (inbound.discarded) {
    refuse_for_buffers(command);
    return;
  }
  const uint32_t immediate_length = static_cast<uint32_t>(command.data.size());
  if (immediate_length > 0 && !command.write) {
    protocol_error("immediate data on a command without the W bit");
    return;
  }
  if (immediate_length > command.expected_data_transfer_length ||
      immediate_length > parameters_.session.first_burst_length) {
    protocol_error("immediate data of " + std::to_string(immediate_length) +
                   " bytes exceeds the expected length or FirstBurstLength");
    return;
  }
  std::unique_ptr<FrontTask> front_task =
      make_task(command.write ? command.expected_data_transfer_length : 0);
  Task& task = front_task->task;
  task.id = next_task_id();
  task.itt = command.itt;
  task.cmd_sn = command.cmd_sn;
  task.lun = command.lun;
  task.immediate = command.immediate;
  task.read = command.read;
  task.write = command.write;
  task.task_attribute = command.task_attribute;
  task.cdb.assign(command.cdb.begin(), command.cdb.end());
  task.cdb.insert(task.cdb.end(), command.extended_cdb.begin(), command.extended_cdb.end());
  task.expected_data_transfer_length = command.expected_data_transfer_length;
  task.bidi_read_expected_data_transfer_length = command.bidi_read_expected_data_transfer_length;
  task.started = task.state_since = std::chrono::steady_clock::now();
  ++statistics_.task_transitions[static_cast<size_t>(TaskState::kAtStorage)];

  if (command.write) {
    // With F clear, unsolicited Data-Out follows up to FirstBurstLength
    // (RFC 7143 §11.3.4, §13.14); everything past it is solicited by R2T.
    const uint32_t unsolicited = command.final ? immediate_length
                                               : std::min(parameters_.session.first_burst_length,
                                                          command.expected_data_transfer_length);
    if (!command.final && parameters_.session.initial_r2t) {
      protocol_error("unsolicited data announced although InitialR2T=Yes");
      return;
    }
    front_task->unsolicited_end = unsolicited;
    front_task->fetched_end = unsolicited;
  }
  ++statistics_.commands;
  FrontTask& stored = *tasks_.emplace(command.itt, std::move(front_task)).first->second;
  if (immediate_length > 0) {
    add_write_data(stored, 0, std::move(inbound.data), command.data);
    if (!is_open()) return;
  }
  const uint64_t id = task.id;
  back_->submit(stored.task, *this);
  // The back leg may have pulled, or even completed, the task meanwhile.
  if (command.write && is_open()) {
    if (FrontTask* submitted = find_task(command.itt, id)) fetch_ahead(*submitted);
  }
}

void FrontSession::notify(const iscsi::AsyncMessage& message) {
  if (!full_feature_ || !is_open()) return;
  iscsi::AsyncMessage pdu = message;
  stamp(pdu, true);
  std::vector<uint8_t> data(message.data.begin(), message.data.end());
  pdu.data = data;
  send(pdu, std::move(data));
}

void FrontSession::back_failed(const std::string& reason) {
  log::peer_warn("{}: the back end failed, closing so that the host logs in again: {}", peer_,
                 reason);
  close("back end failed: " + reason);
}

void FrontSession::complete(Task& task, const Completion& completion) {
  FrontTask* front_task = find_task(task.itt);
  if (front_task == nullptr) return;
  statistics_.front_latency.observe(std::chrono::steady_clock::now() - task.started);
  if (completion.back_round_trip) statistics_.back_latency.observe(*completion.back_round_trip);
  iscsi::ScsiResponse response;
  response.response = completion.response;
  response.status = completion.status;
  response.itt = task.itt;
  response.residual_overflow = completion.residual_overflow;
  response.residual_underflow = completion.residual_underflow;
  response.residual_count = completion.residual_count;
  response.bidi_read_overflow = completion.bidi_read_overflow;
  response.bidi_read_underflow = completion.bidi_read_underflow;
  response.bidi_read_residual_count = completion.bidi_read_residual_count;
  // ExpDataSN counts the Data-In and R2T PDUs sent for the command (§11.4.8).
  response.exp_data_sn = data_pdus_sent(*front_task);
  std::vector<uint8_t> segment;
  if (!completion.sense.empty()) {
    segment.resize(iscsi::kSenseLengthFieldSize + completion.sense.size());
    auto framed = iscsi::frame_sense_segment(completion.sense, segment);
    if (framed) segment.resize(*framed);
  }
  // The task leaves the window before MaxCmdSN is computed for the response.
  std::unique_ptr<FrontTask> ended = end_task(task.itt, Task::State::kCompleted);
  stamp(response, true);
  response.data = segment;
  send_status(*ended, response, std::move(segment));
}

void FrontSession::send_status(FrontTask& /*ended*/, iscsi::ScsiResponse& response,
                               DataOwner owner) {
  send(response, std::move(owner));
}

std::unique_ptr<FrontSession::FrontTask> FrontSession::end_task(uint32_t itt, Task::State state) {
  const auto found = tasks_.find(itt);
  if (found == tasks_.end()) return nullptr;
  std::unique_ptr<FrontTask> ended = std::move(found->second);
  tasks_.erase(found);
  transition(ended->task, state);
  if (state == Task::State::kAborted && back_) back_->abort(ended->task);
  return ended;
}

std::vector<TaskInfo> FrontSession::task_infos() const {
  const auto now = std::chrono::steady_clock::now();
  std::vector<TaskInfo> infos;
  infos.reserve(tasks_.size());
  for (const auto& [itt, front_task] : tasks_) {
    const Task& task = front_task->task;
    infos.push_back(TaskInfo{.id = task.id,
                             .itt = task.itt,
                             .cmd_sn = task.cmd_sn,
                             .lun = task.lun,
                             .operation_code = task.cdb.empty() ? uint8_t{0} : task.cdb[0],
                             .read = task.read,
                             .write = task.write,
                             .expected_data_transfer_length = task.expected_data_transfer_length,
                             .state = task.state,
                             .age = now - task.started,
                             .in_state = now - task.state_since});
  }
  std::sort(infos.begin(), infos.end(),
            [](const TaskInfo& a, const TaskInfo& b) { return a.age > b.age; });
  return infos;
}

void FrontSession::transition(Task& task, TaskState to) {
  if (task.state == to) return;  // a second R2T, a second claim: still the same wait
  if (!task_transition_legal(task.state, to)) {
    ++statistics_.illegal_task_transitions;
    log::error("{}: task {} (ITT 0x{:x}) cannot move from {} to {}; this is a bug", peer_, task.id,
               task.itt, task_state_name(task.state), task_state_name(to));
    return;
  }
  log::trace("{}: task {} (ITT 0x{:x}) {} -> {}", peer_, task.id, task.itt,
             task_state_name(task.state), task_state_name(to));
  task.state = to;
  task.state_since = std::chrono::steady_clock::now();
  ++statistics_.task_transitions[static_cast<size_t>(to)];
}

uint32_t FrontSession::next_target_transfer_tag() {
  const uint32_t ttt = next_ttt_++;
  if (next_ttt_ == iscsi::kReservedTag) next_ttt_ = 1;
  return ttt;
}

std::vector<std::pair<uint32_t, uint64_t>> FrontSession::tasks_of(uint64_t lun,
                                                                  bool all_luns) const {
  std::vector<std::pair<uint32_t, uint64_t>> found;
  for (const auto& [itt, front_task] : tasks_) {
    if (all_luns || front_task->task.lun == lun) found.emplace_back(itt, front_task->task.id);
  }
  return found;
}

void FrontSession::abort_all_tasks() {
  for (const auto& [itt, id] : tasks_of(0, true))
    end_task(itt, Task::State::kAborted);
}

void FrontSession::handle_nop_out(const iscsi::NopOut& nop) {
  if (!accept_cmd_sn(nop.immediate, nop.cmd_sn)) return;
  if (nop.ttt != iscsi::kReservedTag) {
    // The answer to our ping (RFC 7143 §11.18): nothing to send back.
    if (ping_ttt_ && *ping_ttt_ == nop.ttt) ping_ttt_.reset();
    return;
  }
  if (nop.itt == iscsi::kReservedTag) return;  // a one-way NOP-Out wants no answer
  iscsi::NopIn reply;
  reply.lun = nop.lun;
  reply.itt = nop.itt;
  stamp(reply, true);
  // The ping data comes back (RFC 7143 §11.19).
  std::vector<uint8_t> echo(nop.data.begin(), nop.data.end());
  reply.data = echo;
  send(reply, std::move(echo));
}

void FrontSession::handle_text(const iscsi::TextRequest& request) {
  if (!accept_cmd_sn(request.immediate, request.cmd_sn)) return;
  if (request.ttt != iscsi::kReservedTag) {
    // The host fetches the next part of a long answer (RFC 7143 §11.10.4).
    if (request.ttt != text_ttt_ || text_pending_.empty()) {
      protocol_error("Text Request continues an answer that does not exist");
      return;
    }
    send_text_segment();
    return;
  }
  auto keys = text_accumulator_.add(request.data, request.continues);
  if (!keys) {
    protocol_error("bad text keys: " + keys.error().message());
    return;
  }
  text_itt_ = request.itt;
  iscsi::KeyList answer;
  if (!keys->has_value()) {
    // More of the request follows: acknowledge with an empty response.
    text_pending_.push_back(iscsi::TextSegment{});
  } else {
    if (const std::string* send_targets = iscsi::find_key(**keys, "SendTargets")) {
      std::vector<iscsi::DiscoveredTarget> visible;
      for (const MappedTarget* target : targets_->visible_to(parameters_.session.initiator_name)) {
        iscsi::DiscoveredTarget entry{target->config.name, {}};
        for (iscsi::TargetPortal portal : options_.portals) {
          // A wildcard portal is advertised at the address this host reached.
          if (portal.host.empty()) {
            portal.host = local_host_;
            portal.port = local_port_;
          }
          entry.portals.push_back(std::move(portal));
        }
        visible.push_back(std::move(entry));
      }
      answer = iscsi::send_targets_response(*send_targets, parameters_.session.session_type,
                                            parameters_.session.target_name, visible);
    }
    for (const iscsi::TextKey& key : **keys) {
      if (key.key == "SendTargets") continue;
      if (key.key == "MaxRecvDataSegmentLength") {
        // Declarative, and usable in full feature phase (RFC 7143 §13.12):
        // what is sent to the host from now on is cut to the new length;
        // no answer is due, unless the value is out of range.
        if (!declares_max_recv_data_segment_length()) {
          answer.push_back({key.key, "Irrelevant"});
        } else if (auto length = declared_length(key.value)) {
          parameters_.connection.max_send_data_segment_length = *length;
          log::peer_info("{}: the host declared MaxRecvDataSegmentLength={}", peer_, *length);
        } else {
          answer.push_back({key.key, "Reject"});
        }
        continue;
      }
      answer.push_back({key.key, "NotUnderstood"});
    }
    for (auto& segment :
         iscsi::split_text_keys(answer, parameters_.connection.max_send_data_segment_length)) {
      text_pending_.push_back(std::move(segment));
    }
  }
  send_text_segment();
}

void FrontSession::send_text_segment() {
  iscsi::TextSegment segment = std::move(text_pending_.front());
  text_pending_.pop_front();
  iscsi::TextResponse response;
  response.itt = text_itt_;
  response.continues = segment.continue_bit;
  response.final = !segment.continue_bit;
  if (segment.continue_bit) {
    text_ttt_ = next_target_transfer_tag();
  } else {
    text_ttt_ = iscsi::kReservedTag;
  }
  response.ttt = text_ttt_;
  stamp(response, true);
  response.data = segment.data;
  send(response, std::move(segment.data));
}

void FrontSession::handle_task_management(const iscsi::TaskManagementRequest& request) {
  if (!accept_cmd_sn(request.immediate, request.cmd_sn)) return;
  using Function = iscsi::TaskManagementFunction;
  using Code = iscsi::TaskManagementResponseCode;
  const uint32_t itt = request.itt;
  const bool cold_reset = request.function == Function::kTargetColdReset;
  auto respond = [weak = weak_from_this(), itt, cold_reset](Code code) {
    auto self = weak.lock();
    if (!self || !self->is_open()) return;
    iscsi::TaskManagementResponse response;
    response.response = code;
    response.itt = itt;
    self->stamp(response, true);
    self->send(response);
    // A cold reset also drops the connection (§11.5.1).
    if (cold_reset && code == Code::kFunctionComplete) {
      self->close_after_sending("target cold reset requested by the host");
    }
  };
  if (discovery_) {
    respond(Code::kFunctionRejected);
    return;
  }
  // The storage answers for its tasks. Until it has, what it sends for them
  // still reaches the host: a task that completed before the abort took
  // effect has its status delivered, and its abort is answered "task does
  // not exist" (the back connection keeps that order). The tasks the
  // function covered and that are still open end when the answer comes.
  TaskManagement passed{request.function, request.lun, nullptr};
  std::vector<std::pair<uint32_t, uint64_t>> covered;
  switch (request.function) {
    case Function::kAbortTask: {
      FrontTask* front_task = find_task(request.referenced_task_tag);
      if (front_task == nullptr) {
        respond(Code::kTaskDoesNotExist);
        return;
      }
      passed.referenced = &front_task->task;
      covered.emplace_back(front_task->task.itt, front_task->task.id);
      break;
    }
    case Function::kAbortTaskSet:
    case Function::kClearTaskSet:
    case Function::kLogicalUnitReset:
      covered = tasks_of(request.lun, false);
      break;
    case Function::kTargetWarmReset:
    case Function::kTargetColdReset:
      covered = tasks_of(0, true);
      break;
    case Function::kClearAca:
    case Function::kTaskReassign:
      respond(Code::kFunctionNotSupported);
      return;
  }
  // Whichever comes first answers: the storage, or the deadline. A stuck
  // storage (stopped, its disk hung) would otherwise hold the host's abort
  // or reset, and every retry of it, until the host gives up on the whole
  // session itself. Past the deadline the tasks' fate at the storage is
  // unknown, so nothing is claimed aborted: the answer is "function
  // rejected" and the session ends, which at ErrorRecoveryLevel 0 makes the
  // storage abort all of its tasks (RFC 7143 §6.1.1).
  auto answered = std::make_shared<bool>(false);
  auto deadline = std::make_shared<boost::asio::steady_timer>(timer_.get_executor(),
                                                              options_.task_management_timeout);
  deadline->async_wait([weak = weak_from_this(), answered, respond,
                        function = request.function](const boost::system::error_code& error) {
    if (error || *answered) return;
    *answered = true;
    auto self = weak.lock();
    if (!self || !self->is_open()) return;
    const auto seconds = self->options_.task_management_timeout.count();
    log::peer_warn(
        "{}: the storage did not answer {} within {} s; the host hears \"function "
        "rejected\" and the session ends",
        self->peer_, iscsi::task_management_function_name(function), seconds);
    respond(Code::kFunctionRejected);
    self->close_after_sending("back end failed: no answer to task management within " +
                              std::to_string(seconds) + " s");
  });
  back_->manage(passed, [weak = weak_from_this(), covered, respond, answered, deadline](Code code) {
    if (*answered) return;
    *answered = true;
    deadline->cancel();
    if (auto self = weak.lock()) {
      for (const auto& [itt, id] : covered) {
        if (self->find_task(itt, id) != nullptr) self->end_task(itt, Task::State::kAborted);
      }
    }
    respond(code);
  });
}

void FrontSession::handle_logout(const iscsi::LogoutRequest& request) {
  if (!accept_cmd_sn(request.immediate, request.cmd_sn)) return;
  if (request.reason == iscsi::LogoutReason::kRemoveConnectionForRecovery) {
    // Connection recovery needs ErrorRecoveryLevel 2, which the gateway
    // never negotiates: the answer says so (RFC 7143 §11.15.1), and the
    // session goes on.
    iscsi::LogoutResponse response;
    response.response = iscsi::LogoutResponseCode::kRecoveryNotSupported;
    response.itt = request.itt;
    stamp(response, true);
    send(response);
    return;
  }
  abort_all_tasks();
  iscsi::LogoutResponse response;
  response.itt = request.itt;
  stamp(response, true);
  send(response);
  close_after_sending("logged out");
}

void FrontSession::reject(InboundPdu& inbound, iscsi::RejectReason reason, const std::string& why) {
  ++statistics_.rejects;
  log::peer_warn("{}: rejected a PDU: {}", peer_, iscsi::printable(why));
  iscsi::Reject pdu;
  pdu.reason = reason;
  stamp(pdu, true);
  // The data segment is the rejected PDU's header (RFC 7143 §11.17.3).
  std::vector<uint8_t> header(inbound.header.begin(), inbound.header.begin() + iscsi::kBhsLength);
  pdu.data = header;
  send(pdu, std::move(header));
}

void FrontSession::reject_data_digest_error(InboundPdu& inbound) {
  if (!full_feature_) return;  // digests start with full feature phase
  reject(inbound, iscsi::RejectReason::kDataDigestError,
         std::string("data digest error on a ") +
             std::string(iscsi::opcode_name(iscsi::pdu_opcode(inbound.pdu))) +
             "; closing the connection (error recovery level 0)");
}

void FrontSession::protocol_error(const std::string& why) {
  // The reason may quote what the peer sent.
  log::peer_warn("{}: protocol error, closing the connection: {}", peer_, iscsi::printable(why));
  close("protocol error: " + iscsi::printable(why));
}

void FrontSession::schedule_keepalive() {
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
    if (error) return;
    if (auto self = weak.lock()) self->on_keepalive_timer();
  });
}

void FrontSession::on_keepalive_timer() {
  if (!is_open()) return;
  const auto now = std::chrono::steady_clock::now();
  if (!full_feature_) {
    if (!heard_ && now - started_ >= options_.first_pdu_timeout) {
      log::peer_warn("{}: sent no Login PDU within {} s", peer_,
                     options_.first_pdu_timeout.count());
      close("login timed out: no Login PDU");
      return;
    }
    if (now - started_ >= options_.login_timeout) {
      log::peer_warn("{}: login did not complete within {} s", peer_,
                     options_.login_timeout.count());
      close("login timed out");
      return;
    }
  } else if (now - last_data_ >= options_.data_timeout && awaiting_solicited_data()) {
    ++statistics_.data_timeouts;
    log::peer_warn("{}: the host sent none of the write data it was asked for within {} s", peer_,
                   options_.data_timeout.count());
    close("the host stopped sending the write data it was asked for");
    return;
  } else if (ping_ttt_) {
    if (now - ping_sent_ >= options_.nop_timeout) {
      log::peer_warn("{}: no answer to NOP-In within {} s", peer_, options_.nop_timeout.count());
      close("the host stopped answering NOP-In");
      return;
    }
  } else if (now - last_heard_ >= options_.nop_interval) {
    // A quiet host may be gone without a FIN; a NOP-In finds out (§11.19).
    iscsi::NopIn ping;
    ping.ttt = next_target_transfer_tag();
    ping.itt = iscsi::kReservedTag;
    stamp(ping, false);  // unsolicited: StatSN does not advance
    ping_ttt_ = ping.ttt;
    ping_sent_ = now;
    send(ping);
  }
  schedule_keepalive();
}

void FrontSession::close_then(const std::string& reason, std::function<void()> released) {
  if (back_) {
    back_->when_released(std::move(released));
  } else {
    released();
  }
  close(reason);
}

void FrontSession::connection_closed(const std::string& reason) {
  auto self = shared_from_this();  // the callback below may drop the last owner
  timer_.cancel();
  const size_t aborted = tasks_.size();
  abort_all_tasks();
  if (aborted > 0) log::peer_warn("{}: {} commands in flight were aborted", peer_, aborted);
  if (back_) back_->close();
  log::peer_info("{}: connection closed: {}", peer_, reason);
  options_.admission.reset();
  if (on_closed_) on_closed_(*this, reason);
}

}  // namespace isergw::gateway
