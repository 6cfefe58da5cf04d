// A worker thread: one Boost.Asio loop that owns its sessions (both legs of
// each), their sockets and its own buffer pool. Nothing on the data path
// crosses threads; other threads reach a worker only by posting to its loop.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <thread>
#include <unordered_set>

#include "fabric_tcp/target_session.h"
#include "gateway/buffer_pool.h"
#include "gateway/target_map.h"

namespace isergw::gateway {

class Worker {
 public:
  static Expected<std::unique_ptr<Worker>, std::string> create(unsigned index,
                                                               const BufferPoolOptions& pool);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  // Closes every session, then stops the loop and joins the thread.
  void stop();

  // Takes over an accepted connection from the listener's thread.
  void adopt(boost::asio::ip::tcp::socket::protocol_type protocol,
             boost::asio::ip::tcp::socket::native_handle_type handle,
             std::shared_ptr<const TargetMap> targets, fabric_tcp::TargetSessionOptions options);

  unsigned index() const { return index_; }
  // Read from other threads to balance new sessions.
  size_t session_count() const { return session_count_.load(std::memory_order_relaxed); }
  boost::asio::io_context& context() { return context_; }

 private:
  Worker(unsigned index, std::unique_ptr<BufferPool> pool);

  unsigned index_;
  boost::asio::io_context context_;
  std::unique_ptr<BufferPool> pool_;
  std::unordered_set<std::shared_ptr<fabric_tcp::TargetSession>> sessions_;
  std::atomic<size_t> session_count_{0};
  std::thread thread_;
};

}  // namespace isergw::gateway
