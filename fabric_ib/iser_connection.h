// One iSER connection on an RDMA device (RFC 7145): a reliable-connected QP
// set up through the RDMA CM, a ring of receives for the peer's Sends, Send
// slots for the PDUs going out, and in the target role the RDMA Reads and
// Writes that move the data. In the initiator role (the gateway's back leg)
// the storage moves the data, and the connection only carries PDUs.
//
// Every message is framed alike: the 28-byte iSER header, then the iSCSI
// PDU (BHS, AHS, data segment). Receives and Sends go through slots of this
// connection's own registered memory; data never does: RDMA Reads land in,
// and RDMA Writes leave from, the worker's pool buffers, registered once.
//
// A connection holds only a few login receives until its login succeeds
// (RFC 7145 §12: no resources for a peer that has not logged in); the full
// ring, sized to the CmdSN window, is posted before the final Login
// Response leaves.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/expected.h"
#include "fabric_ib/rdma_worker.h"
#include "gateway/front_transport.h"
#include "iscsi/pdu.h"
#include "iser/cm_private_data.h"
#include "iser/iser_header.h"
#include "rdma/cm_id.h"
#include "rdma/memory_region.h"
#include "rdma/posting_thread.h"
#include "rdma/queue_pair.h"

namespace isergw::fabric_ib {

class IserConnectionHandler {
 public:
  virtual ~IserConnectionHandler() = default;
  // An iSCSI control-type PDU arrived; `iscsi_pdu` (BHS onwards) lives only
  // during the call.
  virtual void on_message(const iser::ControlHeader& header,
                          std::span<const uint8_t> iscsi_pdu) = 0;
  // Called once, after the connection is gone, from the worker's loop.
  virtual void on_connection_closed(const std::string& reason) = 0;
  // Initiator role: the connection is up, and login PDUs may go.
  virtual void on_established() {}
};

struct IserConnectionOptions {
  // Receives posted while logging in: Linux sends one Login Request at a
  // time, and may send a Hello first.
  uint32_t login_receives = 4;
  // Receives posted in full feature phase: the CmdSN window plus the
  // unexpected PDUs (NOP-Out, task management, Logout) beyond it.
  uint32_t receive_ring_depth = 128 + 16;
  uint32_t send_slots = 128 + 16;
  // Work requests on the send queue at once (Sends, RDMA Writes and Reads);
  // more wait in order in the connection.
  uint32_t send_queue_depth = 512;
  // Bytes after the iSER header a receive or Send slot holds: a BHS, the
  // largest AHS and the 8 KiB data segment of a login PDU or of immediate
  // data (TargetRecvDataSegmentLength).
  uint32_t slot_pdu_bytes = 48 + 1020 + 8192;
};

class IserConnection {
 public:
  // Builds the QP for a connect request on the worker's device, posts the
  // login receives and accepts; on failure the request is rejected and the
  // error says why.
  static Expected<std::unique_ptr<IserConnection>, std::string> accept(
      RdmaWorker& worker, rdma::CmEvent&& request, const IserConnectionOptions& options);
  // Connects to an iSER target in the initiator role: resolves the address
  // and route, builds the QP on the device the route leads to, and
  // connects. The handler hears on_established(), or on_connection_closed()
  // with the reason it failed.
  static Expected<std::unique_ptr<IserConnection>, std::string> connect(
      RdmaWorker& worker, const rdma::SocketAddress& destination,
      const IserConnectionOptions& options, IserConnectionHandler& handler);
  ~IserConnection();
  IserConnection(const IserConnection&) = delete;
  IserConnection& operator=(const IserConnection&) = delete;

  void set_handler(IserConnectionHandler* handler) { handler_ = handler; }
  const std::string& peer() const { return peer_; }
  const std::string& local_host() const { return local_host_; }
  uint16_t local_port() const { return local_port_; }
  const std::string& device_name() const;
  bool is_iwarp() const { return device_ != nullptr && device_->device->is_iwarp(); }
  // What the host's CM private data allows: Send with Invalidate or not.
  const iser::CmPrivateData& initiator() const { return initiator_; }
  bool is_open() const { return !closing_; }
  const gateway::ConnectionStatistics& statistics() const { return statistics_; }

  // Posts the full receive ring; called before the final Login Response.
  Expected<void, std::string> enter_full_feature();

  // Sends a PDU in a Send behind `header` (with Invalidate of
  // `invalidate_rkey` when set). Its bytes are copied into a Send slot at
  // once.
  void send_pdu(const iscsi::Pdu& pdu, const iser::ControlHeader& header = {},
                std::optional<uint32_t> invalidate_rkey = std::nullopt);
  // Whether `bytes` lie in memory this connection can RDMA from or into.
  bool registered(std::span<const uint8_t> bytes) const;
  // The keys of registered memory on this connection's device.
  std::optional<rdma::MemoryKeys> keys(std::span<const uint8_t> bytes) const;
  // RDMA Write to the host; `owner` keeps `local` alive until it is done. A
  // Send posted after it lands after it (RFC 7145 §5.1).
  void rdma_write(std::span<const uint8_t> local, uint64_t remote_address, uint32_t rkey,
                  std::shared_ptr<const void> owner);
  // RDMA Read from the host into `local`; `done` runs once the data is
  // there, never if the connection fails first.
  void rdma_read(std::span<uint8_t> local, uint64_t remote_address, uint32_t rkey,
                 std::function<void()> done);

