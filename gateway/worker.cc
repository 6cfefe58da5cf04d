#include "gateway/worker.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/log.h"

namespace isergw::gateway {

namespace asio = boost::asio;

Expected<std::unique_ptr<Worker>, std::string> Worker::create(unsigned index,
                                                              const BufferPoolOptions& options) {
  auto pool = BufferPool::create(options);
  if (!pool) return Unexpected{pool.error()};
  return std::unique_ptr<Worker>(new Worker(index, std::move(*pool)));
}

Worker::Worker(unsigned index, std::unique_ptr<BufferPool> pool)
    : index_(index), pool_(std::move(pool)) {}

Worker::~Worker() {
  stop();
}

void Worker::start() {
  work_.emplace(asio::prefer(context_.get_executor(), asio::execution::outstanding_work.tracked));
  thread_ = std::thread([this] { context_.run(); });
}

void Worker::drain(std::chrono::seconds within) {
  asio::post(context_, [this, within] {
    for (const auto& session : sessions_)
      session->request_logout(within);
  });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  // The loop ends by itself once the back legs have logged out and every
  // timer is done; a peer that never answers cannot hold it beyond this.
  stop_deadline_ = std::make_shared<asio::steady_timer>(context_, std::chrono::seconds(5));
  stop_deadline_->async_wait([this](const boost::system::error_code& error) {
    if (!error) {
      log::warn("worker {}: connections still open after 5 s; stopping anyway", index_);
      context_.stop();
    }
  });
  asio::post(context_, [this] {
    stopping_ = true;
    // Copy: closing a session removes it from the set.
    auto sessions = sessions_;
    for (const auto& session : sessions)
      session->close("the gateway is shutting down");
    if (sessions_.empty()) stop_deadline_->cancel();
  });
  work_.reset();
  thread_.join();
  sessions_.clear();
}

void Worker::adopt(asio::ip::tcp::socket::protocol_type protocol,
                   asio::ip::tcp::socket::native_handle_type handle,
                   std::shared_ptr<const TargetMap> targets,
                   fabric_tcp::TargetSessionOptions options) {
  session_count_.fetch_add(1, std::memory_order_relaxed);
  asio::post(context_, [this, protocol, handle, targets = std::move(targets),
                        options = std::move(options)]() mutable {
    asio::ip::tcp::socket socket(context_);
    boost::system::error_code error;
    socket.assign(protocol, handle, error);
    if (error) {
      log::error("worker {}: cannot adopt a connection: {}", index_, error.message());
      session_count_.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
    auto session = std::make_shared<fabric_tcp::TargetSession>(
        std::move(socket), *pool_, std::move(targets), std::move(options),
        [this](fabric_tcp::TargetSession& closed, const std::string&) {
          // Erase later: the session is still inside its own callback.
          asio::post(context_, [this, gone = closed.shared_from_this()] {
            if (sessions_.erase(gone) > 0) session_count_.fetch_sub(1, std::memory_order_relaxed);
            if (stopping_ && sessions_.empty()) stop_deadline_->cancel();
          });
        });
    sessions_.insert(session);
    session->start();
  });
}

}  // namespace isergw::gateway
