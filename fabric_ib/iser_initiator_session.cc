#include "fabric_ib/iser_initiator_session.h"

#include <cstring>

#include "common/log.h"
#include "iscsi/sense.h"
#include "iser/login_policy.h"
#include "iser/pdu_in_send.h"
#include "rdma/verbs_error.h"

namespace isergw::fabric_ib {

namespace asio = boost::asio;

namespace {

// While the worker's command buffers are all in use, a command waiting for
// one looks again this often.
constexpr auto kBufferRetry = std::chrono::milliseconds(1);

gateway::Completion check_condition(iscsi::SenseKey key, iscsi::AdditionalSense additional) {
  gateway::Completion completion;
  completion.status = static_cast<uint8_t>(iscsi::ScsiStatus::kCheckCondition);
  iscsi::Sense sense;
  sense.key = key;
  sense.additional = additional;
  const iscsi::SenseBytes bytes = iscsi::build_fixed_sense(sense);
  completion.sense.assign(bytes.bytes().begin(), bytes.bytes().end());
  return completion;
}

gateway::Completion invalid_field_in_cdb() {
  return check_condition(iscsi::SenseKey::kIllegalRequest, iscsi::kInvalidFieldInCdb);
}

}  // namespace

IserInitiatorSession::IserInitiatorSession(RdmaWorker& worker, gateway::BackSessionOptions options)
    : BackSession(worker.io().get_executor(), std::move(options)),
      worker_(worker),
      retry_timer_(worker.io()) {}

IserInitiatorSession::~IserInitiatorSession() = default;

gateway::BackLegInfo IserInitiatorSession::info() const {
  gateway::BackLegInfo info = BackSession::info();
  info.refused_commands = refused_commands_;
  info.split_commands = split_commands_;
  return info;
}

void IserInitiatorSession::close() {
  // No task is the front's any more; the pieces' buffers that the storage
  // may still write into stay with their commands.
  splits_.clear();
  BackSession::close();
}

void IserInitiatorSession::abort(gateway::Task& task) {
  splits_.erase(task.id);
  BackSession::abort(task);
}

std::optional<gateway::DataLanding> IserInitiatorSession::landing(const gateway::Task& task,
                                                                  uint32_t offset,
                                                                  uint32_t length) {
  std::shared_ptr<const CommandBuffer> command;
  if (const auto found = splits_.find(task.id); found != splits_.end()) {
    const Split& split = found->second;
    command = split.buffers[split.plan.piece_at(offset)];
  } else {
    const BackTask* back_task = find_task(task.back_itt);
    if (back_task == nullptr || back_task->task != &task) return std::nullopt;
    command = std::static_pointer_cast<const CommandBuffer>(back_task->held);
  }
  if (command == nullptr || !command->gathering || offset < command->offset ||
      uint64_t{offset} + length > uint64_t{command->offset} + command->write_length) {
    return std::nullopt;
  }
  uint8_t* const place = command->buffer.data() + (offset - command->offset);
  return gateway::DataLanding{std::span<uint8_t>(place, length), command};
}

void IserInitiatorSession::adjust_login_policy(iscsi::NegotiationPolicy& policy) {
  // All write data moves by the storage's RDMA Reads from the command
  // buffer, none in Sends: a Send slot holds a PDU, not a burst.
  policy.immediate_data = false;
  policy.initial_r2t = true;
  policy = iser::iser_negotiation_policy(policy, iscsi::Role::kInitiator,
                                         iser::kDefaultRecvDataSegmentLength);
}

void IserInitiatorSession::connect(const std::vector<asio::ip::tcp::endpoint>& endpoints) {
  // The RDMA CM resolves one address to the device that reaches it.
  const asio::ip::address address = endpoints.front().address();
  auto destination = rdma::SocketAddress::parse(address.to_string(), options().portal.port);
  if (!destination) {
    fail("cannot use " + address.to_string() + ": " + destination.error().describe());
    return;
  }
  auto connection = IserConnection::connect(worker_, *destination, {}, *this);
  if (!connection) {
    fail(connection.error());
    return;
  }
  connection_ = std::move(*connection);
}

void IserInitiatorSession::on_established() {
  log::debug("{}: iSER connection to {} up on {}", options().back_end, connection_->peer(),
             connection_->device_name());
  connected();
}

void IserInitiatorSession::send(const iscsi::Pdu& pdu, gateway::DataOwner) {
  connection_->send_pdu(pdu);
}

Expected<void, std::string> IserInitiatorSession::begin_full_feature(
    const iscsi::NegotiatedParameters&) {
  auto buffers = worker_.command_buffers();
  if (!buffers) return Unexpected{buffers.error()};
  command_buffers_ = *buffers;
  return connection_->enter_full_feature();
}

void IserInitiatorSession::prepare(uint32_t itt, BackTask& back_task) {
  const uint64_t bytes = CommandBuffer::lengths_of(*back_task.task).total_length();
  if (bytes == 0) {
    prepared(itt);
    return;
  }
  if (bytes > command_buffers_->buffer_size()) {
    // Sent on whole, tgt's iSER target would drop the connection and every
    // command on it.
    if (split_command(itt, *back_task.task)) grant_buffers();
    return;
  }
  buffer_queue_.push_back({itt, std::nullopt});
  grant_buffers();
}

bool IserInitiatorSession::split_command(uint32_t itt, const gateway::Task& task) {
  const uint64_t bytes = CommandBuffer::lengths_of(task).total_length();
  const auto known = block_lengths_.find(task.lun);
  auto plan = CommandSplit::plan(
      task.cdb, task.read, task.write, task.expected_data_transfer_length,
      static_cast<uint32_t>(command_buffers_->buffer_size()),
      known == block_lengths_.end() ? std::nullopt : std::optional<uint32_t>(known->second));
  if (!plan) {
    refuse(itt, bytes, plan.error());
    return false;
  }
  const auto level = split_commands_++ == 0 ? spdlog::level::info : spdlog::level::debug;
  spdlog::log(level,
              "{}: a command of {} bytes is more than one iSER command carries here ({}); it goes "
              "to the storage as {} commands (each such command is counted in "
              "isergw_back_split_commands_total)",
              options().back_end, bytes, rdma::human_bytes(command_buffers_->buffer_size()),
              plan->size());
  const size_t pieces = plan->size();
  splits_.try_emplace(task.id, Split{std::move(*plan), {}}).first->second.buffers.resize(pieces);
  // Consecutive CmdSNs, buffers in the same order: the pieces leave
  // together, as the host's command would have.
  buffer_queue_.push_back({itt, 0});
  for (size_t i = 1; i < pieces; ++i)
    buffer_queue_.push_back({add_command(itt), i});
  return true;
}

void IserInitiatorSession::refuse(uint32_t itt, uint64_t bytes, const std::string& why) {
  // Only this command fails, with an answer the host reports for it alone.
  const auto level = refused_commands_++ == 0 ? spdlog::level::warn : spdlog::level::debug;
  spdlog::log(level,
              "{}: a command of {} bytes is more than one iSER command carries here ({}) and "
              "cannot go as several ({}); it gets CHECK CONDITION. Keep the host's requests "
              "under it (Linux: max_sectors_kb of the disk)",
              options().back_end, bytes, rdma::human_bytes(command_buffers_->buffer_size()), why);
  end_unsent(itt, invalid_field_in_cdb());
}

void IserInitiatorSession::grant_buffers() {
  while (!buffer_queue_.empty() && state() == State::kFullFeature) {
    const BufferWait wait = buffer_queue_.front();
    const uint32_t itt = wait.itt;
    BackTask* back_task = find_task(itt);
    if (back_task == nullptr || back_task->task == nullptr) {
      buffer_queue_.pop_front();  // ended before it got one
      continue;
    }
    gateway::Buffer buffer = command_buffers_->acquire();
    if (!buffer) {
      // Commands in flight hold them all; each frees one at its status, or
      // at its session's end.
      if (retry_pending_) return;
      retry_pending_ = true;
      retry_timer_.expires_after(kBufferRetry);
      retry_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
        auto self = std::static_pointer_cast<IserInitiatorSession>(weak.lock());
        if (!self) return;
        self->retry_pending_ = false;
        if (!error) self->grant_buffers();
      });
      return;
    }
    buffer_queue_.pop_front();
    const gateway::Task& task = *back_task->task;
    auto command = std::make_shared<CommandBuffer>(CommandBuffer::lengths_of(task));
    if (wait.piece) {
      // A task is in splits_ until it ends, and the commands of a task that
      // ended are not found above.
      const auto found = splits_.find(task.id);
      if (found == splits_.end()) {
        // Left waiting, the command would never be ready and would hold
        // back every command behind it (they leave in order). Only its task
        // fails, with what a target reports for a fault of its own; its
        // other pieces go with it: those not sent are dropped, those the
        // storage holds keep their ITTs and buffers until it answers.
        gateway::Task& lost = *back_task->task;
        gateway::FrontLeg& front = *back_task->front;
        log::error(
            "{}: a piece of task {} (ITT 0x{:x}) got a buffer but the task's split is gone; the "
            "task gets CHECK CONDITION (INTERNAL TARGET FAILURE); this is a bug",
            options().back_end, lost.id, itt);
        abort(lost);
        front.complete(
            lost, check_condition(iscsi::SenseKey::kHardwareError, iscsi::kInternalTargetFailure));
        continue;
      }
      Split& split = found->second;
      const CommandPiece& piece = split.plan.piece(*wait.piece);
      command->offset = piece.offset;
      command->piece = piece;
      command->index = *wait.piece;
      command->write_length = task.write ? piece.length : 0;
      command->read_length = task.read ? piece.length : 0;
      split.buffers[*wait.piece] = command;
    }
    command->buffer = std::move(buffer);
    back_task->held = command;
    if (command->write_length == 0) {
      prepared(itt);
    } else {
      gather_write_data(itt, std::move(command));
    }
  }
}

