// A completion queue and the completion channel that wakes its owner. The
// channel's fd is non-blocking so that it can sit in an Asio loop
// (completion_poller.h); one channel serves one CQ, so an event always names
// the CQ its owner expects.
#pragma once

#include <infiniband/verbs.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "common/expected.h"
#include "rdma/device.h"
#include "rdma/verbs_error.h"

namespace isergw::rdma {

// The entries to ask for when a completion queue wants `wanted` on a device
// that allows max_cqe. On siw the answer is at least kSiwMinimumEntries:
// libsiw refuses any queue whose mmap key equals SIW_INVAL_UOBJ_KEY
// (0x90000), yet the kernel hands out keys by page offset in the context,
// so the queue that happens to start at page 144 fails to create (a QP
// after one 16384-entry CQ did, every time). The first CQ on a context
// starts at key 0; at 32768 entries (1 MiB) it spans 0x90000 itself, and
// no later queue can start there.
inline constexpr int kSiwMinimumEntries = 32768;
int completion_queue_entries(std::uint32_t max_cqe, bool siw, int wanted);

class CompletionChannel {
 public:
  static Expected<std::unique_ptr<CompletionChannel>, VerbsError> create(Device& device);
  ~CompletionChannel();
  CompletionChannel(const CompletionChannel&) = delete;
  CompletionChannel& operator=(const CompletionChannel&) = delete;

  ibv_comp_channel* get() const { return channel_; }
  int fd() const { return channel_->fd; }

 private:
  explicit CompletionChannel(ibv_comp_channel* channel) : channel_(channel) {}

  ibv_comp_channel* channel_;
};

class CompletionQueue {
 public:
  // channel may be null for a CQ that is only ever polled.
  static Expected<std::unique_ptr<CompletionQueue>, VerbsError> create(Device& device,
                                                                       CompletionChannel* channel,
                                                                       int entries);
  // Acknowledges every event taken, which ibv_destroy_cq waits for.
  ~CompletionQueue();
  CompletionQueue(const CompletionQueue&) = delete;
  CompletionQueue& operator=(const CompletionQueue&) = delete;

  ibv_cq* get() const { return cq_; }
  int capacity() const { return cq_->cqe; }

  // Up to out.size() completions; 0 when the queue is empty.
  Expected<std::size_t, VerbsError> poll(std::span<ibv_wc> out);

  // Asks for one event on the channel at the next completion.
  Expected<void, VerbsError> arm();

  // Takes the event that made the channel readable: true if there was one,
  // false if none was pending (the fd is non-blocking).
  Expected<bool, VerbsError> take_event();

 private:
  CompletionQueue(ibv_cq* cq, CompletionChannel* channel) : cq_(cq), channel_(channel) {}

  ibv_cq* cq_;
  CompletionChannel* channel_;
  // ibv_ack_cq_events takes a mutex: acknowledge in batches, not per event.
  unsigned unacknowledged_ = 0;
};

}  // namespace isergw::rdma
