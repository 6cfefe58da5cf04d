#include "gateway/back_session.h"

#include <algorithm>
#include <atomic>

#include "common/log.h"
#include "iscsi/sense.h"
#include "iscsi/serial_number.h"

namespace isergw::gateway {

namespace asio = boost::asio;
using iscsi::LoginStatus;

namespace {

// What the host is told when the storage refuses the gateway's login. A
// storage ACL that refuses the host is the host's authorization failure;
// anything else is the gateway's problem toward its storage, which the host
// may retry (status class 3, RFC 7143 §11.13.5).
LoginStatus status_for_host(LoginStatus back) {
  if (back == LoginStatus::kAuthorizationFailure) return LoginStatus::kAuthorizationFailure;
  if (iscsi::status_class(back) == iscsi::LoginStatusClass::kTargetError) return back;
  return LoginStatus::kTargetError;
}

constexpr uint32_t kLeadingLoginCmdSn = 1;
// Commands ended by task management that the session keeps in mind, in case
// the storage still answers for them (ended_by_management_). A task split
// into pieces toward iSER storage ends as many commands at once (32 for a
// 16 MiB WRITE), and a worker has 64 command buffers such commands may hold:
// twice that, so that one abort or reset never looks like a storage that
// keeps buffers it was told to let go.
constexpr size_t kEndedTasksRemembered = 128;

const char* state_name(int state) {
  static const char* const names[] = {"idle",      "connecting", "logging in",
                                      "logged in", "closing",    "closed"};
  return names[state];
}

}  // namespace

BackSession::BackSession(asio::any_io_executor executor, BackSessionOptions options)
    : executor_(std::move(executor)), options_(std::move(options)), timer_(executor_) {}

BackSession::~BackSession() = default;

void BackSession::open(FrontLeg& front, const HostIdentity& host, OpenDone done) {
  front_ = &front;
  open_done_ = std::move(done);
  state_ = State::kConnecting;
  self_ = shared_from_this();
  deadline_ = std::chrono::steady_clock::now() + options_.login_timeout;
  schedule_timer();

  iscsi::LoginInitiatorConfig config;
  config.initiator_name = options_.gateway_name.value_or(host.initiator_name);
  if (!options_.gateway_name) config.initiator_alias = host.initiator_alias;
  // Passthrough keeps the host's ISID too: the storage sees the host's own
  // I_T nexus, and a host that logs in again after a failure reinstates its
  // old session at the storage (RFC 7143 §6.3.5), clearing its tasks there.
  config.isid = options_.gateway_name ? iscsi::random_isid() : host.isid;
  config.target_name = options_.target_name;
  config.itt = allocate_itt();
  config.cmd_sn = kLeadingLoginCmdSn;
  config.chap = options_.chap;
  config.target_chap = options_.target_chap;
  // MD5 first, as Linux's iscsid offers by default: tgt 1.0.85 takes
  // SHA-256 when offered first, then cannot decode its 32-byte response.
  config.chap_algorithms = {iscsi::ChapAlgorithm::kMd5, iscsi::ChapAlgorithm::kSha256};
  iscsi::NegotiationPolicy& policy = config.negotiation;
  policy.max_burst_length = options_.max_burst_length;
  policy.first_burst_length = options_.first_burst_length;
  policy.max_outstanding_r2t = 16;
  policy.initial_r2t = false;
  policy.immediate_data = true;
  adjust_login_policy(policy);
  login_config_ = config;
  login_.emplace(std::move(config));
  resolve_portal();
}

void BackSession::resolve_portal() {
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(executor_);
  resolver->async_resolve(
      options_.portal.host, std::to_string(options_.portal.port),
      [this, resolver, weak = weak_from_this()](const boost::system::error_code& error,
                                                asio::ip::tcp::resolver::results_type results) {
        auto self = weak.lock();
        if (!self || state_ != State::kConnecting) return;
        if (error || results.empty()) {
          fail("cannot resolve " + options_.portal.host + ": " + error.message());
          return;
        }
        std::vector<asio::ip::tcp::endpoint> endpoints;
        for (const auto& entry : results)
          endpoints.push_back(entry.endpoint());
        connect(endpoints);
      });
}

void BackSession::connected() {
  if (state_ != State::kConnecting) return;
  state_ = State::kLoggingIn;
  const iscsi::OwnedLoginRequest request = login_->start();
  send(request.pdu(), request.data);
}

void BackSession::handle_login(const iscsi::LoginResponse& response) {
  std::optional<iscsi::OwnedLoginRequest> next = login_->on_response(response);
  if (next) {
    send(next->pdu(), next->data);
    return;
  }
  if (login_->state() != iscsi::LoginInitiator::State::kFullFeature) {
    if (offer_md5_alone(login_->failure_reason())) {
      login_again_ = true;
      close_connection("logging in again offering CHAP_A=5 alone");
      return;
    }
    const LoginStatus status = login_->failure_status();
    const std::string reason =
        "the storage refused the login (" +
        std::string(
            iscsi::describe(iscsi::status_class(status), iscsi::status_detail(status)).text) +
        "): " + login_->failure_reason();
    finish_open({status_for_host(status), reason});
    close_connection(reason);
    return;
  }
  const iscsi::LoginInitiatorResult& result = *login_->result();
  parameters_ = result.parameters;
  tsih_ = result.tsih;
  // The Login Request was immediate, so the first command takes its CmdSN
  // (RFC 7143 §11.12.8), whatever ExpCmdSN the storage answered: tgt's
  // iSER target answers one more than it expects.
  cmd_sn_ = kLeadingLoginCmdSn;
  exp_cmd_sn_ = result.exp_cmd_sn;
  max_cmd_sn_ = result.max_cmd_sn;
  exp_stat_sn_ = result.exp_stat_sn;
  if (auto ready = begin_full_feature(parameters_); !ready) {
    fail(ready.error());
    return;
  }
  state_ = State::kFullFeature;
  last_heard_ = std::chrono::steady_clock::now();
  log::info("logged in to {} at {} as {} (TSIH {})", options_.target_name,
            options_.portal.host_port(), parameters_.session.initiator_name, tsih_);
  finish_open({});
}

void BackSession::finish_open(const BackOpenResult& result) {
  if (!open_done_) return;
  if (!result.ok()) front_ = nullptr;  // the front refuses its host and goes
  OpenDone done = std::move(open_done_);
  open_done_ = nullptr;
  done(result);
}

void BackSession::fail(const std::string& reason) {
  if (state_ == State::kClosed) return;
  log::warn("{}: back leg failed: {}", options_.back_end, reason);
  report_failure(reason);
  state_ = State::kClosed;
  if (has_connection()) {
    close_connection(reason);  // connection_closed() follows
  } else {
    timer_.cancel();
    released();
    self_.reset();  // nothing else holds a connection open
  }
}

void BackSession::report_failure(const std::string& reason) {
  if (open_done_) {
    finish_open({LoginStatus::kServiceUnavailable, reason});
  } else if (front_ != nullptr) {
    FrontLeg* front = front_;
    front_ = nullptr;
    front->back_failed(reason);
  }
}

void BackSession::close() {
  front_ = nullptr;
  open_done_ = nullptr;
  for (auto& [itt, back_task] : tasks_) {
    back_task.task = nullptr;
    back_task.front = nullptr;
  }
  waiting_.clear();
  switch (state_) {
    case State::kFullFeature:
      logout();
      break;
    case State::kConnecting:
    case State::kLoggingIn:
      fail("the host went away during login");
      break;
    default:
      break;
  }
}

void BackSession::when_released(std::function<void()> released) {
  if (state_ == State::kIdle || state_ == State::kClosed) {
    released();
    return;
  }
  released_.push_back(std::move(released));
}

void BackSession::released() {
  auto callbacks = std::move(released_);
  released_.clear();
  for (auto& callback : callbacks)
    callback();
}

void BackSession::logout() {
  state_ = State::kLoggingOut;
  deadline_ = std::chrono::steady_clock::now() + options_.logout_timeout;
  iscsi::LogoutRequest request;
  request.immediate = true;
  request.reason = iscsi::LogoutReason::kCloseSession;
  request.itt = logout_itt_ = allocate_itt();
  request.cmd_sn = cmd_sn_;  // immediate: CmdSN does not advance
  request.exp_stat_sn = exp_stat_sn_;
  send(request);
}

uint32_t BackSession::allocate_itt() {
  const uint32_t itt = next_itt_++;
  if (next_itt_ == iscsi::kReservedTag) next_itt_ = 1;
  return itt;
}

void BackSession::submit(Task& task, FrontLeg& front) {
  if (state_ != State::kFullFeature) {
    // The back leg failed a moment ago; back_failed() is ending the front,
    // which aborts this task with the rest.
    log::debug("{}: command dropped, the back leg is {}", options_.back_end,
               state_name(static_cast<int>(state_)));
    return;
  }
  const uint32_t itt = allocate_itt();
  task.back_itt = itt;
  BackTask& back_task = tasks_[itt];
  back_task.task = &task;
  back_task.front = &front;
  back_task.lun = task.lun;
  ++statistics_.commands;
  if (!waiting_.empty() || iscsi::sn_gt(cmd_sn_, max_cmd_sn_)) ++statistics_.queued_for_window;
  waiting_.push_back(itt);
  prepare(itt, back_task);
}

void BackSession::prepared(uint32_t itt) {
  BackTask* back_task = find_task(itt);
  if (back_task == nullptr || back_task->task == nullptr) return;
  back_task->ready = true;
  send_waiting();
}

uint32_t BackSession::add_command(uint32_t itt) {
  const uint32_t added = allocate_itt();
  // References into tasks_ outlive its rehashing: `first` stays valid.
  const BackTask& first = tasks_.at(itt);
  BackTask& back_task = tasks_[added];
  back_task.task = first.task;
  back_task.front = first.front;
  back_task.lun = first.lun;
  // prepare() runs right after submit() queued `itt`, so the task's commands
  // are next to each other in waiting_, and leave together.
  waiting_.push_back(added);
  return added;
}

void BackSession::end_unsent(uint32_t itt, const Completion& completion) {
  auto node = tasks_.extract(itt);  // send_waiting() skips its ITT
  if (node.empty() || node.mapped().task == nullptr) return;
  node.mapped().front->complete(*node.mapped().task, completion);
}

BackSession::BackTask* BackSession::find_task(uint32_t itt) {
  const auto found = tasks_.find(itt);
  return found == tasks_.end() ? nullptr : &found->second;
}

void BackSession::send_command(uint32_t itt) {
  BackTask& back_task = tasks_.at(itt);
  Task& task = *back_task.task;
  iscsi::ScsiCommand command;
  command.final = true;  // no unsolicited Data-Out: the rest comes by R2T
  command.read = task.read;
  command.write = task.write;
  command.task_attribute = task.task_attribute;
  command.lun = task.lun;
  command.itt = itt;
  command.expected_data_transfer_length = task.expected_data_transfer_length;
  command.cmd_sn = cmd_sn_++;
  command.exp_stat_sn = exp_stat_sn_;
  const size_t in_bhs = std::min(task.cdb.size(), iscsi::kBhsCdbLength);
  std::copy_n(task.cdb.begin(), in_bhs, command.cdb.begin());
  if (task.cdb.size() > iscsi::kBhsCdbLength) {
    command.extended_cdb = std::span<const uint8_t>(task.cdb).subspan(iscsi::kBhsCdbLength);
  }
  command.bidi_read_expected_data_transfer_length = task.bidi_read_expected_data_transfer_length;
  back_task.cmd_sn = command.cmd_sn;
  back_task.sent = true;
  back_task.sent_at = std::chrono::steady_clock::now();
  send_command(back_task, command);
}

void BackSession::send_waiting() {
  while (!waiting_.empty() && !iscsi::sn_gt(cmd_sn_, max_cmd_sn_) &&
         state_ == State::kFullFeature) {
    const uint32_t itt = waiting_.front();
    const auto found = tasks_.find(itt);
    if (found == tasks_.end()) {
      waiting_.pop_front();
      continue;
    }
    if (found->second.task == nullptr) {
      waiting_.pop_front();
      tasks_.erase(found);  // aborted before the storage saw it
      continue;
    }
    if (!found->second.ready) return;  // the commands behind it keep their order
    waiting_.pop_front();
    send_command(itt);
  }
}

void BackSession::abort(Task& task) {
  // Every command the task went as (add_command()): the ITT it was given is
  // only the first of them.
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    if (it->second.task != &task) {
      ++it;
    } else if (!it->second.sent) {
      it = tasks_.erase(it);  // send_waiting() skips its ITT
    } else {
      // The storage still knows the command: its ITT stays reserved, and
      // whatever the storage sends for it is dropped, until its status or
      // the answer to the task management function that ends it.
      it->second.task = nullptr;
      it->second.front = nullptr;
      ++it;
    }
  }
  // A ready command behind one of them goes now, not at the next event,
  // which may never come.
  send_waiting();
}

