#include "fabric_tcp/target_session.h"

#include <algorithm>
#include <atomic>

#include "common/log.h"
#include "iscsi/send_targets.h"
#include "iscsi/sense.h"
#include "iscsi/serial_number.h"

namespace isergw::fabric_tcp {

namespace asio = boost::asio;
using gateway::Task;

namespace {

// TSIHs are unique across the gateway (RFC 7143 §11.13.4: never 0).
uint16_t next_tsih() {
  static std::atomic<uint32_t> counter{0};
  uint16_t tsih = 0;
  while (tsih == 0)
    tsih = static_cast<uint16_t>(++counter);
  return tsih;
}

uint64_t next_task_id() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

std::string endpoint_text(const asio::ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

iscsi::DigestType digest_of(const iscsi::ConnectionParameters& connection, bool header) {
  return header ? connection.header_digest : connection.data_digest;
}

}  // namespace

TargetSession::TargetSession(asio::ip::tcp::socket socket, gateway::BufferPool& pool,
                             std::shared_ptr<const gateway::TargetMap> targets,
                             TargetSessionOptions options, ClosedCallback on_closed)
    : pool_(pool),
      targets_(std::move(targets)),
      options_(std::move(options)),
      on_closed_(std::move(on_closed)),
      timer_(socket.get_executor()) {
  boost::system::error_code error;
  const auto remote = socket.remote_endpoint(error);
  peer_ = error ? "unconnected" : endpoint_text(remote);
  const auto local = socket.local_endpoint(error);
  if (!error) {
    local_host_ = local.address().to_string();
    local_port_ = local.port();
  }
  stream_ = std::make_shared<PduStream>(std::move(socket), pool_, *this);
}

TargetSession::~TargetSession() = default;

const std::optional<iscsi::LoginTargetResult>& TargetSession::login_result() const {
  static const std::optional<iscsi::LoginTargetResult> none;
  return login_ ? login_->result() : none;
}

void TargetSession::start() {
  started_ = last_heard_ = std::chrono::steady_clock::now();
  iscsi::LoginTargetConfig config;
  config.portal_group_tag = options_.portal_group_tag;
  config.new_tsih = next_tsih();
  config.command_window = options_.command_window;
  iscsi::NegotiationPolicy& policy = config.negotiation;
  policy.header_digests = {"CRC32C", "None"};
  policy.data_digests = {"CRC32C", "None"};
  policy.auth_methods = {"CHAP", "None"};
  // The largest data segment a host may send: one pool buffer receives it.
  policy.max_recv_data_segment_length =
      static_cast<uint32_t>(std::min<size_t>(pool_.buffer_size(), 256 * 1024));
  policy.max_burst_length = options_.max_burst_length;
  policy.first_burst_length = options_.first_burst_length;
  policy.max_outstanding_r2t = options_.max_outstanding_r2t;
  policy.initial_r2t = false;  // accept unsolicited data where the host offers it
  policy.immediate_data = true;
  login_.emplace(std::move(config), *targets_);
  stream_->start();
  schedule_keepalive();
}

void TargetSession::close(const std::string& reason) {
  stream_->close(reason);
}

void TargetSession::request_logout(std::chrono::seconds within) {
  if (!stream_->is_open()) return;
  if (!full_feature_ || discovery_) {
    close("the gateway is shutting down");
    return;
  }
  log::info("{}: asking {} to log out within {} s", peer_, parameters_.session.initiator_name,
            within.count());
  iscsi::AsyncMessage message;
  message.async_event = iscsi::AsyncEvent::kLogoutRequested;
  message.parameter3 = static_cast<uint16_t>(within.count());
  message.stat_sn = stat_sn_++;
  message.exp_cmd_sn = exp_cmd_sn_;
  message.max_cmd_sn = max_cmd_sn();
  stream_->send(message);
}

void TargetSession::on_pdu(InboundPdu& inbound) {
  last_heard_ = std::chrono::steady_clock::now();
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

void TargetSession::handle_login(InboundPdu& inbound) {
  const auto& request = std::get<iscsi::LoginRequest>(inbound.pdu);
  iscsi::OwnedLoginResponse response = login_->on_request(request);
  if (login_->state() == iscsi::LoginTarget::State::kFullFeature &&
      login_->result()->parameters.session.session_type == iscsi::SessionType::kNormal) {
    open_back_leg(std::move(response));
    return;
  }
  stream_->send(response.pdu(), response.data);
  switch (login_->state()) {
    case iscsi::LoginTarget::State::kFailed:
      log::warn("login from {} refused: {} ({})", peer_,
                iscsi::describe(iscsi::status_class(login_->failure_status()),
                                iscsi::status_detail(login_->failure_status()))
                    .text,
                login_->failure_reason());
      stream_->close_after_sending("login failed: " + login_->failure_reason());
      break;
    case iscsi::LoginTarget::State::kFullFeature:
      enter_full_feature(response.header.max_cmd_sn);
      break;
    default:
      break;
  }
}

void TargetSession::open_back_leg(iscsi::OwnedLoginResponse final_response) {
  const iscsi::LoginTargetResult& result = *login_->result();
  const iscsi::SessionParameters& session = result.parameters.session;
  target_ = targets_->find(session.target_name);
  if (target_ == nullptr) {
    // The map changed between the login's first and last PDU.
    refuse_login(std::move(final_response), iscsi::LoginStatus::kTargetRemoved,
                 "target " + session.target_name + " is gone");
    return;
  }
  back_ = targets_->make_back_leg(*target_, pool_, timer_.get_executor());
  // The host hears that its login succeeded only once the storage has
  // taken the gateway's: until then it sends nothing, and nothing is read.
  stream_->pause_reading();
  auto held = std::make_shared<iscsi::OwnedLoginResponse>(std::move(final_response));
  back_->open(*this, {session.initiator_name, session.initiator_alias, result.isid},
              [weak = weak_from_this(), held](const gateway::BackOpenResult& opened) {
                auto self = weak.lock();
                if (self && self->stream_->is_open()) self->on_back_open(*held, opened);
              });
}

void TargetSession::on_back_open(const iscsi::OwnedLoginResponse& final_response,
                                 const gateway::BackOpenResult& opened) {
  if (!opened.ok()) {
    refuse_login(final_response, opened.status, opened.reason);
    return;
  }
  // The host's first window is the storage's, not wider: MaxCmdSN never
  // goes down once the host has seen it (RFC 7143 §4.2.2.1).
  iscsi::LoginResponse response = final_response.pdu();
  const uint32_t window = std::min(options_.command_window, back_->command_window());
  response.max_cmd_sn = response.exp_cmd_sn + window - 1;
  stream_->send(response, final_response.data);
  enter_full_feature(response.max_cmd_sn);
  stream_->resume_reading();
}

void TargetSession::refuse_login(iscsi::OwnedLoginResponse response, iscsi::LoginStatus status,
                                 const std::string& reason) {
  response.header.transit = false;
  response.header.status_class = iscsi::status_class(status);
  response.header.status_detail = iscsi::status_detail(status);
  response.data.clear();
  log::warn("login from {} refused: {} ({})", peer_,
            iscsi::describe(iscsi::status_class(status), iscsi::status_detail(status)).text,
            reason);
  stream_->send(response.pdu(), response.data);
  stream_->close_after_sending("login failed: " + reason);
}

void TargetSession::enter_full_feature(uint32_t max_cmd_sn) {
  advertised_max_cmd_sn_ = max_cmd_sn;
  const iscsi::LoginTargetResult& result = *login_->result();
  parameters_ = result.parameters;
  const iscsi::SessionParameters& session = parameters_.session;
  stat_sn_ = result.next_stat_sn;
  exp_cmd_sn_ = result.exp_cmd_sn;
  discovery_ = session.session_type == iscsi::SessionType::kDiscovery;
  // Digests and the data segment limit apply from the first PDU after the
  // final Login Response (RFC 7143 §13.1, §13.12).
  const iscsi::ConnectionParameters& connection = parameters_.connection;
  stream_->set_decode_options(
      {.header_digest = digest_of(connection, true) == iscsi::DigestType::kCrc32c,
       .data_digest = digest_of(connection, false) == iscsi::DigestType::kCrc32c,
       .max_recv_data_segment_length = connection.max_recv_data_segment_length});
  stream_->set_encode_options(
      {.header_digest = digest_of(connection, true) == iscsi::DigestType::kCrc32c,
       .data_digest = digest_of(connection, false) == iscsi::DigestType::kCrc32c});
  full_feature_ = true;
  log::info("{} logged in from {} to {} (TSIH {}, {} session)", session.initiator_name, peer_,
            discovery_ ? std::string("discovery") : session.target_name, result.tsih,
            discovery_ ? "discovery" : "normal");
}

bool TargetSession::accept_cmd_sn(bool immediate, uint32_t cmd_sn) {
  if (immediate) return true;
  // A command outside the window is dropped silently (RFC 7143 §3.2.2.1); on
  // one connection anything else than the expected CmdSN is a lost PDU,
  // which error recovery level 0 answers by ending the connection.
  if (iscsi::sn_lt(cmd_sn, exp_cmd_sn_) || iscsi::sn_gt(cmd_sn, max_cmd_sn())) {
    ++statistics_.out_of_window_commands;
    log::warn("{}: dropped CmdSN {} outside the window [{}, {}]", peer_, cmd_sn, exp_cmd_sn_,
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

uint32_t TargetSession::max_cmd_sn() {
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

TargetSession::FrontTask* TargetSession::find_task(uint32_t itt) {
  const auto found = tasks_.find(itt);
  return found == tasks_.end() ? nullptr : found->second.get();
}

TargetSession::FrontTask* TargetSession::find_task(uint32_t itt, uint64_t id) {
  FrontTask* front_task = find_task(itt);
  return front_task != nullptr && front_task->task.id == id ? front_task : nullptr;
}

void TargetSession::handle_command(const iscsi::ScsiCommand& command, InboundPdu& inbound) {
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
  auto front_task =
      std::make_unique<FrontTask>(command.write ? command.expected_data_transfer_length : 0);
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
  task.started = std::chrono::steady_clock::now();

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
    front_task->solicited_end = unsolicited;
  }
  ++statistics_.commands;
  FrontTask& stored = *tasks_.emplace(command.itt, std::move(front_task)).first->second;
  if (immediate_length > 0) {
    add_write_data(stored, 0, std::move(inbound.data), command.data);
    if (!stream_->is_open()) return;
  }
  back_->submit(stored.task, *this);
}

void TargetSession::add_write_data(FrontTask& front_task, uint32_t offset, gateway::Buffer buffer,
                                   std::span<const uint8_t> bytes) {
  auto owner = std::make_shared<const gateway::Buffer>(std::move(buffer));
  auto added = front_task.write_data.add(gateway::DataSlice{offset, bytes, std::move(owner)});
  if (!added) {
    protocol_error(added.error());
    return;
  }
  statistics_.bytes_written += bytes.size();
}

void TargetSession::handle_data_out(const iscsi::DataOut& data_out, InboundPdu& inbound) {
  FrontTask* front_task = find_task(data_out.itt);
  if (front_task == nullptr || !front_task->task.write) {
    // Data for a task that just ended (aborted) is normal; it is dropped.
    log::debug("{}: Data-Out for unknown ITT {} dropped", peer_, data_out.itt);
    return;
  }
  const uint32_t length = static_cast<uint32_t>(data_out.data.size());
  const uint64_t end = uint64_t{data_out.buffer_offset} + length;
  if (data_out.ttt == iscsi::kReservedTag) {
    if (end > front_task->unsolicited_end) {
      protocol_error("unsolicited Data-Out past FirstBurstLength (offset " +
                     std::to_string(data_out.buffer_offset) + ")");
      return;
    }
    if (data_out.data_sn != front_task->next_unsolicited_data_sn) {
      protocol_error("unsolicited Data-Out with DataSN " + std::to_string(data_out.data_sn) +
                     " where " + std::to_string(front_task->next_unsolicited_data_sn) +
                     " was expected");
      return;
    }
    ++front_task->next_unsolicited_data_sn;
  } else {
    auto sequence = std::find_if(front_task->r2ts.begin(), front_task->r2ts.end(),
                                 [&](const R2tSequence& r2t) { return r2t.ttt == data_out.ttt; });
    if (sequence == front_task->r2ts.end()) {
      protocol_error("Data-Out with TTT " + std::to_string(data_out.ttt) +
                     " that no outstanding R2T carries");
      return;
    }
    if (data_out.buffer_offset < sequence->offset ||
        end > uint64_t{sequence->offset} + sequence->length) {
      protocol_error("Data-Out at offset " + std::to_string(data_out.buffer_offset) +
                     " outside its R2T's range");
      return;
    }
    if (data_out.data_sn != sequence->next_data_sn) {
      protocol_error("Data-Out with DataSN " + std::to_string(data_out.data_sn) + " where " +
                     std::to_string(sequence->next_data_sn) + " was expected");
      return;
    }
    ++sequence->next_data_sn;
    sequence->received += length;
    if (data_out.final || sequence->received == sequence->length) {
      if (sequence->received != sequence->length) {
        protocol_error("R2T sequence ended with " + std::to_string(sequence->received) + " of " +
                       std::to_string(sequence->length) + " bytes");
        return;
      }
      front_task->r2ts.erase(sequence);
    }
  }
  add_write_data(*front_task, data_out.buffer_offset, std::move(inbound.data), data_out.data);
  if (!stream_->is_open()) return;
  solicit(*front_task);
  serve_pulls(data_out.itt);
}

void TargetSession::pull(Task& task, uint32_t offset, uint32_t length, gateway::PullDone done) {
  FrontTask* front_task = find_task(task.itt);
  if (front_task == nullptr) return;
  task.state = Task::State::kPulling;
  front_task->pulls.push_back(Pull{offset, length, std::move(done)});
  // Ask for whatever the host will not send unasked, in bursts of at most
  // MaxBurstLength, in offset order (DataSequenceInOrder).
  const uint32_t end = offset + length;
  if (end > front_task->solicited_end) {
    uint32_t from = std::max(front_task->solicited_end, offset);
    while (from < end) {
      const uint32_t burst = std::min(end - from, parameters_.session.max_burst_length);
      front_task->wanted.emplace_back(from, burst);
      from += burst;
    }
    front_task->solicited_end = end;
  }
  solicit(*front_task);
  serve_pulls(task.itt);
}

void TargetSession::solicit(FrontTask& front_task) {
  while (!front_task.wanted.empty() &&
         front_task.r2ts.size() < parameters_.session.max_outstanding_r2t) {
    const auto [offset, length] = front_task.wanted.front();
    front_task.wanted.pop_front();
    R2tSequence sequence{next_ttt_++, offset, length};
    if (next_ttt_ == iscsi::kReservedTag) next_ttt_ = 1;
    front_task.r2ts.push_back(sequence);
    iscsi::R2t r2t;
    r2t.lun = front_task.task.lun;
    r2t.itt = front_task.task.itt;
    r2t.ttt = sequence.ttt;
    r2t.stat_sn = stat_sn_;  // an R2T carries StatSN without advancing it
    r2t.exp_cmd_sn = exp_cmd_sn_;
    r2t.max_cmd_sn = max_cmd_sn();
    r2t.r2t_sn = front_task.r2t_sn++;
    r2t.buffer_offset = offset;
    r2t.desired_data_transfer_length = length;
    ++statistics_.r2ts;
    stream_->send(r2t);
  }
}

void TargetSession::serve_pulls(uint32_t itt) {
  FrontTask* front_task = find_task(itt);
  if (front_task == nullptr) return;
  const uint64_t id = front_task->task.id;
  std::vector<Pull> ready;
  auto& pulls = front_task->pulls;
  for (auto it = pulls.begin(); it != pulls.end();) {
    if (front_task->write_data.covers(it->offset, it->length)) {
      ready.push_back(std::move(*it));
      it = pulls.erase(it);
    } else {
      ++it;
    }
  }
  for (Pull& pull : ready) {
    // An earlier callback may have completed or aborted the task.
    front_task = find_task(itt, id);
    if (front_task == nullptr) return;
    front_task->task.state = Task::State::kSubmitted;
    pull.done(front_task->write_data.slices(pull.offset, pull.length));
  }
}

void TargetSession::push(Task& task, uint32_t offset, std::span<const uint8_t> data,
                         std::shared_ptr<const void> owner) {
  FrontTask* front_task = find_task(task.itt);
  if (front_task == nullptr) return;
  const uint32_t max_segment = parameters_.connection.max_send_data_segment_length;
  const uint32_t read_end = task.read_length();
  size_t sent = 0;
  while (sent < data.size()) {
    const uint32_t room = parameters_.session.max_burst_length - front_task->data_in_burst;
    const uint32_t length =
        static_cast<uint32_t>(std::min<size_t>({data.size() - sent, max_segment, room}));
    iscsi::DataIn data_in;
    data_in.lun = task.lun;
    data_in.itt = task.itt;
    data_in.exp_cmd_sn = exp_cmd_sn_;
    data_in.max_cmd_sn = max_cmd_sn();
    data_in.data_sn = front_task->data_in_sn++;
    data_in.buffer_offset = offset + static_cast<uint32_t>(sent);
    data_in.data = data.subspan(sent, length);
    front_task->data_in_burst += length;
    // F ends each Data-In sequence of at most MaxBurstLength (RFC 7143
    // §11.7.1, §13.13) and the command's last one.
    const bool last = data_in.buffer_offset + length >= read_end;
    if (last || front_task->data_in_burst == parameters_.session.max_burst_length) {
      data_in.final = true;
      front_task->data_in_burst = 0;
    }
    sent += length;
    if (last && !task.write) {
      // The status always follows the last data; held until then, the two
      // can share a PDU. The host cannot use the data before the status.
      front_task->held_data_in = data_in;
      front_task->held_owner = owner;
      continue;
    }
    stream_->send(data_in, owner);
  }
  statistics_.bytes_read += data.size();
}

std::vector<gateway::DataSlice> TargetSession::received(Task& task, uint32_t offset,
                                                        uint32_t max_length) {
  FrontTask* front_task = find_task(task.itt);
  if (front_task == nullptr) return {};
  const auto gaps = front_task->write_data.gaps(offset, max_length);
  const uint32_t contiguous = gaps.empty() ? max_length : gaps.front().first - offset;
  if (contiguous == 0) return {};
  return front_task->write_data.slices(offset, contiguous);
}

void TargetSession::notify(const iscsi::AsyncMessage& message) {
  if (!full_feature_ || !stream_->is_open()) return;
  iscsi::AsyncMessage pdu = message;
  pdu.stat_sn = stat_sn_++;
  pdu.exp_cmd_sn = exp_cmd_sn_;
  pdu.max_cmd_sn = max_cmd_sn();
  std::vector<uint8_t> data(message.data.begin(), message.data.end());
  pdu.data = data;
  stream_->send(pdu, std::move(data));
}

void TargetSession::back_failed(const std::string& reason) {
  log::warn("{}: the back end failed, closing so that the host logs in again: {}", peer_, reason);
  close("back end failed: " + reason);
}

void TargetSession::send_held_data_in(FrontTask& front_task) {
  if (!front_task.held_data_in) return;
  stream_->send(*front_task.held_data_in, std::move(front_task.held_owner));
  front_task.held_data_in.reset();
}

void TargetSession::complete(Task& task, const gateway::Completion& completion) {
  FrontTask* front_task = find_task(task.itt);
  if (front_task == nullptr) return;
  statistics_.front_latency.observe(std::chrono::steady_clock::now() - task.started);
  if (completion.back_round_trip) statistics_.back_latency.observe(*completion.back_round_trip);
  if (front_task->held_data_in) {
    // GOOD status without sense rides in the last Data-In (phase collapse):
    // one PDU less per read for the host to handle.
    const bool collapse = completion.response == iscsi::kResponseCommandCompleted &&
                          completion.status == 0 && completion.sense.empty();
    if (!collapse) {
      send_held_data_in(*front_task);
    } else {
      iscsi::DataIn data_in = *front_task->held_data_in;
      std::shared_ptr<const void> owner = std::move(front_task->held_owner);
      data_in.status_present = true;
      data_in.status = completion.status;
      data_in.residual_overflow = completion.residual_overflow;
      data_in.residual_underflow = completion.residual_underflow;
      data_in.residual_count = completion.residual_count;
      end_task(task.itt, Task::State::kCompleted);
      data_in.stat_sn = stat_sn_++;
      data_in.exp_cmd_sn = exp_cmd_sn_;
      data_in.max_cmd_sn = max_cmd_sn();
      stream_->send(data_in, std::move(owner));
      return;
    }
  }
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
  response.exp_data_sn = front_task->data_in_sn + front_task->r2t_sn;
  std::vector<uint8_t> segment;
  if (!completion.sense.empty()) {
    segment.resize(iscsi::kSenseLengthFieldSize + completion.sense.size());
    auto framed = iscsi::frame_sense_segment(completion.sense, segment);
    if (framed) segment.resize(*framed);
  }
  // The task leaves the window before MaxCmdSN is computed for the response.
  end_task(task.itt, Task::State::kCompleted);
  response.stat_sn = stat_sn_++;
  response.exp_cmd_sn = exp_cmd_sn_;
  response.max_cmd_sn = max_cmd_sn();
  response.data = segment;
  stream_->send(response, std::move(segment));
}

void TargetSession::end_task(uint32_t itt, Task::State state) {
  const auto found = tasks_.find(itt);
  if (found == tasks_.end()) return;
  found->second->task.state = state;
  if (state == Task::State::kAborted && back_) back_->abort(found->second->task);
  tasks_.erase(found);
}

std::vector<std::pair<uint32_t, uint64_t>> TargetSession::tasks_of(uint64_t lun,
                                                                   bool all_luns) const {
  std::vector<std::pair<uint32_t, uint64_t>> found;
  for (const auto& [itt, front_task] : tasks_) {
    if (all_luns || front_task->task.lun == lun) found.emplace_back(itt, front_task->task.id);
  }
  return found;
}

void TargetSession::abort_all_tasks() {
  for (const auto& [itt, id] : tasks_of(0, true))
    end_task(itt, Task::State::kAborted);
}

void TargetSession::handle_nop_out(const iscsi::NopOut& nop) {
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
  reply.stat_sn = stat_sn_++;
  reply.exp_cmd_sn = exp_cmd_sn_;
  reply.max_cmd_sn = max_cmd_sn();
  // The ping data comes back (RFC 7143 §11.19).
  std::vector<uint8_t> echo(nop.data.begin(), nop.data.end());
  reply.data = echo;
  stream_->send(reply, std::move(echo));
}

void TargetSession::handle_text(const iscsi::TextRequest& request) {
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
      for (const gateway::MappedTarget* target :
           targets_->visible_to(parameters_.session.initiator_name)) {
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
      if (key.key != "SendTargets") answer.push_back({key.key, "NotUnderstood"});
    }
    for (auto& segment :
         iscsi::split_text_keys(answer, parameters_.connection.max_send_data_segment_length)) {
      text_pending_.push_back(std::move(segment));
    }
  }
  send_text_segment();
}

void TargetSession::send_text_segment() {
  iscsi::TextSegment segment = std::move(text_pending_.front());
  text_pending_.pop_front();
  iscsi::TextResponse response;
  response.itt = text_itt_;
  response.continues = segment.continue_bit;
  response.final = !segment.continue_bit;
  if (segment.continue_bit) {
    text_ttt_ = next_ttt_++;
    if (next_ttt_ == iscsi::kReservedTag) next_ttt_ = 1;
  } else {
    text_ttt_ = iscsi::kReservedTag;
  }
  response.ttt = text_ttt_;
  response.stat_sn = stat_sn_++;
  response.exp_cmd_sn = exp_cmd_sn_;
  response.max_cmd_sn = max_cmd_sn();
  response.data = segment.data;
  stream_->send(response, std::move(segment.data));
}

void TargetSession::handle_task_management(const iscsi::TaskManagementRequest& request) {
  if (!accept_cmd_sn(request.immediate, request.cmd_sn)) return;
  using Function = iscsi::TaskManagementFunction;
  using Code = iscsi::TaskManagementResponseCode;
  const uint32_t itt = request.itt;
  const bool cold_reset = request.function == Function::kTargetColdReset;
  auto respond = [weak = weak_from_this(), itt, cold_reset](Code code) {
    auto self = weak.lock();
    if (!self || !self->stream_->is_open()) return;
    iscsi::TaskManagementResponse response;
    response.response = code;
    response.itt = itt;
    response.stat_sn = self->stat_sn_++;
    response.exp_cmd_sn = self->exp_cmd_sn_;
    response.max_cmd_sn = self->max_cmd_sn();
    self->stream_->send(response);
    // A cold reset also drops the connection (§11.5.1).
    if (cold_reset && code == Code::kFunctionComplete) {
      self->stream_->close_after_sending("target cold reset requested by the host");
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
  gateway::TaskManagement passed{request.function, request.lun, nullptr};
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
  back_->manage(passed, [weak = weak_from_this(), covered, respond](Code code) {
    if (auto self = weak.lock()) {
      for (const auto& [itt, id] : covered) {
        if (self->find_task(itt, id) != nullptr) self->end_task(itt, Task::State::kAborted);
      }
    }
    respond(code);
  });
}

void TargetSession::handle_logout(const iscsi::LogoutRequest& request) {
  if (!accept_cmd_sn(request.immediate, request.cmd_sn)) return;
  abort_all_tasks();
  iscsi::LogoutResponse response;
  response.itt = request.itt;
  response.stat_sn = stat_sn_++;
  response.exp_cmd_sn = exp_cmd_sn_;
  response.max_cmd_sn = max_cmd_sn();
  stream_->send(response);
  stream_->close_after_sending("logged out");
}

void TargetSession::reject(InboundPdu& inbound, iscsi::RejectReason reason,
                           const std::string& why) {
  ++statistics_.rejects;
  log::warn("{}: rejected a PDU: {}", peer_, why);
  iscsi::Reject pdu;
  pdu.reason = reason;
  pdu.stat_sn = stat_sn_++;
  pdu.exp_cmd_sn = exp_cmd_sn_;
  pdu.max_cmd_sn = max_cmd_sn();
  // The data segment is the rejected PDU's header (RFC 7143 §11.17.3).
  std::vector<uint8_t> header(inbound.header.begin(), inbound.header.begin() + iscsi::kBhsLength);
  pdu.data = header;
  stream_->send(pdu, std::move(header));
}

void TargetSession::protocol_error(const std::string& why) {
  log::warn("{}: protocol error, closing the connection: {}", peer_, why);
  stream_->close("protocol error: " + why);
}

void TargetSession::schedule_keepalive() {
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
    if (error) return;
    if (auto self = weak.lock()) self->on_keepalive_timer();
  });
}

void TargetSession::on_keepalive_timer() {
  if (!stream_->is_open()) return;
  const auto now = std::chrono::steady_clock::now();
  if (!full_feature_) {
    if (now - started_ >= options_.login_timeout) {
      log::warn("{}: login did not complete within {} s", peer_, options_.login_timeout.count());
      close("login timed out");
      return;
    }
  } else if (ping_ttt_) {
    if (now - ping_sent_ >= options_.nop_timeout) {
      log::warn("{}: no answer to NOP-In within {} s", peer_, options_.nop_timeout.count());
      close("the host stopped answering NOP-In");
      return;
    }
  } else if (now - last_heard_ >= options_.nop_interval) {
    // A quiet host may be gone without a FIN; a NOP-In finds out (§11.19).
    iscsi::NopIn ping;
    ping.ttt = next_ttt_++;
    if (next_ttt_ == iscsi::kReservedTag) next_ttt_ = 1;
    ping.itt = iscsi::kReservedTag;
    ping.stat_sn = stat_sn_;  // unsolicited: StatSN does not advance
    ping.exp_cmd_sn = exp_cmd_sn_;
    ping.max_cmd_sn = max_cmd_sn();
    ping_ttt_ = ping.ttt;
    ping_sent_ = now;
    stream_->send(ping);
  }
  schedule_keepalive();
}

void TargetSession::on_closed(const std::string& reason) {
  auto self = shared_from_this();  // the callback below may drop the last owner
  timer_.cancel();
  const size_t aborted = tasks_.size();
  abort_all_tasks();
  if (aborted > 0) log::warn("{}: {} commands in flight were aborted", peer_, aborted);
  if (back_) back_->close();
  log::info("{}: connection closed: {}", peer_, reason);
  if (on_closed_) on_closed_(*this, reason);
}

}  // namespace isergw::fabric_tcp
