// A worker thread: one Boost.Asio loop that owns its sessions (both legs of
// each), their sockets and its own buffer pool. Nothing on the data path
// crosses threads; other threads reach a worker only by posting to its loop.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "fabric_ib/rdma_worker.h"
#include "fabric_tcp/target_session.h"
#include "gateway/buffer_pool.h"
#include "gateway/target_map.h"
#include "gateway/worker_reports.h"
#include "rdma/posting_mode.h"

namespace isergw::gateway {

class Worker {
 public:
  // `posting` decides how the worker posts RDMA send lists once RDMA is
  // enabled (rdma/posting_mode.h).
  static Expected<std::unique_ptr<Worker>, std::string> create(
      unsigned index, const BufferPoolOptions& pool,
      rdma::PostingMode posting = rdma::PostingMode::kAuto);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  // Asks every host to log out within `within`; sessions end as they do.
  void drain(std::chrono::seconds within);
  // Closes every session that is left, lets the back legs log out of the
  // storage (bounded by their logout timeout), then joins the thread.
  void stop();

  // Takes over an accepted connection from the listener's thread.
  void adopt(boost::asio::ip::tcp::socket::protocol_type protocol,
             boost::asio::ip::tcp::socket::native_handle_type handle,
             std::shared_ptr<const TargetMap> targets, FrontSessionOptions options);

  // Readies the worker for iSER connections (its RDMA CM channel); from
  // another thread, before the first adopt_iser().
  Expected<void, std::string> enable_rdma();
  // Takes over an iSER connect request from the listener's thread: moves
  // its CM id to this worker, which accepts it.
  void adopt_iser(rdma::CmEvent&& request, std::shared_ptr<const TargetMap> targets,
                  FrontSessionOptions options);

  unsigned index() const { return index_; }
  // Read from other threads to balance new sessions.
  size_t session_count() const { return session_count_.load(std::memory_order_relaxed); }
  boost::asio::io_context& context() { return context_; }

  // For the control thread; each runs on the worker's loop and waits for it.
  std::vector<SessionInfo> sessions();
  // False when the worker has no session with that id.
  bool close_session(uint64_t id, const std::string& reason);
  // The commands in flight of one session; nullopt when the worker has no
  // session with that id.
  std::optional<std::vector<TaskInfo>> session_tasks(uint64_t id);
  // Closes the sessions for which `doomed(session, map it logged in with)`
  // holds; returns how many.
  size_t close_sessions_if(std::function<bool(const FrontSession&, const TargetMap*)> doomed,
                           const std::string& reason);
  // The same, without waiting, for other workers' loops, which must never
  // block: each session's back leg calls `released` once it has let go of
  // the storage, and `done` runs on the worker's loop once all are closing.
  void close_sessions_later(std::function<bool(const FrontSession&, const TargetMap*)> doomed,
                            std::string reason, std::function<void()> released,
                            std::function<void()> done);
  WorkerMetrics metrics();

 private:
  struct Entry {
    std::shared_ptr<FrontSession> session;
    std::shared_ptr<const TargetMap> targets;
  };

  Worker(unsigned index, std::unique_ptr<BufferPool> pool, rdma::PostingMode posting);
  // What a session calls when it ends: the worker forgets it.
  FrontSession::ClosedCallback closed_callback(uint64_t id);
  void add_session(std::shared_ptr<FrontSession> session, std::shared_ptr<const TargetMap> targets,
                   uint64_t id);
  // Once stopping and the last session is gone, nothing is left to wait for.
  void finish_stop_if_idle();
  void account_closed(const FrontSession& session, const std::string& reason);
  // `released`: called for each once its back leg has let go of the
  // storage (FrontSession::close_then); empty: a plain close.
  size_t close_matching(const std::function<bool(const FrontSession&, const TargetMap*)>& doomed,
                        const std::string& reason, const std::function<void()>& released);

  // Runs `work` on the loop and returns its result; never from the loop itself.
  template <typename Work>
  auto call(Work work) -> decltype(work()) {
    std::packaged_task<decltype(work())()> task(std::move(work));
    auto result = task.get_future();
    boost::asio::post(context_, [&task] { task(); });
    return result.get();
  }

  unsigned index_;
  rdma::PostingMode posting_;
  boost::asio::io_context context_;
  // Keeps run() going while the worker has no session, until stop().
  std::optional<boost::asio::any_io_executor> work_;
  std::unique_ptr<BufferPool> pool_;
  // Before the sessions: their connections use it until they are gone.
  std::unique_ptr<fabric_ib::RdmaWorker> rdma_;
  std::unordered_map<uint64_t, Entry> sessions_;  // by session id
  // Totals of the sessions that have ended, so counters never go down.
  std::map<TargetKey, TargetCounters> closed_;
  std::map<std::string, RdmaCounters> closed_rdma_;  // by device
  bool stopping_ = false;
  std::shared_ptr<boost::asio::steady_timer> stop_deadline_;
  std::atomic<size_t> session_count_{0};
  std::thread thread_;
};

// A session's counters as they stand, under its (fabric, target) key.
std::pair<TargetKey, TargetCounters> session_counters(const FrontSession& session);

}  // namespace isergw::gateway