void BackSession::drop_unsent(const std::function<bool(const BackTask&)>& covered) {
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    if (it->second.task != nullptr && !it->second.sent && covered(it->second)) {
      it = tasks_.erase(it);  // send_waiting() skips its ITT
    } else {
      ++it;
    }
  }
  send_waiting();  // as in abort()
}

void BackSession::manage(const TaskManagement& request, ManageDone done) {
  using Code = iscsi::TaskManagementResponseCode;
  using Function = iscsi::TaskManagementFunction;
  if (state_ != State::kFullFeature) {
    done(Code::kFunctionComplete);  // the storage holds no task of this session
    return;
  }
  ++statistics_.task_management;
  iscsi::TaskManagementRequest pdu;
  pdu.immediate = true;
  pdu.function = request.function;
  pdu.lun = request.lun;
  pdu.itt = allocate_itt();
  pdu.cmd_sn = cmd_sn_;
  pdu.exp_stat_sn = exp_stat_sn_;
  // RefCmdSN: the referenced command's, or for the task-set functions the
  // CmdSN of this request (RFC 7143 §11.5.4).
  pdu.ref_cmd_sn = cmd_sn_;
  Management management{std::move(done), request.function, request.lun, iscsi::kReservedTag,
                        nullptr};
  // Commands of the covered tasks that have not left yet never will: the
  // storage's answer opens its window again, and what went out then would
  // reach the storage after the host heard its task was aborted (a stale
  // write). The front ends those tasks as the answer comes.
  const auto drop_unsent_covered = [&] {
    drop_unsent([&](const BackTask& back_task) {
      switch (request.function) {
        case Function::kAbortTask:
          return request.referenced != nullptr && back_task.task == request.referenced;
        case Function::kAbortTaskSet:
        case Function::kClearTaskSet:
        case Function::kLogicalUnitReset:
          return back_task.lun == request.lun;
        case Function::kTargetWarmReset:
        case Function::kTargetColdReset:
          return true;
        default:
          return false;
      }
    });
  };
  if (request.function == Function::kAbortTask) {
    bool known = false;
    std::vector<std::pair<uint32_t, uint32_t>> at_storage;  // ITT, CmdSN
    for (const auto& [itt, back_task] : tasks_) {
      if (request.referenced == nullptr || back_task.task != request.referenced) continue;
      known = true;
      if (back_task.sent) at_storage.emplace_back(itt, back_task.cmd_sn);
    }
    if (!known) {
      management.done(Code::kTaskDoesNotExist);
      return;
    }
    if (at_storage.empty()) {
      management.done(Code::kFunctionComplete);  // never reached the storage
      return;
    }
    drop_unsent_covered();
    if (at_storage.size() > 1) {
      auto together = std::make_shared<AbortTogether>();
      together->done = std::move(management.done);
      together->unanswered = at_storage.size();
      for (const auto& [itt, cmd_sn] : at_storage)
        together->itts.push_back(itt);
      for (size_t i = 0; i < at_storage.size(); ++i) {
        if (i > 0) pdu.itt = allocate_itt();
        pdu.referenced_task_tag = at_storage[i].first;
        pdu.ref_cmd_sn = at_storage[i].second;
        management_.emplace(
            pdu.itt, Management{[together](Code code) { together->answer(code); }, request.function,
                                request.lun, at_storage[i].first, together});
        send(pdu);
      }
      return;
    }
    pdu.referenced_task_tag = at_storage.front().first;
    pdu.ref_cmd_sn = at_storage.front().second;
    management.referenced_itt = at_storage.front().first;
  }
  drop_unsent_covered();
  management_.emplace(pdu.itt, std::move(management));
  send(pdu);
}

