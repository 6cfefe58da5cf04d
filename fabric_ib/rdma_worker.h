// The RDMA side of one gateway worker: the CM event channel its connections
// are migrated to, and on each RDMA device a protection domain, the
// worker's buffer pool registered once into it, and one completion queue
// that every connection of the worker on that device shares. Both sit in the
// worker's Asio loop, so a connection's CM events and completions run on the
// thread that owns its session.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include "common/expected.h"
#include "gateway/buffer_pool.h"
#include "rdma/cm_event_watcher.h"
#include "rdma/cm_id.h"
#include "rdma/completion_poller.h"
#include "rdma/completion_queue.h"
#include "rdma/device.h"
#include "rdma/memory_map.h"
#include "rdma/posting_mode.h"
#include "rdma/posting_thread.h"
#include "rdma/protection_domain.h"

namespace isergw::fabric_ib {

class IserConnection;

// One device as a worker uses it. Declared in build order, so it is torn
// down in reverse: posting thread, poller, CQ, channel, registrations, PD.
struct WorkerDevice {
  std::unique_ptr<rdma::Device> device;
  std::unique_ptr<rdma::ProtectionDomain> pd;
  std::unique_ptr<rdma::MemoryMap> map;
  std::unique_ptr<rdma::CompletionChannel> channel;
  std::unique_ptr<rdma::CompletionQueue> cq;
  std::unique_ptr<rdma::CompletionPoller> poller;
  // Soft devices only (rdma/posting_thread.h); null where posting is a
  // doorbell write.
  std::unique_ptr<rdma::PostingThread> poster;
  // Which lists go to `poster` (rdma/posting_mode.h).
  rdma::PostingMode posting = rdma::PostingMode::kAuto;
  // Completion queue entries promised to connections; a connection that
  // would overflow the CQ is refused instead.
  int reserved_entries = 0;
};

class RdmaWorker {
 public:
  // Needs /dev/infiniband/rdma_cm; the error says so when it is missing.
  static Expected<std::unique_ptr<RdmaWorker>, std::string> create(
      boost::asio::io_context& io, gateway::BufferPool& pool,
      rdma::PostingMode posting = rdma::PostingMode::kAuto);
  ~RdmaWorker();
  RdmaWorker(const RdmaWorker&) = delete;
  RdmaWorker& operator=(const RdmaWorker&) = delete;

  // Where a listener moves the CM id of a connection this worker takes.
  rdma::EventChannel& event_channel() { return *channel_; }

  // The device's resources for this worker, made on first use: the pool is
  // registered then, once, never on the I/O path.
  Expected<WorkerDevice*, std::string> device(ibv_context* context);

  // Connections register for their CM events and completions, and must
  // unregister before they go.
  uint32_t add(IserConnection& connection, rdma_cm_id* id);
  void remove(uint32_t serial, rdma_cm_id* id);

  // Stops watching the CM channel and the CQs, so that the worker's loop
  // can run out once its sessions are gone.
  void stop();

  boost::asio::io_context& io() { return io_; }
  gateway::BufferPool& pool() { return pool_; }

  // Buffers of one whole command each, for the iSER back role: the storage
  // RDMA-Reads a write from one address and RDMA-Writes a read to one, and
  // the pool's buffers are not contiguous with each other. Made on first
  // use and registered then, on every device, for the peer's access.
  Expected<gateway::BufferPool*, std::string> command_buffers();

 private:
  RdmaWorker(boost::asio::io_context& io, gateway::BufferPool& pool, rdma::PostingMode posting,
             std::unique_ptr<rdma::EventChannel> channel);
  void on_cm_event(rdma::CmEvent&& event);
  void on_completions(std::span<const ibv_wc> completions);
  Expected<void, std::string> register_command_buffers(WorkerDevice& device);

  boost::asio::io_context& io_;
  gateway::BufferPool& pool_;
  rdma::PostingMode posting_;
  std::unique_ptr<rdma::EventChannel> channel_;
  std::unique_ptr<rdma::CmEventWatcher> watcher_;
  std::unique_ptr<gateway::BufferPool> command_buffers_;
  std::map<ibv_context*, std::unique_ptr<WorkerDevice>> devices_;
  std::unordered_map<uint32_t, IserConnection*> by_serial_;
  std::unordered_map<rdma_cm_id*, IserConnection*> by_id_;
  uint32_t next_serial_ = 1;
};

}  // namespace isergw::fabric_ib
