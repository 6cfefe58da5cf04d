// A completion queue and the completion channel that wakes its owner. The
// channel's fd is non-blocking so that it can sit in an Asio loop
// (completion_poller.h); one channel serves one CQ, so an event always names
// the CQ its owner expects.
#pragma once

#include <infiniband/verbs.h>

#include <cstddef>
#include <memory>
#include <span>

#include "common/expected.h"
#include "rdma/device.h"
#include "rdma/verbs_error.h"

namespace isergw::rdma {

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
