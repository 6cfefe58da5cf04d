// Drives one CQ from an Asio loop, as the gateway's workers run: while
// completions keep coming it polls in batches, yielding to the loop between
// batches so sockets and timers are served too; when the CQ runs dry it
// re-arms, polls once more (a completion may have landed before the arm), and
// sleeps on the completion channel's fd until the next completion.
#pragma once

#include <infiniband/verbs.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "rdma/completion_queue.h"
#include "rdma/verbs_error.h"

namespace isergw::rdma {

class CompletionPoller {
 public:
  static constexpr std::size_t kBatch = 32;
  // Called once per batch polled, with its completions in order: a worker
  // acts on a whole batch at once (gateway/write_batch.h).
  using Handler = std::function<void(std::span<const ibv_wc>)>;
  using ErrorHandler = std::function<void(const VerbsError&)>;

  // The queue and channel must outlive the poller; the poller never closes
  // the channel's fd (the channel owns it). on_completion must not destroy
  // the poller: a connection that ends on a completion defers its teardown
  // (boost::asio::post).
  CompletionPoller(boost::asio::io_context& io, CompletionChannel& channel, CompletionQueue& cq,
                   Handler on_completion, ErrorHandler on_error);
  ~CompletionPoller();
  CompletionPoller(const CompletionPoller&) = delete;
  CompletionPoller& operator=(const CompletionPoller&) = delete;

  // Arms the CQ and starts waiting. A poll or arm failure later goes to
  // on_error and stops the poller.
  Expected<void, VerbsError> start();
  void stop();

  // Batches polled while busy, and times the poller went to sleep: how busy
  // a worker is, for metrics.
  std::uint64_t busy_polls() const { return busy_polls_; }
  std::uint64_t sleeps() const { return sleeps_; }

 private:
  void sleep();
  void wake();
  void drain();
  // Polls one batch and dispatches it; the count polled, or nullopt after
  // an error (already reported).
  std::optional<std::size_t> poll_batch();
  void fail(const VerbsError& error);

  boost::asio::io_context& io_;
  boost::asio::posix::stream_descriptor descriptor_;
  CompletionQueue& cq_;
  Handler on_completion_;
  ErrorHandler on_error_;
  std::array<ibv_wc, kBatch> completions_{};
  // Handlers already queued in the loop check this before touching the
  // poller, so it can be destroyed with work still queued.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool running_ = false;
  bool armed_ = false;  // an arm is out whose event has not been taken
  std::uint64_t busy_polls_ = 0;
  std::uint64_t sleeps_ = 0;
};

}  // namespace isergw::rdma
