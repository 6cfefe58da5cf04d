#include "fabric_ib/rdma_worker.h"

#include "common/log.h"
#include "fabric_ib/iser_connection.h"
#include "gateway/write_batch.h"
#include "rdma/memory_region.h"

namespace isergw::fabric_ib {

namespace {

// Completion queue entries per device and worker: enough for a few dozen
// connections at full depth, within what soft and hardware devices allow.
constexpr int kCompletionQueueEntries = 16384;

// One command buffer holds one command's data toward iSER storage, so its
// size is the most such a command carries: 512 KiB, what Linux's iSER
// initiator sends by default and so what every iSER target takes; tgt's
// refuses more and drops the connection. Sixty-four commands in flight per
// worker keep a storage's queue full.
constexpr size_t kCommandBufferSize = 512u << 10;
constexpr size_t kCommandBufferCount = 64;

// How the log says a device's send lists are posted.
std::string posting_description(const WorkerDevice& device) {
  if (!device.poster) return "send lists posted from the worker's loop";
  if (device.posting == rdma::PostingMode::kThread) {
    return "send lists posted from a thread of their own";
  }
  return "send lists of " + rdma::human_bytes(rdma::kBulkListBytes) +
         " or more posted from a thread of their own, the rest from the worker's loop";
}

}  // namespace

Expected<std::unique_ptr<RdmaWorker>, std::string> RdmaWorker::create(boost::asio::io_context& io,
                                                                      gateway::BufferPool& pool,
                                                                      rdma::PostingMode posting) {
  auto channel = rdma::EventChannel::create();
  if (!channel) return Unexpected{channel.error().describe()};
  std::unique_ptr<RdmaWorker> worker(new RdmaWorker(io, pool, posting, std::move(*channel)));
  worker->watcher_->start();
  return worker;
}

RdmaWorker::RdmaWorker(boost::asio::io_context& io, gateway::BufferPool& pool,
                       rdma::PostingMode posting, std::unique_ptr<rdma::EventChannel> channel)
    : io_(io), pool_(pool), posting_(posting), channel_(std::move(channel)) {
  watcher_ = std::make_unique<rdma::CmEventWatcher>(
      io_, *channel_, [this](rdma::CmEvent&& event) { on_cm_event(std::move(event)); },
      [](const rdma::VerbsError& error) {
        log::error("RDMA CM event channel failed: {}", error.describe());
      });
}

RdmaWorker::~RdmaWorker() {
  stop();
}

void RdmaWorker::stop() {
  if (watcher_) watcher_->stop();
  for (auto& [context, device] : devices_) {
    if (device->poller) device->poller->stop();
  }
}

Expected<WorkerDevice*, std::string> RdmaWorker::device(ibv_context* context) {
  if (context == nullptr) return Unexpected{std::string("the CM id has no RDMA device")};
  if (auto found = devices_.find(context); found != devices_.end()) return found->second.get();
  auto made = std::make_unique<WorkerDevice>();
  auto device = rdma::Device::borrow(context);
  if (!device) return Unexpected{device.error().describe()};
  made->device = std::move(*device);
  auto pd = rdma::ProtectionDomain::allocate(*made->device);
  if (!pd) return Unexpected{pd.error().describe()};
  made->pd = std::move(*pd);
  // RDMA Reads land in pool buffers; on iWARP they need REMOTE_WRITE.
  made->map = std::make_unique<rdma::MemoryMap>(*made->pd, rdma::read_sink_access(*made->device));
  if (auto ok = made->map->add_chunks([this](const rdma::MemoryMap::ChunkVisitor& visit) {
        pool_.for_each_memory_chunk(visit);
      });
      !ok) {
    return Unexpected{ok.error().describe()};
  }
  if (command_buffers_) {
    if (auto ok = register_command_buffers(*made); !ok) return Unexpected{ok.error()};
  }
  auto channel = rdma::CompletionChannel::create(*made->device);
  if (!channel) return Unexpected{channel.error().describe()};
  made->channel = std::move(*channel);
  const int entries = rdma::completion_queue_entries(
      made->device->limits().max_cqe, made->device->is_siw(), kCompletionQueueEntries);
  auto cq = rdma::CompletionQueue::create(*made->device, made->channel.get(), entries);
  if (!cq) return Unexpected{cq.error().describe()};
  made->cq = std::move(*cq);
  made->poller = std::make_unique<rdma::CompletionPoller>(
      io_, *made->channel, *made->cq,
      [this](std::span<const ibv_wc> completions) { on_completions(completions); },
      [name = made->device->name()](const rdma::VerbsError& error) {
        log::error("completion queue on {} failed: {}", name, error.describe());
      });
  if (auto ok = made->poller->start(); !ok) return Unexpected{ok.error().describe()};
  made->posting = posting_;
  if (rdma::wants_posting_thread(posting_, made->device->posts_in_kernel())) {
    made->poster = std::make_unique<rdma::PostingThread>();
  }
  log::info("RDMA device {}: {} of buffer pool registered, {} completion queue entries, {}",
            made->device->name(), rdma::human_bytes(made->map->registered_bytes()),
            made->cq->capacity(), posting_description(*made));
  WorkerDevice* result = made.get();
  devices_.emplace(context, std::move(made));
  return result;
}

Expected<gateway::BufferPool*, std::string> RdmaWorker::command_buffers() {
  if (command_buffers_) return command_buffers_.get();
  auto pool = gateway::BufferPool::create({.name = pool_.name() + "-commands",
                                           .buffer_size = kCommandBufferSize,
                                           .buffer_count = kCommandBufferCount,
                                           .budgets = false});
  if (!pool) return Unexpected{pool.error()};
  command_buffers_ = std::move(*pool);
  for (auto& [context, device] : devices_) {
    if (auto ok = register_command_buffers(*device); !ok) {
      command_buffers_.reset();
      return Unexpected{ok.error()};
    }
  }
  log::info("{} command buffers of {} for iSER back legs", kCommandBufferCount,
            rdma::human_bytes(kCommandBufferSize));
  return command_buffers_.get();
}

Expected<void, std::string> RdmaWorker::register_command_buffers(WorkerDevice& device) {
  auto ok = device.map->add_chunks(
      [this](const rdma::MemoryMap::ChunkVisitor& visit) {
        command_buffers_->for_each_memory_chunk(visit);
      },
      rdma::kRemoteAccess);
  if (!ok)
    return Unexpected{"command buffers on " + device.device->name() + ": " + ok.error().describe()};
  return {};
}

uint32_t RdmaWorker::add(IserConnection& connection, rdma_cm_id* id) {
  uint32_t serial = next_serial_++;
  if (next_serial_ == 0) next_serial_ = 1;
  by_serial_[serial] = &connection;
  by_id_[id] = &connection;
  return serial;
}

void RdmaWorker::remove(uint32_t serial, rdma_cm_id* id) {
  by_serial_.erase(serial);
  by_id_.erase(id);
}

void RdmaWorker::on_cm_event(rdma::CmEvent&& event) {
  const auto found = by_id_.find(event.id);
  if (found == by_id_.end()) {
    log::debug("RDMA CM event {} for a connection that is gone", event.name());
    return;
  }
  found->second->on_cm_event(event);
}

void RdmaWorker::on_completions(std::span<const ibv_wc> completions) {
  // The commands of one poll that go on to TCP storage leave in one write
  // per connection, at the end of the batch.
  gateway::WriteBatch batch;
  for (const ibv_wc& wc : completions) {
    // Completions of a connection that is gone (flushed work) are dropped.
    const auto found = by_serial_.find(static_cast<uint32_t>(wc.wr_id >> 32));
    if (found != by_serial_.end()) found->second->on_completion(wc);
  }
}

}  // namespace isergw::fabric_ib
