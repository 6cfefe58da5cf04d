#include "rdma/completion_queue.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>

namespace isergw::rdma {
namespace {

constexpr unsigned kAcknowledgeBatch = 64;

}  // namespace

int completion_queue_entries(std::uint32_t max_cqe, bool siw, int wanted) {
  const std::int64_t entries = siw ? std::max(wanted, kSiwMinimumEntries) : wanted;
  return static_cast<int>(std::min<std::int64_t>(entries, max_cqe));
}

Expected<std::unique_ptr<CompletionChannel>, VerbsError> CompletionChannel::create(Device& device) {
  ibv_comp_channel* channel = ibv_create_comp_channel(device.context());
  if (channel == nullptr) {
    return Unexpected{verbs_error("ibv_create_comp_channel", errno, device.name())};
  }
  std::unique_ptr<CompletionChannel> owned(new CompletionChannel(channel));
  const int flags = fcntl(channel->fd, F_GETFL);
  if (flags < 0 || fcntl(channel->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return Unexpected{verbs_error("fcntl(O_NONBLOCK)", errno, "completion channel")};
  }
  return owned;
}

CompletionChannel::~CompletionChannel() {
  ibv_destroy_comp_channel(channel_);
}

Expected<std::unique_ptr<CompletionQueue>, VerbsError> CompletionQueue::create(
    Device& device, CompletionChannel* channel, int entries) {
  ibv_cq* cq =
      ibv_create_cq(device.context(), entries, nullptr, channel ? channel->get() : nullptr, 0);
  if (cq == nullptr) {
    return Unexpected{verbs_error("ibv_create_cq", errno,
                                  std::to_string(entries) + " entries on " + device.name())};
  }
  return std::unique_ptr<CompletionQueue>(new CompletionQueue(cq, channel));
}

CompletionQueue::~CompletionQueue() {
  if (unacknowledged_ > 0) ibv_ack_cq_events(cq_, unacknowledged_);
  ibv_destroy_cq(cq_);
}

Expected<std::size_t, VerbsError> CompletionQueue::poll(std::span<ibv_wc> out) {
  const int count = ibv_poll_cq(cq_, static_cast<int>(out.size()), out.data());
  // Providers return a negative number, not an errno, when the CQ itself is
  // broken (e.g. an overrun).
  if (count < 0) {
    return Unexpected{verbs_error("ibv_poll_cq", EIO, "returned " + std::to_string(count))};
  }
  return static_cast<std::size_t>(count);
}

Expected<void, VerbsError> CompletionQueue::arm() {
  if (int err = ibv_req_notify_cq(cq_, 0); err != 0) {
    return Unexpected{verbs_error("ibv_req_notify_cq", err)};
  }
  return {};
}

Expected<bool, VerbsError> CompletionQueue::take_event() {
  if (channel_ == nullptr) return false;
  ibv_cq* cq = nullptr;
  void* context = nullptr;
  if (ibv_get_cq_event(channel_->get(), &cq, &context) != 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    return Unexpected{verbs_error("ibv_get_cq_event", errno)};
  }
  if (++unacknowledged_ >= kAcknowledgeBatch) {
    ibv_ack_cq_events(cq_, unacknowledged_);
    unacknowledged_ = 0;
  }
  return true;
}

}  // namespace isergw::rdma