void BackSession::AbortTogether::answer(iscsi::TaskManagementResponseCode answer) {
  using Code = iscsi::TaskManagementResponseCode;
  // "Task does not exist" is a command that completed first; the task is
  // aborted if any of its commands was, and any other answer (a refusal)
  // is what the host hears.
  if (answer == Code::kFunctionComplete) {
    if (code == Code::kTaskDoesNotExist) code = answer;
  } else if (answer != Code::kTaskDoesNotExist &&
             (code == Code::kTaskDoesNotExist || code == Code::kFunctionComplete)) {
    code = answer;
  }
  if (--unanswered == 0 && done) done(code);
}

uint32_t BackSession::command_window() const {
  if (state_ != State::kFullFeature) return 1;
  const uint32_t open = iscsi::sn_gt(cmd_sn_, max_cmd_sn_) ? 0 : max_cmd_sn_ - cmd_sn_ + 1;
  // Tasks ended by task management are not the storage's any more.
  const uint32_t sent =
      static_cast<uint32_t>(tasks_.size() - waiting_.size() - ended_by_management_.size());
  // Never closed from here: a command the storage cannot take yet waits in
  // waiting_, and the host keeps a way to send task management.
  return std::max<uint32_t>(1, open + sent);
}

BackLegInfo BackSession::info() const {
  BackLegInfo info;
  info.back_end = options_.back_end;
  info.state = state_name(static_cast<int>(state_));
  if (state_ == State::kFullFeature || state_ == State::kLoggingOut) info.parameters = parameters_;
  info.tsih = tsih_;
  info.commands = statistics_.commands;
  info.in_flight = static_cast<uint32_t>(tasks_.size() - ended_by_management_.size());
  info.connection = connection_statistics();
  return info;
}

