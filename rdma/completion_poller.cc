#include "rdma/completion_poller.h"

#include <boost/asio/post.hpp>

namespace isergw::rdma {

CompletionPoller::CompletionPoller(boost::asio::io_context& io, CompletionChannel& channel,
                                   CompletionQueue& cq, Handler on_completion,
                                   ErrorHandler on_error)
    : io_(io),
      descriptor_(io, channel.fd()),
      cq_(cq),
      on_completion_(std::move(on_completion)),
      on_error_(std::move(on_error)) {}

CompletionPoller::~CompletionPoller() {
  *alive_ = false;
  // release() cancels the wait and hands the fd back without closing it.
  descriptor_.release();
}

Expected<void, VerbsError> CompletionPoller::start() {
  if (running_) return {};
  if (auto armed = cq_.arm(); !armed) return armed;
  armed_ = true;
  running_ = true;
  // Completions that landed before the arm raise no event: look first.
  boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (auto flag = alive.lock(); flag && *flag) drain();
  });
  return {};
}

void CompletionPoller::stop() {
  running_ = false;
  boost::system::error_code ignored;
  descriptor_.cancel(ignored);
}

void CompletionPoller::sleep() {
  ++sleeps_;
  descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                         [this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
                           auto flag = alive.lock();
                           if (!flag || !*flag || ec || !running_) return;
                           wake();
                         });
}

void CompletionPoller::wake() {
  // One arm raises one event, and this channel serves this CQ alone: after
  // taking it the fd is no longer readable, and the CQ needs a new arm.
  auto taken = cq_.take_event();
  if (!taken) return fail(taken.error());
  if (*taken) armed_ = false;
  drain();
}

void CompletionPoller::drain() {
  if (!running_) return;
  auto polled = poll_batch();
  if (!polled) return;
  if (*polled == kBatch) {
    ++busy_polls_;
    boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
      if (auto flag = alive.lock(); flag && *flag) drain();
    });
    return;
  }
  // An arm holds until its event is taken: while one is out, arming again
  // would only cost a system call per turn (ibv_req_notify_cq is one on
  // rxe and siw), and the event it raises wakes the loop all the same.
  if (!armed_) {
    if (auto armed = cq_.arm(); !armed) return fail(armed.error());
    armed_ = true;
  }
  // A completion between the last poll and the arm raised no event.
  polled = poll_batch();
  if (!polled) return;
  if (*polled > 0) {
    boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
      if (auto flag = alive.lock(); flag && *flag) drain();
    });
    return;
  }
  sleep();
}

std::optional<std::size_t> CompletionPoller::poll_batch() {
  auto polled = cq_.poll(completions_);
  if (!polled) {
    fail(polled.error());
    return std::nullopt;
  }
  if (*polled > 0) on_completion_(std::span<const ibv_wc>(completions_.data(), *polled));
  return *polled;
}

void CompletionPoller::fail(const VerbsError& error) {
  running_ = false;
  if (on_error_) on_error_(error);
}

}  // namespace isergw::rdma