void IserInitiatorSession::gather_write_data(uint32_t itt, std::shared_ptr<CommandBuffer> command) {
  BackTask& back_task = *find_task(itt);
  command->gathering = true;
  back_task.front->pull(
      *back_task.task, command->offset, command->write_length,
      [weak = weak_from_this(), command, itt](std::vector<gateway::DataSlice> slices) {
        command->gathering = false;
        auto self = std::static_pointer_cast<IserInitiatorSession>(weak.lock());
        if (!self) return;
        // The storage reads the data from one address. What the front
        // received straight into the buffer (landing()) is there already;
        // the rest (immediate and unsolicited data, a front that cannot
        // land) is copied from the pool buffers it landed in.
        for (const gateway::DataSlice& slice : slices) {
          uint8_t* const place = command->buffer.data() + (slice.offset - command->offset);
          if (slice.bytes.data() == place) continue;
          std::memcpy(place, slice.bytes.data(), slice.bytes.size());
        }
        self->prepared(itt);
      });
}

void IserInitiatorSession::send_command(BackTask& back_task, iscsi::ScsiCommand& command) {
  iser::ControlHeader header;
  if (const auto* held = static_cast<const CommandBuffer*>(back_task.held.get())) {
    if (held->piece) {
      write_piece_cdb(*held->piece, command.cdb);
      command.expected_data_transfer_length = held->piece->length;
    }
    const std::span<const uint8_t> whole(held->buffer.data(), held->total_length());
    const std::optional<rdma::MemoryKeys> keys = connection_->keys(whole);
    if (!keys) {
      fail("a command buffer is not registered on " + connection_->device_name());
      return;
    }
    const uint64_t address = reinterpret_cast<uint64_t>(whole.data());
    if (held->write_length > 0) {
      header.write_stag_valid = true;
      header.write_stag = keys->rkey;
      header.write_va = address;
      statistics_.bytes_written += held->write_length;
    }
    if (held->read_length > 0) {
      header.read_stag_valid = true;
      header.read_stag = keys->rkey;
      header.read_va = address + held->write_length;
    }
  }
  log::debug(
      "{}: command ITT {} CmdSN {} ({} bytes): write STag 0x{:x} at 0x{:x}, read STag "
      "0x{:x} at 0x{:x}",
      options().back_end, command.itt, command.cmd_sn, command.expected_data_transfer_length,
      header.write_stag, header.write_va, header.read_stag, header.read_va);
  connection_->send_pdu(command, header);
}