void BackSession::received(const iscsi::Pdu& pdu_received, DataOwner data_owner) {
  last_heard_ = std::chrono::steady_clock::now();
  if (state_ == State::kLoggingIn) {
    if (const auto* response = std::get_if<iscsi::LoginResponse>(&pdu_received)) {
      handle_login(*response);
    } else {
      protocol_error(std::string("sent ") +
                     std::string(iscsi::opcode_name(iscsi::pdu_opcode(pdu_received))) +
                     " during login");
    }
    return;
  }
  std::visit(
      [&](const auto& pdu) {
        using T = std::decay_t<decltype(pdu)>;
        if constexpr (std::is_same_v<T, iscsi::DataIn>) {
          handle_data_in(pdu, data_owner);
        } else if constexpr (std::is_same_v<T, iscsi::ScsiResponse>) {
          handle_response(pdu);
        } else if constexpr (std::is_same_v<T, iscsi::R2t>) {
          handle_r2t(pdu);
        } else if constexpr (std::is_same_v<T, iscsi::NopIn>) {
          handle_nop_in(pdu);
        } else if constexpr (std::is_same_v<T, iscsi::TaskManagementResponse>) {
          handle_task_management(pdu);
        } else if constexpr (std::is_same_v<T, iscsi::AsyncMessage>) {
          handle_async(pdu);
        } else if constexpr (std::is_same_v<T, iscsi::LogoutResponse>) {
          update_window(pdu.exp_cmd_sn, pdu.max_cmd_sn);
          if (pdu.itt == logout_itt_) close_connection("logged out");
        } else if constexpr (std::is_same_v<T, iscsi::Reject>) {
          // At error recovery level 0 a rejected command or data PDU leaves
          // its task unfinishable: the session starts over.
          protocol_error("the storage rejected a PDU (reason " +
                         std::to_string(static_cast<int>(pdu.reason)) + ")");
        } else {
          protocol_error(std::string("sent the unexpected PDU ") +
                         std::string(iscsi::opcode_name(iscsi::pdu_opcode(pdu_received))));
        }
      },
      pdu_received);
}

