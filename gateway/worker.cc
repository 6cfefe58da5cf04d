#include "gateway/worker.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "fabric_ib/iser_connection.h"
#include "fabric_ib/iser_target_session.h"

namespace isergw::gateway {

namespace asio = boost::asio;

namespace {

uint64_t next_session_id() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

// Why a connection ended, as an error kind; the close reasons are those of
// TargetSession and PduStream. Digest errors are counted by the stream
// itself, and a login refusal is a failed login rather than an error.
std::optional<ErrorKind> error_of_close(const std::string& reason) {
  const auto starts = [&](std::string_view prefix) { return reason.rfind(prefix, 0) == 0; };
  if (starts("protocol error") || starts("bad PDU header") || starts("DataSegmentLength")) {
    return ErrorKind::kProtocol;
  }
  if (starts("login timed out") || starts("the host stopped answering") ||
      starts("the host stopped sending")) {
    return ErrorKind::kTimeout;
  }
  if (starts("back end failed")) return ErrorKind::kBackEnd;  // TargetSession::back_failed()
  return std::nullopt;
}

}  // namespace

std::pair<TargetKey, TargetCounters> session_counters(const FrontSession& session) {
  TargetCounters counters;
  std::string target;
  if (const auto& result = session.login_result()) target = result->parameters.session.target_name;
  const auto& statistics = session.statistics();
  counters.commands = statistics.commands;
  counters.read_bytes = statistics.bytes_read;
  counters.written_bytes = statistics.bytes_written;
  counters.written_bytes_fetched_ahead = statistics.bytes_fetched_ahead;
  counters.task_transitions = statistics.task_transitions;
  counters.illegal_task_transitions = statistics.illegal_task_transitions;
  counters.errors[static_cast<size_t>(ErrorKind::kRejected)] = statistics.rejects;
  counters.errors[static_cast<size_t>(ErrorKind::kTaskSetFull)] = statistics.task_set_full;
  counters.errors[static_cast<size_t>(ErrorKind::kDigest)] =
      session.connection_statistics().digest_errors;
  counters.data_digest_errors = session.connection_statistics().data_digest_errors;
  if (const BackLeg* back = session.back_leg()) {
    const BackLegInfo info = back->info();
    counters.errors[static_cast<size_t>(ErrorKind::kRefused)] = info.refused_commands;
    counters.back_split_commands = info.split_commands;
  }
  counters.front_latency = statistics.front_latency;
  counters.back_latency = statistics.back_latency;
  if (session.logged_in()) {
    counters.logins_succeeded = 1;
    if (!target.empty()) counters.sessions = 1;
  }
  return {TargetKey{std::string(session.fabric()), target}, counters};
}

Expected<std::unique_ptr<Worker>, std::string> Worker::create(unsigned index,
                                                              const BufferPoolOptions& options,
                                                              rdma::PostingMode posting) {
  auto pool = BufferPool::create(options);
  if (!pool) return Unexpected{pool.error()};
  return std::unique_ptr<Worker>(new Worker(index, std::move(*pool), posting));
}

Worker::Worker(unsigned index, std::unique_ptr<BufferPool> pool, rdma::PostingMode posting)
    : index_(index), posting_(posting), pool_(std::move(pool)) {
  // A claim waiting for buffers is granted from the loop, never inside the
  // release of a buffer deep in another command's code.
  pool_->set_deferral(
      [this](std::function<void()> serve) { boost::asio::post(context_, std::move(serve)); });
}

Worker::~Worker() {
  stop();
}

void Worker::start() {
  work_.emplace(asio::prefer(context_.get_executor(), asio::execution::outstanding_work.tracked));
  thread_ = std::thread([this] { context_.run(); });
}

void Worker::drain(std::chrono::seconds within) {
  asio::post(context_, [this, within] {
    for (const auto& [id, entry] : sessions_)
      entry.session->request_logout(within);
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
    // Copy: closing a session removes it from the map.
    std::vector<std::shared_ptr<FrontSession>> sessions;
    for (const auto& [id, entry] : sessions_)
      sessions.push_back(entry.session);
    for (const auto& session : sessions)
      session->close("the gateway is shutting down");
    finish_stop_if_idle();
  });
  work_.reset();
  thread_.join();
  sessions_.clear();
  rdma_.reset();
}

void Worker::adopt(asio::ip::tcp::socket::protocol_type protocol,
                   asio::ip::tcp::socket::native_handle_type handle,
                   std::shared_ptr<const TargetMap> targets, FrontSessionOptions options) {
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
    const uint64_t id = next_session_id();
    options.rdma = rdma_.get();
    auto session = std::make_shared<fabric_tcp::TargetSession>(
        std::move(socket), *pool_, targets, std::move(options), closed_callback(id));
    add_session(std::move(session), std::move(targets), id);
  });
}