  // Sends what is queued, then disconnects. RDMA Writes with nothing
  // signaled behind them do not hold it: their command has no status yet.
  void close_after_sending(const std::string& reason);
  // Disconnects now; the handler hears of it from the loop.
  void close(const std::string& reason);

  // From the worker.
  void on_cm_event(const rdma::CmEvent& event);
  void on_completion(const ibv_wc& wc);

 private:
  enum class Operation : uint8_t { kSend, kWrite, kRead };
  // A signaled work request, until its completion. It also retires the
  // unsignaled RDMA Writes posted before it (a send queue completes in
  // order), and holds their buffers until then.
  struct SendQueueEntry {
    Operation operation = Operation::kSend;
    uint32_t slot = 0;
    std::vector<std::shared_ptr<const void>> owners;
    std::function<void()> read_done;
    uint32_t retires = 1;  // send queue entries its completion frees
  };
  // A work request that found the send queue or the Send slots full.
  struct Waiting {
    bool needs_slot;
    std::function<void()> post;
  };
  struct SlotArea {
    std::vector<uint8_t> memory;
    std::optional<rdma::MemoryRegion> region;
    uint32_t count = 0;
  };

  IserConnection(RdmaWorker& worker, WorkerDevice* device, std::unique_ptr<rdma::CmId> id,
                 const IserConnectionOptions& options);
  void learn_addresses();
  Expected<void, std::string> build(const rdma::CmEvent& request);
  // The QP, the login receives and the Send slots, in either role.
  Expected<void, std::string> build_queue_pair();
  // Initiator role, as the RDMA CM resolves.
  void on_address_resolved();
  void on_route_resolved();
  Expected<void, std::string> allocate(SlotArea& area, uint32_t count);
  Expected<void, std::string> post_receive(uint32_t index);
  std::span<uint8_t> receive_slot(uint32_t index);
  void on_receive(uint32_t index, uint32_t length);
  void answer_hello(std::span<const uint8_t> message);

  // Runs `post` now if the send queue (and a Send slot, when needed) has
  // room and nothing waits before it, else queues it.
  void submit(bool needs_slot, std::function<void()> post);
  void post_waiting();
  bool has_room(bool needs_slot) const;
  // Takes a send queue entry for a signaled work request: its wr_id.
  uint32_t add_entry(SendQueueEntry entry);
  // Takes a send queue entry for an unsignaled RDMA Write.
  void add_unsignaled_write(std::shared_ptr<const void> owner);
  void count_post();
  // Send-queue work waits in batch_ until the loop's turn ends, then goes
  // out as one list, from the device's posting thread where it has one.
  void queue_request(const ibv_send_wr& request, const ibv_sge& sge);
  void ring_doorbell();
  void post_message(std::vector<uint8_t> message, std::optional<uint32_t> invalidate_rkey);
  void send_queue_failed(const std::string& what, const std::string& error);
  void maybe_finish_closing();

  RdmaWorker& worker_;
  WorkerDevice* device_;  // null until an initiator's route is resolved
  bool initiator_role_ = false;
  std::unique_ptr<rdma::CmId> id_;
  std::unique_ptr<rdma::QueuePair> qp_;
  IserConnectionOptions options_;
  IserConnectionHandler* handler_ = nullptr;
  uint32_t serial_ = 0;
  int reserved_cq_entries_ = 0;
  std::string peer_;
  std::string local_host_;
  uint16_t local_port_ = 0;
  iser::CmPrivateData initiator_;

  SlotArea login_receives_;
  SlotArea ring_receives_;
  SlotArea sends_;
  std::vector<uint32_t> free_send_slots_;
  size_t slot_size_ = 0;

  std::vector<rdma::SendWork> batch_;
  bool doorbell_due_ = false;
  // Where the posting thread reports a list it could not post.
  std::shared_ptr<const rdma::PostingThread::FailureSink> post_failed_;
  std::unordered_map<uint32_t, SendQueueEntry> in_flight_;
  uint32_t next_entry_ = 0;
  // RDMA Writes go unsignaled, as LIO's ib_isert posts them: a read's SCSI
  // Response, signaled, follows them and retires them, so the completion
  // queue sees one completion per read, not two.
  uint32_t unsignaled_writes_ = 0;  // since the last signaled work request
  std::vector<std::shared_ptr<const void>> unsignaled_owners_;
  uint32_t send_queue_used_ = 0;  // posted, and not yet retired
  std::deque<Waiting> waiting_;

  bool closing_ = false;
  bool close_when_sent_ = false;
  bool reported_ = false;
  std::string close_reason_;
  gateway::ConnectionStatistics statistics_;
  // Work posted to the loop checks it: the connection may be gone by then.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace isergw::fabric_ib