void BackSession::update_window(uint32_t exp_cmd_sn, uint32_t max_cmd_sn) {
  // A MaxCmdSN below ExpCmdSN - 1 is invalid and both are ignored; older
  // values that arrive late never shrink the window (RFC 7143 §4.2.2.1).
  if (!iscsi::is_valid_cmd_sn_window(exp_cmd_sn, max_cmd_sn)) return;
  if (iscsi::sn_gt(exp_cmd_sn, exp_cmd_sn_)) exp_cmd_sn_ = exp_cmd_sn;
  if (iscsi::sn_gt(max_cmd_sn, max_cmd_sn_)) max_cmd_sn_ = max_cmd_sn;
  if (!waiting_.empty()) send_waiting();
}

void BackSession::acknowledge_status(uint32_t stat_sn) {
  if (!iscsi::sn_lt(stat_sn, exp_stat_sn_)) exp_stat_sn_ = stat_sn + 1;
}

void BackSession::handle_r2t(const iscsi::R2t& r2t) {
  update_window(r2t.exp_cmd_sn, r2t.max_cmd_sn);
  const auto found = tasks_.find(r2t.itt);
  if (found == tasks_.end()) {
    protocol_error("R2T for unknown ITT " + std::to_string(r2t.itt));
    return;
  }
  if (found->second.task == nullptr) return;  // aborted: the storage will drop it too
  Task& task = *found->second.task;
  const uint64_t end = uint64_t{r2t.buffer_offset} + r2t.desired_data_transfer_length;
  if (!task.write || end > task.expected_data_transfer_length ||
      r2t.desired_data_transfer_length == 0) {
    protocol_error("R2T for [" + std::to_string(r2t.buffer_offset) + ", " + std::to_string(end) +
                   ") of a command with " + std::to_string(task.expected_data_transfer_length) +
                   " bytes to write");
    return;
  }
  ++statistics_.r2ts;
  const uint32_t itt = r2t.itt;
  const uint32_t ttt = r2t.ttt;
  const uint32_t offset = r2t.buffer_offset;
  const uint32_t length = r2t.desired_data_transfer_length;
  found->second.front->pull(
      task, offset, length,
      [weak = weak_from_this(), itt, ttt, offset, length](std::vector<DataSlice> slices) {
        if (auto self = weak.lock()) {
          self->send_data_out(itt, ttt, offset, length, std::move(slices));
        }
      });
}