Expected<void, std::string> Worker::enable_rdma() {
  return call([this]() -> Expected<void, std::string> {
    if (rdma_) return {};
    auto rdma = fabric_ib::RdmaWorker::create(context_, *pool_, posting_);
    if (!rdma) return Unexpected{rdma.error()};
    rdma_ = std::move(*rdma);
    return {};
  });
}

void Worker::adopt_iser(rdma::CmEvent&& request, std::shared_ptr<const TargetMap> targets,
                        FrontSessionOptions options) {
  // From here on the id's events arrive on this worker's channel.
  if (rdma_migrate_id(request.id, rdma_->event_channel().get()) != 0) {
    log::error("worker {}: cannot take an iSER connection: rdma_migrate_id: {}", index_,
               std::strerror(errno));
    rdma_reject(request.id, nullptr, 0);
    rdma_destroy_id(request.id);
    return;
  }
  session_count_.fetch_add(1, std::memory_order_relaxed);
  asio::post(context_, [this, request = std::move(request), targets = std::move(targets),
                        options = std::move(options)]() mutable {
    auto connection = fabric_ib::IserConnection::accept(*rdma_, std::move(request), {});
    if (!connection) {
      log::peer_warn("worker {}: iSER connection refused: {}", index_, connection.error());
      session_count_.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
    const uint64_t id = next_session_id();
    options.rdma = rdma_.get();
    auto session = std::make_shared<fabric_ib::IserTargetSession>(
        std::move(*connection), context_, *pool_, targets, std::move(options), closed_callback(id));
    add_session(std::move(session), std::move(targets), id);
  });
}

FrontSession::ClosedCallback Worker::closed_callback(uint64_t id) {
  return [this, id](FrontSession& closed, const std::string& reason) {
    // Erase later: the session is still inside its own callback. Its
    // counters move to closed_ in the same step, so a scrape never sees
    // them twice or not at all.
    asio::post(context_, [this, id, reason, gone = closed.shared_from_this()] {
      if (sessions_.erase(id) > 0) {
        account_closed(*gone, reason);
        session_count_.fetch_sub(1, std::memory_order_relaxed);
      }
      finish_stop_if_idle();
    });
  };
}

void Worker::add_session(std::shared_ptr<FrontSession> session,
                         std::shared_ptr<const TargetMap> targets, uint64_t id) {
  sessions_.emplace(id, Entry{session, std::move(targets)});
  session->start();
}

void Worker::finish_stop_if_idle() {
  if (!stopping_ || !sessions_.empty()) return;
  stop_deadline_->cancel();
  if (rdma_) rdma_->stop();
}

void Worker::account_closed(const FrontSession& session, const std::string& reason) {
  // A connection that never sent a PDU is a port probe (a load balancer's
  // health check), not a login: it leaves nothing to count.
  if (session.connection_statistics().pdus_received == 0) return;
  auto [key, counters] = session_counters(session);
  counters.sessions = 0;
  // A connection that ends before full feature phase is a failed login,
  // whether the login was refused, timed out or abandoned by the host.
  if (!session.logged_in()) counters.logins_failed = 1;
  if (const auto kind = error_of_close(reason)) ++counters.errors[static_cast<size_t>(*kind)];
  closed_[key].add(counters);
  if (!session.rdma_device().empty()) {
    closed_rdma_[std::string(session.rdma_device())].add(session.connection_statistics());
  }
}

std::vector<SessionInfo> Worker::sessions() {
  return call([this] {
    std::vector<SessionInfo> infos;
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [id, entry] : sessions_) {
      const FrontSession& session = *entry.session;
      SessionInfo info;
      info.id = id;
      info.worker = index_;
      info.fabric = std::string(session.fabric());
      info.peer = session.peer();
      info.logged_in = session.logged_in();
      if (const auto& result = session.login_result()) {
        info.parameters = result->parameters;
        info.tsih = result->tsih;
        info.initiator_name = result->parameters.session.initiator_name;
        info.target_name = result->parameters.session.target_name;
        info.discovery = result->parameters.session.session_type == iscsi::SessionType::kDiscovery;
      }
      info.age = now - session.started();
      info.active_tasks = session.active_tasks();
      info.statistics = session.statistics();
      info.stream = session.connection_statistics();
      if (const BackLeg* back = session.back_leg()) info.back = back->info();
      infos.push_back(std::move(info));
    }
    return infos;
  });
}