bool IserInitiatorSession::answered(BackTask& back_task, gateway::Completion& completion) {
  const auto* held = static_cast<const CommandBuffer*>(back_task.held.get());
  if (held == nullptr || !held->piece) {
    deliver_read_data(back_task, completion);
    return true;
  }
  const uint64_t id = back_task.task->id;
  const auto found = splits_.find(id);
  if (found == splits_.end()) return true;  // cannot happen: the task ends with its split
  found->second.plan.answer(held->index, completion);
  deliver_pieces(back_task);
  // The front may have ended the task while it took the data.
  const auto still = splits_.find(id);
  if (still == splits_.end()) return true;
  if (!still->second.plan.all_answered()) return false;
  // Every piece has answered, so no buffer or ITT of the command is in the
  // storage's hands any more.
  completion = still->second.plan.completion();
  splits_.erase(still);
  return true;
}

void IserInitiatorSession::deliver_pieces(BackTask& back_task) {
  const uint64_t id = back_task.task->id;
  while (true) {
    // Looked up each time: a push may end the task (the front fails).
    const auto found = splits_.find(id);
    if (found == splits_.end() || back_task.task == nullptr) return;
    Split& split = found->second;
    if (split.delivered == split.plan.size() || !split.plan.answered(split.delivered)) return;
    const size_t index = split.delivered++;
    const std::shared_ptr<CommandBuffer> buffer = std::move(split.buffers[index]);
    // The host's data stops at the first piece that failed: the storage
    // wrote what it read of that one (as for an unsplit command), nothing
    // after it reaches the host.
    if (split.failed || buffer == nullptr || buffer->read_length == 0) continue;
    split.failed = split.plan.failed(index);
    const uint32_t length = split.plan.read_bytes(index);
    if (length == 0) continue;
    statistics_.bytes_read += length;
    back_task.front->push(
        *back_task.task, buffer->offset,
        std::span<const uint8_t>(buffer->buffer.data() + buffer->write_length, length), buffer);
  }
}