void BackSession::send_data_out(uint32_t itt, uint32_t ttt, uint32_t offset, uint32_t length,
                                std::vector<DataSlice> slices) {
  if (state_ != State::kFullFeature) return;
  const auto found = tasks_.find(itt);
  if (found == tasks_.end() || found->second.task == nullptr) return;
  const Task& task = *found->second.task;
  const uint32_t max_segment = parameters_.connection.max_send_data_segment_length;
  const uint32_t end = offset + length;
  uint32_t data_sn = 0;  // counts within each R2T's sequence (§11.7.5)
  for (const DataSlice& slice : slices) {
    const std::shared_ptr<const void> owner = slice.owner;
    for (size_t done = 0; done < slice.bytes.size();) {
      const size_t chunk = std::min<size_t>(slice.bytes.size() - done, max_segment);
      iscsi::DataOut data_out;
      data_out.lun = task.lun;
      data_out.itt = itt;
      data_out.ttt = ttt;
      data_out.exp_stat_sn = exp_stat_sn_;
      data_out.data_sn = data_sn++;
      data_out.buffer_offset = slice.offset + static_cast<uint32_t>(done);
      data_out.data = slice.bytes.subspan(done, chunk);
      data_out.final = data_out.buffer_offset + chunk == end;
      send(data_out, owner);
      done += chunk;
    }
  }
  statistics_.bytes_written += length;
}

void BackSession::handle_data_in(const iscsi::DataIn& data_in, DataOwner& data_owner) {
  update_window(data_in.exp_cmd_sn, data_in.max_cmd_sn);
  const auto found = tasks_.find(data_in.itt);
  if (found == tasks_.end()) {
    protocol_error("Data-In for unknown ITT " + std::to_string(data_in.itt));
    return;
  }
  BackTask& back_task = found->second;
  if (data_in.data_sn != back_task.next_data_sn) {
    protocol_error("Data-In with DataSN " + std::to_string(data_in.data_sn) + " where " +
                   std::to_string(back_task.next_data_sn) + " was expected");
    return;
  }
  ++back_task.next_data_sn;
  if (back_task.task == nullptr) {
    if (data_in.status_present) {
      acknowledge_status(data_in.stat_sn);
      drop_answered(found);
    }
    return;
  }
  Task& task = *back_task.task;
  const uint64_t end = uint64_t{data_in.buffer_offset} + data_in.data.size();
  if (end > task.read_length()) {
    protocol_error("Data-In past the " + std::to_string(task.read_length()) +
                   " bytes the command reads");
    return;
  }
  if (!data_in.data.empty()) {
    statistics_.bytes_read += data_in.data.size();
    auto* owner = std::get_if<std::shared_ptr<const void>>(&data_owner);
    back_task.front->push(task, data_in.buffer_offset, data_in.data,
                          owner ? std::move(*owner) : nullptr);
  }
  if (!data_in.status_present) return;
  acknowledge_status(data_in.stat_sn);
  Completion completion;
  completion.status = data_in.status;
  completion.residual_overflow = data_in.residual_overflow;
  completion.residual_underflow = data_in.residual_underflow;
  completion.residual_count = data_in.residual_count;
  if (!answered(back_task, completion)) {
    tasks_.erase(data_in.itt);  // the task waits for its other commands
    return;
  }
  finish_task(data_in.itt, completion);
}