std::optional<std::vector<TaskInfo>> Worker::session_tasks(uint64_t id) {
  return call([this, id]() -> std::optional<std::vector<TaskInfo>> {
    const auto found = sessions_.find(id);
    if (found == sessions_.end()) return std::nullopt;
    return found->second.session->task_infos();
  });
}

bool Worker::close_session(uint64_t id, const std::string& reason) {
  return call([this, id, &reason] {
    const auto found = sessions_.find(id);
    if (found == sessions_.end()) return false;
    log::info("session {} ({}): {}", id, found->second.session->peer(), reason);
    found->second.session->close(reason);
    return true;
  });
}

size_t Worker::close_matching(
    const std::function<bool(const FrontSession&, const TargetMap*)>& doomed,
    const std::string& reason, const std::function<void()>& released) {
  std::vector<std::shared_ptr<FrontSession>> closing;
  for (const auto& [id, entry] : sessions_) {
    if (doomed(*entry.session, entry.targets.get())) closing.push_back(entry.session);
  }
  for (const auto& session : closing) {
    log::peer_info("{}: closing the session: {}", session->peer(), reason);
    if (released) {
      session->close_then(reason, released);
    } else {
      session->close(reason);
    }
  }
  return closing.size();
}

size_t Worker::close_sessions_if(std::function<bool(const FrontSession&, const TargetMap*)> doomed,
                                 const std::string& reason) {
  return call([this, &doomed, &reason] { return close_matching(doomed, reason, nullptr); });
}

void Worker::close_sessions_later(std::function<bool(const FrontSession&, const TargetMap*)> doomed,
                                  std::string reason, std::function<void()> released,
                                  std::function<void()> done) {
  asio::post(context_, [this, doomed = std::move(doomed), reason = std::move(reason),
                        released = std::move(released), done = std::move(done)] {
    close_matching(doomed, reason, released);
    done();
  });
}

WorkerMetrics Worker::metrics() {
  return call([this] {
    WorkerMetrics metrics;
    metrics.worker = index_;
    metrics.targets = closed_;
    metrics.rdma = closed_rdma_;
    for (const auto& [id, entry] : sessions_) {
      auto [key, counters] = session_counters(*entry.session);
      metrics.targets[key].add(counters);
      ++metrics.connections[std::string(entry.session->fabric())];
      if (!entry.session->rdma_device().empty()) {
        metrics.rdma[std::string(entry.session->rdma_device())].add(
            entry.session->connection_statistics());
      }
    }
    metrics.buffers = pool_->capacity();
    metrics.used_buffers = pool_->in_use();
    for (const BufferUse use :
         {BufferUse::kClaimed, BufferUse::kHostData, BufferUse::kStorageData}) {
      metrics.budget[static_cast<size_t>(use)] = pool_->budget(use);
      metrics.used_by_use[static_cast<size_t>(use)] = pool_->in_use(use);
    }
    metrics.claims_waiting = pool_->claims_waiting();
    metrics.claims_waited = pool_->claims_waited();
    metrics.claim_wait_nanoseconds = pool_->claim_wait_nanoseconds();
    return metrics;
  });
}

}  // namespace isergw::gateway
