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

gateway::Completion invalid_field_in_cdb() {
  gateway::Completion completion;
  completion.status = static_cast<uint8_t>(iscsi::ScsiStatus::kCheckCondition);
  iscsi::Sense refused;
  refused.key = iscsi::SenseKey::kIllegalRequest;
  refused.additional = iscsi::kInvalidFieldInCdb;
  const iscsi::SenseBytes sense = iscsi::build_fixed_sense(refused);
  completion.sense.assign(sense.bytes().begin(), sense.bytes().end());
  return completion;
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
  return info;
}

std::optional<gateway::DataLanding> IserInitiatorSession::landing(const gateway::Task& task,
                                                                  uint32_t offset,
                                                                  uint32_t length) {
  const BackTask* back_task = find_task(task.back_itt);
  if (back_task == nullptr || back_task->task != &task) return std::nullopt;
  const auto* command = static_cast<const CommandBuffer*>(back_task->held.get());
  if (command == nullptr || !command->gathering ||
      uint64_t{offset} + length > command->write_length) {
    return std::nullopt;
  }
  return gateway::DataLanding{std::span<uint8_t>(command->buffer.data() + offset, length),
                              back_task->held};
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
    // Sent on, tgt's iSER target would drop the connection and every
    // command on it; refused here, only this one fails.
    const auto level = refused_commands_++ == 0 ? spdlog::level::warn : spdlog::level::debug;
    spdlog::log(level,
                "{}: a command of {} bytes is more than one iSER command carries here ({}); it "
                "gets CHECK CONDITION. Keep the host's requests under it (Linux: max_sectors_kb "
                "of the disk)",
                options().back_end, bytes, rdma::human_bytes(command_buffers_->buffer_size()));
    end_unsent(itt, invalid_field_in_cdb());
    return;
  }
  buffer_queue_.push_back(itt);
  grant_buffers();
}

void IserInitiatorSession::grant_buffers() {
  while (!buffer_queue_.empty() && state() == State::kFullFeature) {
    const uint32_t itt = buffer_queue_.front();
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
    auto command = std::make_shared<CommandBuffer>(CommandBuffer::lengths_of(*back_task->task));
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
      *back_task.task, 0, command->write_length,
      [weak = weak_from_this(), command, itt](std::vector<gateway::DataSlice> slices) {
        command->gathering = false;
        auto self = std::static_pointer_cast<IserInitiatorSession>(weak.lock());
        if (!self) return;
        // The storage reads the data from one address. What the front
        // received straight into the buffer (landing()) is there already;
        // the rest (immediate and unsolicited data, a front that cannot
        // land) is copied from the pool buffers it landed in.
        for (const gateway::DataSlice& slice : slices) {
          uint8_t* const place = command->buffer.data() + slice.offset;
          if (slice.bytes.data() == place) continue;
          std::memcpy(place, slice.bytes.data(), slice.bytes.size());
        }
        self->prepared(itt);
      });
}

void IserInitiatorSession::send_command(BackTask& back_task, iscsi::ScsiCommand& command) {
  iser::ControlHeader header;
  if (const auto* held = static_cast<const CommandBuffer*>(back_task.held.get())) {
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
  statistics_.bytes_read += length;
  back_task.front->push(*back_task.task, 0,
                        std::span<const uint8_t>(held->buffer.data() + held->write_length, length),
                        back_task.held);
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