void BackSession::handle_response(const iscsi::ScsiResponse& response) {
  update_window(response.exp_cmd_sn, response.max_cmd_sn);
  acknowledge_status(response.stat_sn);
  const auto found = tasks_.find(response.itt);
  if (found == tasks_.end()) {
    protocol_error("SCSI Response for unknown ITT " + std::to_string(response.itt));
    return;
  }
  if (found->second.task == nullptr) {
    drop_answered(found);
    return;
  }
  Completion completion;
  completion.response = response.response;
  completion.status = response.status;
  completion.residual_overflow = response.residual_overflow;
  completion.residual_underflow = response.residual_underflow;
  completion.residual_count = response.residual_count;
  completion.bidi_read_overflow = response.bidi_read_overflow;
  completion.bidi_read_underflow = response.bidi_read_underflow;
  completion.bidi_read_residual_count = response.bidi_read_residual_count;
  auto sense = iscsi::unframe_sense_segment(response.data);
  if (sense) {
    completion.sense.assign(sense->begin(), sense->end());
  } else {
    log::warn("{}: SCSI Response with a malformed sense segment: {}", options_.back_end,
              sense.error());
  }
  if (!answered(found->second, completion)) {
    tasks_.erase(response.itt);  // the task waits for its other commands
    return;
  }
  finish_task(response.itt, completion);
}

void BackSession::finish_task(uint32_t itt, Completion completion) {
  auto node = tasks_.extract(itt);
  BackTask& back_task = node.mapped();
  completion.back_round_trip = std::chrono::steady_clock::now() - back_task.sent_at;
  if (back_task.task != nullptr) back_task.front->complete(*back_task.task, completion);
}

void BackSession::handle_task_management(const iscsi::TaskManagementResponse& response) {
  update_window(response.exp_cmd_sn, response.max_cmd_sn);
  acknowledge_status(response.stat_sn);
  auto node = management_.extract(response.itt);
  if (node.empty()) {
    protocol_error("Task Management Response for unknown ITT " + std::to_string(response.itt));
    return;
  }
  Management& management = node.mapped();
  // The front ends the tasks the function covered as it hears the answer.
  // The storage has ended them too, and should send nothing more for them;
  // one that does anyway is tolerated (ended_by_management_).
  management.done(response.response);
  using Function = iscsi::TaskManagementFunction;
  const auto covered = [&](uint32_t itt, const BackTask& back_task) {
    switch (management.function) {
      case Function::kAbortTask:
        // All of a task's commands once the last answer is in, which is
        // when the front ends the task.
        if (management.together) {
          return management.together->unanswered == 0 &&
                 std::find(management.together->itts.begin(), management.together->itts.end(),
                           itt) != management.together->itts.end();
        }
        return itt == management.referenced_itt;
      case Function::kAbortTaskSet:
      case Function::kClearTaskSet:
      case Function::kLogicalUnitReset:
        return back_task.lun == management.lun;
      case Function::kTargetWarmReset:
      case Function::kTargetColdReset:
        return true;
      default:
        return false;
    }
  };
  for (auto& [itt, back_task] : tasks_) {
    if (back_task.task != nullptr || !back_task.sent || back_task.ended_by_management) continue;
    if (!covered(itt, back_task)) continue;
    back_task.ended_by_management = true;
    ended_by_management_.push_back(itt);
  }
  forget_old_ended_tasks();
}

void BackSession::drop_answered(std::unordered_map<uint32_t, BackTask>::iterator found) {
  if (found->second.ended_by_management) {
    std::erase(ended_by_management_, found->first);
    if (!late_answer_logged_) {
      late_answer_logged_ = true;
      log::info(
          "{}: the storage answered ITT {} after its task management response had ended "
          "it; dropped (further ones are dropped silently)",
          options_.back_end, found->first);
    }
  }
  tasks_.erase(found);
}

void BackSession::forget_old_ended_tasks() {
  while (ended_by_management_.size() > kEndedTasksRemembered) {
    const auto oldest = tasks_.find(ended_by_management_.front());
    if (oldest->second.held) {
      fail("more than " + std::to_string(kEndedTasksRemembered) +
           " commands ended by task management hold buffers the storage may still write "
           "into; reconnecting to take them back");
      return;
    }
    tasks_.erase(oldest);
    ended_by_management_.pop_front();
  }
}

void BackSession::handle_nop_in(const iscsi::NopIn& nop) {
  update_window(nop.exp_cmd_sn, nop.max_cmd_sn);
  if (nop.itt != iscsi::kReservedTag) {
    acknowledge_status(nop.stat_sn);  // the answer to our ping
    if (ping_itt_ && *ping_itt_ == nop.itt) ping_itt_.reset();
    return;
  }
  if (nop.ttt == iscsi::kReservedTag) return;  // a one-way NOP-In
  // The storage pings: answer with its TTT and its data (§11.18).
  iscsi::NopOut reply;
  reply.immediate = true;
  reply.lun = nop.lun;
  reply.itt = iscsi::kReservedTag;
  reply.ttt = nop.ttt;
  reply.cmd_sn = cmd_sn_;
  reply.exp_stat_sn = exp_stat_sn_;
  std::vector<uint8_t> echo(nop.data.begin(), nop.data.end());
  reply.data = echo;
  send(reply, std::move(echo));
}

