#include "fabric_ib/iser_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstring>

#include "common/log.h"
#include "iscsi/pdu_encoder.h"
#include "iser/hello.h"
#include "rdma/verbs_error.h"

namespace isergw::fabric_ib {

namespace {

constexpr uint64_t kReceiveBit = 0x80000000u;
// The entry id of every unsignaled RDMA Write: it completes only when it
// fails or is flushed, and the signaled work request behind it does the
// accounting.
constexpr uint32_t kUnsignaledWrite = kReceiveBit - 1;
// Address and route resolution, each; a storage that does not answer the
// connect is bounded by the back leg's login timeout.
constexpr int kResolveTimeoutMs = 5000;

}  // namespace

Expected<std::unique_ptr<IserConnection>, std::string> IserConnection::accept(
    RdmaWorker& worker, rdma::CmEvent&& request, const IserConnectionOptions& options) {
  std::unique_ptr<rdma::CmId> id = rdma::CmId::adopt(request.id);
  auto refuse = [&](const std::string& why) -> Unexpected<std::string> {
    (void)id->reject({});
    return Unexpected{why};
  };
  auto device = worker.device(id->verbs());
  if (!device) return refuse(device.error());
  std::unique_ptr<IserConnection> connection(
      new IserConnection(worker, *device, std::move(id), options));
  connection->learn_addresses();
  if (auto built = connection->build(request); !built) {
    (void)connection->id_->reject({});
    return Unexpected{built.error()};
  }
  return connection;
}

Expected<std::unique_ptr<IserConnection>, std::string> IserConnection::connect(
    RdmaWorker& worker, const rdma::SocketAddress& destination,
    const IserConnectionOptions& options, IserConnectionHandler& handler) {
  auto id = rdma::CmId::create(worker.event_channel());
  if (!id) return Unexpected{id.error().describe()};
  std::unique_ptr<IserConnection> connection(
      new IserConnection(worker, nullptr, std::move(*id), options));
  connection->initiator_role_ = true;
  connection->handler_ = &handler;
  connection->peer_ = destination.to_string();
  connection->serial_ = worker.add(*connection, connection->id_->get());
  if (auto ok = connection->id_->resolve_address(std::nullopt, destination, kResolveTimeoutMs);
      !ok) {
    return Unexpected{"cannot resolve " + destination.to_string() +
                      " to an RDMA device: " + ok.error().describe()};
  }
  return connection;
}

IserConnection::IserConnection(RdmaWorker& worker, WorkerDevice* device,
                               std::unique_ptr<rdma::CmId> id, const IserConnectionOptions& options)
    : worker_(worker), device_(device), id_(std::move(id)), options_(options) {
  slot_size_ = iser::kIserHeaderLength + options_.slot_pdu_bytes;
}

void IserConnection::learn_addresses() {
  // The local port is the CM's own, not parsed back out of the text, which
  // an address of another family (AF_IB) does not have.
  const std::string peer = rdma::address_text(rdma_get_peer_addr(id_->get()), true);
  peer_ = peer.empty() ? "unknown" : peer;
  local_host_ = rdma::address_text(rdma_get_local_addr(id_->get()), false);
  local_port_ = ntohs(rdma_get_src_port(id_->get()));
}

const std::string& IserConnection::device_name() const {
  static const std::string kUnresolved = "(unresolved)";
  return device_ != nullptr ? device_->device->name() : kUnresolved;
}

IserConnection::~IserConnection() {
  if (qp_ && device_->poster) device_->poster->forget(*qp_);
  if (serial_ != 0) worker_.remove(serial_, id_->get());
  if (device_ != nullptr) device_->reserved_entries -= reserved_cq_entries_;
  // The QP goes before the memory its work requests pointed at.
  qp_.reset();
}

Expected<void, std::string> IserConnection::build(const rdma::CmEvent& request) {
  auto initiator = iser::decode_cm_private_data(request.private_data);
  if (!initiator) return Unexpected{"CM private data: " + initiator.error().describe()};
  initiator_ = *initiator;
  if (auto ok = build_queue_pair(); !ok) return ok;

  // Read depths: what the host asked for, within what the device can do.
  const rdma::DeviceLimits limits = device_->device->limits();
  const std::array<uint8_t, iser::kCmPrivateDataLength> reply = iser::encode_cm_private_data(
      {.zbva_not_supported = true,
       .send_with_invalidate_not_supported = !iser::may_send_with_invalidate(initiator_)});
  rdma::ConnectionOptions accept_options{
      .private_data = reply,
      .initiator_depth = static_cast<uint8_t>(
          std::min<uint32_t>({limits.max_qp_init_rd_atom, request.responder_resources, 16})),
      .responder_resources = static_cast<uint8_t>(
          std::min<uint32_t>({limits.max_qp_rd_atom, request.initiator_depth, 16})),
  };
  if (auto ok = id_->accept(accept_options); !ok) return Unexpected{ok.error().describe()};
  return {};
}

Expected<void, std::string> IserConnection::build_queue_pair() {
  const uint32_t receives = options_.login_receives + options_.receive_ring_depth;
  const int entries = static_cast<int>(receives + options_.send_queue_depth);
  if (device_->reserved_entries + entries > device_->cq->capacity()) {
    return Unexpected{"the completion queue of " + device_name() +
                      " is full: too many iSER connections on this worker"};
  }
  device_->reserved_entries += entries;
  reserved_cq_entries_ = entries;

  auto qp = rdma::QueuePair::create(*id_, *device_->pd,
                                    {.send_cq = device_->cq.get(),
                                     .receive_cq = device_->cq.get(),
                                     .max_send_wr = options_.send_queue_depth,
                                     .max_receive_wr = receives,
                                     .max_send_sge = 1,
                                     .max_receive_sge = 1});
  if (!qp) return Unexpected{qp.error().describe()};
  qp_ = std::move(*qp);
  if (serial_ == 0) serial_ = worker_.add(*this, id_->get());
  if (device_->poster) {
    post_failed_ = std::make_shared<const rdma::PostingThread::FailureSink>(
        [&io = worker_.io(), this,
         alive = std::weak_ptr<bool>(alive_)](const rdma::VerbsError& error) {
          boost::asio::post(io, [this, alive, error] {
            if (!alive.expired()) send_queue_failed("work request list", error.describe());
          });
        });
  }

  if (auto ok = allocate(login_receives_, options_.login_receives); !ok) return ok;
  if (auto ok = allocate(sends_, options_.send_slots); !ok) return ok;
  for (uint32_t i = 0; i < sends_.count; ++i)
    free_send_slots_.push_back(sends_.count - 1 - i);
  for (uint32_t i = 0; i < login_receives_.count; ++i) {
    if (auto ok = post_receive(i); !ok) return ok;
  }
  return {};
}

void IserConnection::on_address_resolved() {
  auto device = worker_.device(id_->verbs());
  if (!device) return close("no RDMA device for " + peer_ + ": " + device.error());
  device_ = *device;
  if (auto ok = id_->resolve_route(kResolveTimeoutMs); !ok) {
    close("cannot resolve a route to " + peer_ + ": " + ok.error().describe());
  }
}

void IserConnection::on_route_resolved() {
  learn_addresses();
  if (auto ok = build_queue_pair(); !ok) return close(ok.error());
  // The gateway registers no memory per command, so the storage must not
  // invalidate its STags with Send with Invalidate; and every address it
  // advertises is absolute (no ZBVA). It issues no RDMA Reads itself: the
  // storage reads write data from it (its responder resources, IRD).
  const std::array<uint8_t, iser::kCmPrivateDataLength> request = iser::encode_cm_private_data(
      {.zbva_not_supported = true, .send_with_invalidate_not_supported = true});
  const rdma::DeviceLimits limits = device_->device->limits();
  rdma::ConnectionOptions connect_options{
      .private_data = request,
      .initiator_depth = static_cast<uint8_t>(std::min<uint32_t>(limits.max_qp_init_rd_atom, 16)),
      .responder_resources = static_cast<uint8_t>(std::min<uint32_t>(limits.max_qp_rd_atom, 16)),
  };
  if (auto ok = id_->connect(connect_options); !ok) {
    close("cannot connect to " + peer_ + ": " + ok.error().describe());
  }
}

Expected<void, std::string> IserConnection::allocate(SlotArea& area, uint32_t count) {
  area.memory.assign(size_t{count} * slot_size_, 0);
  auto region = rdma::MemoryRegion::register_memory(*device_->pd, area.memory.data(),
                                                    area.memory.size(), rdma::kLocalAccess);
  if (!region) return Unexpected{region.error().describe()};
  area.region.emplace(std::move(*region));
  area.count = count;
  return {};
}

std::span<uint8_t> IserConnection::receive_slot(uint32_t index) {
  SlotArea& area = index < login_receives_.count ? login_receives_ : ring_receives_;
  const uint32_t within = index < login_receives_.count ? index : index - login_receives_.count;
  return {area.memory.data() + size_t{within} * slot_size_, slot_size_};
}

Expected<void, std::string> IserConnection::post_receive(uint32_t index) {
  SlotArea& area = index < login_receives_.count ? login_receives_ : ring_receives_;
  const std::span<uint8_t> slot = receive_slot(index);
  ibv_sge sge{reinterpret_cast<uint64_t>(slot.data()), static_cast<uint32_t>(slot.size()),
              area.region->lkey()};
  const uint64_t wr_id = (uint64_t{serial_} << 32) | kReceiveBit | index;
  if (auto ok = qp_->post_receive(wr_id, std::span(&sge, 1)); !ok) {
    return Unexpected{ok.error().describe()};
  }
  count_post();
  return {};
}

Expected<void, std::string> IserConnection::enter_full_feature() {
  if (ring_receives_.count != 0) return {};
  if (auto ok = allocate(ring_receives_, options_.receive_ring_depth); !ok) return ok;
  for (uint32_t i = 0; i < ring_receives_.count; ++i) {
    if (auto ok = post_receive(login_receives_.count + i); !ok) return ok;
  }
  return {};
}

void IserConnection::on_cm_event(const rdma::CmEvent& event) {
  switch (event.type) {
    case RDMA_CM_EVENT_ADDR_RESOLVED:
      on_address_resolved();
      break;
    case RDMA_CM_EVENT_ROUTE_RESOLVED:
      on_route_resolved();
      break;
    case RDMA_CM_EVENT_ESTABLISHED:
      log::debug("{}: iSER connection established on {}", peer_, device_name());
      if (initiator_role_ && handler_ != nullptr) handler_->on_established();
      break;
    case RDMA_CM_EVENT_REJECTED:
      // The status is the fabric's reason code: 28 "consumer reject" on
      // InfiniBand and RoCE, -ECONNREFUSED on iWARP.
      close("the target refused the connection (reject status " + std::to_string(event.status) +
            ")");
      break;
    case RDMA_CM_EVENT_ADDR_ERROR:
    case RDMA_CM_EVENT_ROUTE_ERROR:
    case RDMA_CM_EVENT_UNREACHABLE:
    case RDMA_CM_EVENT_CONNECT_ERROR:
      close(std::string(event.name()) + " (" + std::strerror(-event.status) + ")");
      break;
    case RDMA_CM_EVENT_DISCONNECTED:
      close("the host disconnected");
      break;
    case RDMA_CM_EVENT_DEVICE_REMOVAL:
      close("RDMA device " + device_name() + " was removed");
      break;
    case RDMA_CM_EVENT_TIMEWAIT_EXIT:
      break;
    default:
      close("RDMA CM event " + std::string(event.name()));
      break;
  }
}

void IserConnection::on_completion(const ibv_wc& wc) {
  const uint32_t low = static_cast<uint32_t>(wc.wr_id);
  if (wc.status != IBV_WC_SUCCESS && wc.status != IBV_WC_WR_FLUSH_ERR) {
    ++statistics_.rdma_completion_errors;
    log::peer_warn("{}: work completion error: {} (vendor error 0x{:x})", peer_,
                   ibv_wc_status_str(wc.status), wc.vendor_err);
  }
  if (low & kReceiveBit) {
    if (wc.status != IBV_WC_SUCCESS) {
      if (!closing_) close(std::string("receive failed: ") + ibv_wc_status_str(wc.status));
      return;
    }
    on_receive(low & ~static_cast<uint32_t>(kReceiveBit), wc.byte_len);
    return;
  }
  const auto found = in_flight_.find(low);
  if (found == in_flight_.end()) {
    // An unsignaled Write completes only when it failed or was flushed.
    if (low == kUnsignaledWrite && wc.status != IBV_WC_SUCCESS && !closing_) {
      close(std::string("RDMA Write failed: ") + ibv_wc_status_str(wc.status));
    }
    return;
  }
  SendQueueEntry entry = std::move(found->second);
  in_flight_.erase(found);
  send_queue_used_ -= entry.retires;
  if (entry.operation == Operation::kSend) free_send_slots_.push_back(entry.slot);
  if (wc.status != IBV_WC_SUCCESS) {
    // A flush after the connection failed is expected; anything else ends it.
    if (!closing_) {
      static constexpr const char* kNames[] = {"Send", "RDMA Write", "RDMA Read"};
      close(std::string(kNames[static_cast<int>(entry.operation)]) +
            " failed: " + ibv_wc_status_str(wc.status));
    }
    maybe_finish_closing();
    return;
  }
  if (entry.operation == Operation::kRead && entry.read_done && !closing_) entry.read_done();
  post_waiting();
  maybe_finish_closing();
}

void IserConnection::on_receive(uint32_t index, uint32_t length) {
  ++statistics_.pdus_received;
  statistics_.bytes_received += length;
  const std::span<const uint8_t> message = receive_slot(index).first(length);
  if (!closing_) {
    auto opcode = iser::peek_opcode(message);
    if (!opcode) {
      close("protocol error: " + opcode.error().describe());
    } else if (*opcode == iser::IserOpcode::kHello) {
      answer_hello(message);
    } else if (*opcode == iser::IserOpcode::kHelloReply) {
      close("protocol error: the host sent an iSER HelloReply");
    } else if (auto decoded = iser::decode_control_message(message); !decoded) {
      close("protocol error: " + decoded.error().describe());
    } else if (handler_ != nullptr) {
      handler_->on_message(decoded->header, decoded->iscsi_pdu);
    }
  }
  // The slot's bytes were copied or dropped: it goes straight back.
  if (!closing_) {
    if (auto ok = post_receive(index); !ok) close("cannot post a receive: " + ok.error());
  }
}

void IserConnection::answer_hello(std::span<const uint8_t> message) {
  auto hello = iser::decode_hello(message);
  if (!hello) {
    close("protocol error: " + hello.error().describe());
    return;
  }
  const auto reply = iser::answer_hello(
      *hello, static_cast<uint16_t>(device_->device->limits().max_qp_init_rd_atom));
  std::vector<uint8_t> bytes(iser::kIserHeaderLength);
  (void)iser::encode_hello_reply(reply, bytes);
  post_message(std::move(bytes), std::nullopt);
}

void IserConnection::send_pdu(const iscsi::Pdu& pdu, const iser::ControlHeader& header,
                              std::optional<uint32_t> invalidate_rkey) {
  if (closing_) return;
  const iscsi::EncodeOptions no_digests{};
  const size_t length = iser::kIserHeaderLength + iscsi::encoded_length(pdu, no_digests);
  if (length > slot_size_) {
    log::error("{}: a {} of {} bytes does not fit a Send slot; closing", peer_,
               iscsi::opcode_name(iscsi::pdu_opcode(pdu)), length);
    close("a PDU too large for iSER");
    return;
  }
  std::vector<uint8_t> message(length);
  (void)iser::encode_control_header(header, message);
  auto encoded =
      iscsi::encode_pdu(pdu, no_digests, std::span(message).subspan(iser::kIserHeaderLength));
  if (!encoded) {
    close("cannot encode a PDU: " + encoded.error().message);
    return;
  }
  post_message(std::move(message), invalidate_rkey);
}

void IserConnection::post_message(std::vector<uint8_t> message,
                                  std::optional<uint32_t> invalidate_rkey) {
  submit(true, [this, message = std::move(message), invalidate_rkey] {
    const uint32_t slot = free_send_slots_.back();
    free_send_slots_.pop_back();
    uint8_t* bytes = sends_.memory.data() + size_t{slot} * slot_size_;
    std::memcpy(bytes, message.data(), message.size());
    ibv_sge sge{reinterpret_cast<uint64_t>(bytes), static_cast<uint32_t>(message.size()),
                sends_.region->lkey()};
    SendQueueEntry send;
    send.slot = slot;
    const uint32_t entry = add_entry(std::move(send));
    const uint64_t wr_id = (uint64_t{serial_} << 32) | entry;
    queue_request(invalidate_rkey ? rdma::QueuePair::send_with_invalidate_request(
                                        wr_id, std::span(&sge, 1), *invalidate_rkey)
                                  : rdma::QueuePair::send_request(wr_id, std::span(&sge, 1), true),
                  sge);
    ++statistics_.pdus_sent;
    statistics_.bytes_sent += message.size();
  });
}

bool IserConnection::registered(std::span<const uint8_t> bytes) const {
  return keys(bytes).has_value();
}

std::optional<rdma::MemoryKeys> IserConnection::keys(std::span<const uint8_t> bytes) const {
  if (device_ == nullptr) return std::nullopt;
  return device_->map->find(bytes.data(), bytes.size());
}

void IserConnection::rdma_write(std::span<const uint8_t> local, uint64_t remote_address,
                                uint32_t rkey, std::shared_ptr<const void> owner) {
  if (closing_) return;
  submit(false, [this, local, remote_address, rkey, owner = std::move(owner)]() mutable {
    auto sge = device_->map->sge(local.data(), static_cast<uint32_t>(local.size()));
    if (!sge) return send_queue_failed("RDMA Write", "source outside registered memory");
    // A long run of Writes with nothing signaled behind it (a large read
    // whose status is still to come) must not hold the send queue: every
    // so often one is signaled, and retires those before it.
    const bool signaled = unsignaled_writes_ + 1 >= options_.send_queue_depth / 2;
    uint32_t entry = kUnsignaledWrite;
    if (signaled) {
      SendQueueEntry write;
      write.operation = Operation::kWrite;
      write.owners.push_back(std::move(owner));
      entry = add_entry(std::move(write));
    } else {
      add_unsignaled_write(std::move(owner));
    }
    const uint64_t wr_id = (uint64_t{serial_} << 32) | entry;
    queue_request(rdma::QueuePair::rdma_write_request(wr_id, std::span(&*sge, 1), remote_address,
                                                      rkey, signaled),
                  *sge);
    statistics_.bytes_sent += local.size();
  });
}

void IserConnection::rdma_read(std::span<uint8_t> local, uint64_t remote_address, uint32_t rkey,
                               std::function<void()> done) {
  if (closing_) return;
  submit(false, [this, local, remote_address, rkey, done = std::move(done)]() mutable {
    auto sge = device_->map->sge(local.data(), static_cast<uint32_t>(local.size()));
    if (!sge) return send_queue_failed("RDMA Read", "sink outside registered memory");
    SendQueueEntry read;
    read.operation = Operation::kRead;
    read.read_done = std::move(done);
    const uint32_t entry = add_entry(std::move(read));
    const uint64_t wr_id = (uint64_t{serial_} << 32) | entry;
    queue_request(
        rdma::QueuePair::rdma_read_request(wr_id, std::span(&*sge, 1), remote_address, rkey), *sge);
    statistics_.bytes_received += local.size();
  });
}

void IserConnection::count_post() {
  ++statistics_.rdma_work_requests;
  ++statistics_.rdma_doorbells;
}

void IserConnection::queue_request(const ibv_send_wr& request, const ibv_sge& sge) {
  batch_.push_back({request, sge});
  if (doorbell_due_) return;
  // Everything this turn of the loop posts (a read's RDMA Writes and its
  // SCSI Response, the work of a whole batch of completions) goes in one
  // list: one doorbell, which on a soft device is one system call.
  doorbell_due_ = true;
  boost::asio::post(worker_.io(), [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    doorbell_due_ = false;
    ring_doorbell();
  });
}

void IserConnection::ring_doorbell() {
  if (batch_.empty()) return;
  if (closing_) {
    batch_.clear();
    return;
  }
  statistics_.rdma_work_requests += batch_.size();
  ++statistics_.rdma_doorbells;
  // hands_over first: holds() takes the posting thread's lock.
  if (device_->poster && (rdma::hands_over(device_->posting, rdma::bytes_sent_by(batch_)) ||
                          device_->poster->holds(*qp_))) {
    ++statistics_.rdma_lists_handed_over;
    device_->poster->post(*qp_, batch_, post_failed_);
    return;
  }
  auto posted = rdma::post_work(*qp_, batch_);
  batch_.clear();
  if (!posted) send_queue_failed("work request list", posted.error().describe());
}

uint32_t IserConnection::add_entry(SendQueueEntry entry) {
  const uint32_t id = next_entry_;
  next_entry_ = (next_entry_ + 1) % kUnsignaledWrite;
  entry.retires = unsignaled_writes_ + 1;
  for (auto& owner : unsignaled_owners_)
    entry.owners.push_back(std::move(owner));
  unsignaled_owners_.clear();
  unsignaled_writes_ = 0;
  ++send_queue_used_;
  in_flight_.emplace(id, std::move(entry));
  return id;
}

void IserConnection::add_unsignaled_write(std::shared_ptr<const void> owner) {
  ++unsignaled_writes_;
  ++send_queue_used_;
  if (owner) unsignaled_owners_.push_back(std::move(owner));
}

bool IserConnection::has_room(bool needs_slot) const {
  if (send_queue_used_ >= options_.send_queue_depth) return false;
  return !needs_slot || !free_send_slots_.empty();
}

void IserConnection::submit(bool needs_slot, std::function<void()> post) {
  if (waiting_.empty() && has_room(needs_slot)) {
    post();
    return;
  }
  waiting_.push_back({needs_slot, std::move(post)});
}

void IserConnection::post_waiting() {
  while (!waiting_.empty() && !closing_ && has_room(waiting_.front().needs_slot)) {
    Waiting next = std::move(waiting_.front());
    waiting_.pop_front();
    next.post();
  }
  if (close_when_sent_ && waiting_.empty() && in_flight_.empty()) close(close_reason_);
}

void IserConnection::send_queue_failed(const std::string& what, const std::string& error) {
  log::error("{}: cannot post an {}: {}", peer_, what, error);
  close("cannot post an " + what + ": " + error);
}

void IserConnection::close_after_sending(const std::string& reason) {
  if (closing_ || close_when_sent_) return;
  close_when_sent_ = true;
  close_reason_ = reason;
  post_waiting();
}

void IserConnection::close(const std::string& reason) {
  if (closing_) return;
  closing_ = true;
  close_when_sent_ = false;
  waiting_.clear();
  // Moves the QP to the error state: what is posted flushes.
  (void)id_->disconnect();
  boost::asio::post(worker_.io(), [this, alive = std::weak_ptr<bool>(alive_), reason] {
    if (alive.expired() || reported_) return;
    reported_ = true;
    if (handler_ != nullptr) handler_->on_connection_closed(reason);
  });
}

void IserConnection::maybe_finish_closing() {
  if (close_when_sent_ && waiting_.empty() && in_flight_.empty()) close(close_reason_);
}

}  // namespace isergw::fabric_ib