void IserInitiatorSession::deliver_read_data(BackTask& back_task,
                                             const gateway::Completion& completion) {
  const auto* held = static_cast<const CommandBuffer*>(back_task.held.get());
  if (held == nullptr || held->read_length == 0) return;
  // The storage has written what it read before it sent the status
  // (RFC 7145 §7.3.5); the residual says how much that was.
  const bool bidi = back_task.task->write && back_task.task->read;
  const bool under = bidi ? completion.bidi_read_underflow : completion.residual_underflow;
  const uint32_t residual = bidi ? completion.bidi_read_residual_count : completion.residual_count;
  const uint32_t length =
      under ? held->read_length - std::min(residual, held->read_length) : held->read_length;
  if (length == 0) return;
  const std::span<const uint8_t> data(held->buffer.data() + held->write_length, length);
  if (completion.response == iscsi::kResponseCommandCompleted && completion.status == 0 && !bidi) {
    // The LUN's block length, for the commands that must be cut to fit.
    const gateway::Task& task = *back_task.task;
    if (auto block_length = capacity_block_length(task.cdb, data)) {
      block_lengths_[task.lun] = *block_length;
    }
  }
  statistics_.bytes_read += length;
  back_task.front->push(*back_task.task, 0, data, back_task.held);
}

void IserInitiatorSession::on_message(const iser::ControlHeader&, std::span<const uint8_t> bytes) {
  auto decoded = iser::decode_pdu_in_send(bytes, iser::kDefaultRecvDataSegmentLength);
  if (!decoded) {
    protocol_error(decoded.error());
    return;
  }
  iscsi::Pdu& pdu = decoded->pdu;
  if (std::holds_alternative<iscsi::DataIn>(pdu) || std::holds_alternative<iscsi::R2t>(pdu)) {
    protocol_error(std::string("sent ") + std::string(iscsi::opcode_name(iscsi::pdu_opcode(pdu))) +
                   " on an iSER connection, where the storage moves data by RDMA");
    return;
  }
  // The PDU lives in the receive slot, only during this call: the session
  // copies what it keeps (sense, login keys, a ping's data).
  iscsi::set_pdu_data(pdu, decoded->data);
  log::debug("{}: {} from the storage", options().back_end,
             iscsi::opcode_name(iscsi::pdu_opcode(pdu)));
  received(pdu);
}

void IserInitiatorSession::on_connection_closed(const std::string& reason) {
  splits_.clear();
  connection_closed(state() == State::kConnecting ? reason + connecting_hint() : reason);
}

std::string IserInitiatorSession::connecting_hint() const {
  if (!connection_ || !connection_->is_iwarp()) return {};
  // The trap iWARP sets: it shares the TCP port space, so an iSCSI/TCP
  // portal on the storage's address and port takes the connect instead.
  return " (iWARP shares TCP's ports: is an iSCSI/TCP portal listening on " +
         options().portal.host_port() + " instead of an iSER one?)";
}

}  // namespace isergw::fabric_ib