void BackSession::handle_async(const iscsi::AsyncMessage& message) {
  update_window(message.exp_cmd_sn, message.max_cmd_sn);
  acknowledge_status(message.stat_sn);
  ++statistics_.async_messages;
  log::info("{}: asynchronous message {} from the storage, passed to the host", options_.back_end,
            static_cast<int>(message.async_event));
  if (front_ != nullptr) front_->notify(message);
}

void BackSession::protocol_error(const std::string& why) {
  log::warn("{}: protocol error from the storage, closing: {}", options_.back_end, why);
  fail("protocol error from the storage: " + why);
}

bool BackSession::offer_md5_alone(const std::string& refusal) {
  if (!login_ || !login_->refused_at_chap_algorithms() ||
      login_config_.chap_algorithms.size() < 2) {
    return false;
  }
  // Older LIO and some NAS firmware refuse a list of CHAP_A values, where
  // RFC 7143 §12.1.3 has the target pick one: MD5 alone, which every CHAP
  // target takes, gets through.
  log::warn(
      "{}: the storage refused the CHAP algorithms offered ({}); logging in again "
      "offering MD5 alone",
      options_.back_end, refusal);
  login_config_.chap_algorithms = {iscsi::ChapAlgorithm::kMd5};
  return true;
}

void BackSession::connection_closed(const std::string& reason) {
  if (state_ == State::kLoggingIn &&
      (login_again_ || offer_md5_alone("it closed the connection: " + reason))) {
    login_again_ = false;
    state_ = State::kConnecting;  // within the same login deadline
    login_.emplace(login_config_);
    // Not from inside the closed connection's own callback: it goes first,
    // so that a failure before the next connects finds no connection to
    // wait on.
    asio::post(executor_, [this, weak = weak_from_this()] {
      if (weak.expired() || state_ != State::kConnecting) return;
      forget_connection();
      resolve_portal();
    });
    return;
  }
  auto keep = std::move(self_);  // may be the last owner
  const State was = state_;
  state_ = State::kClosed;
  timer_.cancel();
  report_failure("the storage closed the connection: " + reason);  // unless fail() has
  for (auto& [itt, management] : management_)
    management.done(iscsi::TaskManagementResponseCode::kFunctionComplete);
  management_.clear();
  tasks_.clear();
  waiting_.clear();
  ended_by_management_.clear();
  if (was == State::kLoggingOut) {
    log::info("{}: logged out of {}", options_.back_end, options_.target_name);
  } else if (was != State::kClosed) {  // fail() logged why already
    log::info("{}: connection to {} closed: {}", options_.back_end, options_.portal.host_port(),
              reason);
  }
  released();
}

void BackSession::schedule_timer() {
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
    if (error) return;
    if (auto self = weak.lock()) self->on_timer();
  });
}

void BackSession::on_timer() {
  const auto now = std::chrono::steady_clock::now();
  switch (state_) {
    case State::kConnecting:
    case State::kLoggingIn:
      if (now >= deadline_) {
        fail("no login to " + options_.portal.host_port() + " within " +
             std::to_string(options_.login_timeout.count()) + " s" +
             (state_ == State::kConnecting ? connecting_hint() : std::string()));
        return;
      }
      break;
    case State::kFullFeature:
      if (ping_itt_) {
        if (now - ping_sent_ >= options_.nop_timeout) {
          fail("the storage did not answer NOP-Out within " +
               std::to_string(options_.nop_timeout.count()) + " s");
          return;
        }
      } else if (now - last_heard_ >= options_.nop_interval) {
        // A storage that vanished without a FIN is found by pinging it.
        iscsi::NopOut ping;
        ping.immediate = true;
        ping.itt = allocate_itt();
        ping.cmd_sn = cmd_sn_;
        ping.exp_stat_sn = exp_stat_sn_;
        ping_itt_ = ping.itt;
        ping_sent_ = now;
        send(ping);
      }
      break;
    case State::kLoggingOut:
      if (now >= deadline_) {
        close_connection("no Logout Response within " +
                         std::to_string(options_.logout_timeout.count()) + " s");
        return;
      }
      break;
    default:
      return;
  }
  schedule_timer();
}

}  // namespace isergw::gateway
