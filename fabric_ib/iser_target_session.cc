#include "fabric_ib/iser_target_session.h"

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "iser/login_policy.h"
#include "iser/pdu_in_send.h"

namespace isergw::fabric_ib {

using gateway::Task;

IserTargetSession::IserTargetSession(std::unique_ptr<IserConnection> connection,
                                     boost::asio::io_context& io, gateway::BufferPool& pool,
                                     std::shared_ptr<const gateway::TargetMap> targets,
                                     gateway::FrontSessionOptions options, ClosedCallback on_closed)
    : FrontSession(io.get_executor(), pool, std::move(targets), std::move(options),
                   std::move(on_closed)),
      connection_(std::move(connection)),
      io_(io) {
  peer_ = connection_->peer();
  local_host_ = connection_->local_host();
  local_port_ = connection_->local_port();
  connection_->set_handler(this);
}

IserTargetSession::~IserTargetSession() {
  connection_->set_handler(nullptr);
}

void IserTargetSession::adjust_login_policy(iscsi::NegotiationPolicy& policy) {
  // RDMAExtensions=Yes, no digests, and the Sends this side receives hold
  // 8 KiB of data (TargetRecvDataSegmentLength): login PDUs and immediate
  // data both fit a receive slot.
  policy = iser::iser_negotiation_policy(std::move(policy), iscsi::Role::kTarget,
                                         iser::kDefaultRecvDataSegmentLength);
  policy.max_recv_data_segment_length = iser::kDefaultRecvDataSegmentLength;
  // InitialR2T=Yes: past the immediate data the gateway RDMA Reads what it
  // needs, straight into pool buffers. Unsolicited Data-Out would come as
  // 8 KiB Sends, up to eight per command, each copied out of a receive
  // slot, and would drain a ring sized to the CmdSN window (the host then
  // waits out receiver-not-ready retries). LIO and tgt ask the same.
  policy.initial_r2t = true;
}

void IserTargetSession::begin_full_feature(const iscsi::NegotiatedParameters&) {
  // A Linux initiator's receives hold 128 data bytes after login, whatever
  // it declared: longer text answers go in pieces.
  uint32_t& limit = parameters_.connection.max_send_data_segment_length;
  limit = std::min(limit, iser::kLinuxInitiatorPostLoginRecvDataBytes);
}

void IserTargetSession::on_message(const iser::ControlHeader& header,
                                   std::span<const uint8_t> bytes) {
  auto decoded = iser::decode_pdu_in_send(bytes, iser::kDefaultRecvDataSegmentLength);
  if (!decoded) {
    protocol_error(decoded.error());
    return;
  }
  gateway::InboundPdu inbound;
  std::memcpy(inbound.header.data(), decoded->header.data(),
              std::min(decoded->header.size(), inbound.header.size()));
  inbound.pdu = std::move(decoded->pdu);
  if (const size_t length = decoded->data.size(); length > 0) {
    // The receive slot goes back to the ring at once; the data moves to a
    // pool buffer that lives as long as the command needs it. Only login
    // data, immediate data and other PDUs' data (8 KiB at most) take this
    // copy. Immediate data is charged to the session's share of what hosts
    // send unasked; where there is none left, the command is answered
    // TASK SET FULL (FrontSession::refuse_for_buffers) and the host
    // retries it. RDMA Reads need no receive, so nothing waits on a
    // command refused here, and nothing is held back.
    const bool command = std::holds_alternative<iscsi::ScsiCommand>(inbound.pdu);
    gateway::Buffer buffer = pool_.acquire(command ? unasked_ : nullptr);
    if (buffer) {
      std::memcpy(buffer.data(), decoded->data.data(), length);
      iscsi::set_pdu_data(inbound.pdu, {buffer.data(), length});
      inbound.data = std::move(buffer);
    } else if (command) {
      iscsi::set_pdu_data(inbound.pdu, {});
      inbound.discarded = true;
    } else {
      auto copy =
          std::make_shared<std::vector<uint8_t>>(decoded->data.begin(), decoded->data.end());
      iscsi::set_pdu_data(inbound.pdu, *copy);
      inbound.landed_in = std::move(copy);
    }
  }
  delivering_ = header;
  received_pdu(inbound);
}

void IserTargetSession::on_connection_closed(const std::string& reason) {
  connection_closed(reason);
}

void IserTargetSession::send(const iscsi::Pdu& pdu, gateway::DataOwner) {
  const auto* login = std::get_if<iscsi::LoginResponse>(&pdu);
  if (login != nullptr && login->transit && login->nsg == iscsi::LoginStage::kFullFeaturePhase &&
      login->status_class == iscsi::LoginStatusClass::kSuccess && !full_feature_sent_) {
    // The ring must be there before the host, told its login succeeded,
    // sends its first command.
    full_feature_sent_ = true;
    if (auto ok = connection_->enter_full_feature(); !ok) {
      log::error("{}: cannot post the receive ring: {}", peer_, ok.error());
      close("cannot post the receive ring: " + ok.error());
      return;
    }
  }
  connection_->send_pdu(pdu);
}

void IserTargetSession::send_status(FrontTask& ended, iscsi::ScsiResponse& response,
                                    gateway::DataOwner) {
  // Send with Invalidate spares the host a local invalidation of the STag
  // it registered for the command (RFC 7145 §5.1), where it allowed it.
  std::optional<uint32_t> invalidate;
  const iser::ControlHeader& stags = static_cast<IserTask&>(ended).header;
  if (iser::may_send_with_invalidate(connection_->initiator())) {
    if (stags.read_stag_valid) {
      invalidate = stags.read_stag;
    } else if (stags.write_stag_valid) {
      invalidate = stags.write_stag;
    }
  }
  connection_->send_pdu(response, {}, invalidate);
}

bool IserTargetSession::accept_solicited_data_out(FrontTask&, const iscsi::DataOut& data_out) {
  protocol_error("Data-Out with TTT " + std::to_string(data_out.ttt) +
                 " on iSER, where the gateway sends no R2T");
  return false;
}

void IserTargetSession::push(Task& task, uint32_t offset, std::span<const uint8_t> data,
                             std::shared_ptr<const void> owner) {
  auto* front_task = static_cast<IserTask*>(find_task(task.itt));
  if (front_task == nullptr) return;
  const iser::ControlHeader& stags = front_task->header;
  if (!stags.read_stag_valid || uint64_t{offset} + data.size() > task.read_length()) {
    protocol_error("read data at offset " + std::to_string(offset) +
                   " beyond the buffer the host advertised");
    return;
  }
  statistics_.bytes_read += data.size();
  if (connection_->registered(data)) {
    connection_->rdma_write(data, stags.read_va + offset, stags.read_stag, std::move(owner));
    return;
  }
  // Data from outside the registered pools (the built-in RAM disk) goes
  // through pool buffers.
  size_t done = 0;
  while (done < data.size()) {
    gateway::Buffer buffer = pool_.acquire();
    if (!buffer) {
      log::peer_warn("{}: buffer pool exhausted; closing so that the host retries", peer_);
      close("buffer pool exhausted");
      return;
    }
    const size_t length = std::min(data.size() - done, buffer.size());
    std::memcpy(buffer.data(), data.data() + done, length);
    const std::span<const uint8_t> bytes(buffer.data(), length);
    connection_->rdma_write(bytes, stags.read_va + offset + done, stags.read_stag,
                            std::make_shared<const gateway::Buffer>(std::move(buffer)));
    done += length;
  }
}

void IserTargetSession::fetch(FrontTask& front_task, uint32_t from, uint32_t to) {
  if (!static_cast<IserTask&>(front_task).header.write_stag_valid) {
    protocol_error("write data beyond the unsolicited bytes, and no write STag to read it from");
    return;
  }
  read_from_host(front_task.task.itt, front_task.task.id, from, to);
}

void IserTargetSession::read_from_host(uint32_t itt, uint64_t id, uint32_t from, uint32_t to) {
  while (from < to) {
    auto* front_task = static_cast<IserTask*>(find_task(itt, id));
    if (front_task == nullptr || !is_open()) return;
    const uint32_t length = static_cast<uint32_t>(std::min<size_t>(to - from, pool_.buffer_size()));
    // The RDMA Read lands in memory set aside before the fetch
    // (FrontSession::landing()): the back leg's own (an iSER back leg's
    // command buffer, registered on every device), or claimed pool buffers,
    // one RDMA Read each.
    auto landing = this->landing(front_task->task, from, length);
    if (!landing) {
      protocol_error("no memory set aside for write data at offset " + std::to_string(from));
      return;
    }
    std::shared_ptr<const void> owner = std::move(landing->owner);
    const std::span<uint8_t> sink = landing->bytes;
    // The host's write VA points past the data it sent unasked.
    auto address =
        iser::write_source_address(front_task->header, from, front_task->unsolicited_end);
    if (!address) {
      protocol_error(address.error().describe());
      return;
    }
    connection_->rdma_read(sink, *address, front_task->header.write_stag,
                           [weak = weak_from_this(), itt, id, from, sink, owner] {
                             auto self = std::static_pointer_cast<IserTargetSession>(weak.lock());
                             if (!self) return;
                             FrontTask* arrived = self->find_task(itt, id);
                             if (arrived == nullptr) return;
                             self->add_landed_write_data(*arrived, from, owner, sink);
                             if (self->is_open()) self->serve_pulls(itt);
                           });
    from += length;
  }
}

}  // namespace isergw::fabric_ib
