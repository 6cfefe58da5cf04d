#include "gateway/gateway.h"

#include <rdma/rdma_cma.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <set>

#include "common/log.h"
#include "fabric_ib/iser_listener.h"
#include "fabric_tcp/listener.h"
#include "gateway/dpdk_memory.h"
#include "iscsi/iscsi_name.h"
#include "rdma/cm_id.h"

namespace isergw::gateway {

namespace asio = boost::asio;

namespace {

ChangeError invalid(std::string field, std::string message) {
  return ChangeError{ChangeError::Kind::kInvalid, std::move(field), std::move(message)};
}

// TargetMap::build names the target it failed on ("target NAME: ..."); the
// API wants the config field.
ChangeError map_error(const control::Config& config, const std::string& error) {
  for (size_t i = 0; i < config.targets.size(); ++i) {
    if (error.rfind("target " + config.targets[i].name + ":", 0) == 0) {
      return invalid("targets[" + std::to_string(i) + "].back_end", error);
    }
  }
  return invalid("targets", error);
}

bool is_wildcard(const std::string& host) {
  return host == "0.0.0.0" || host == "::";
}

}  // namespace

template <typename Work>
auto Gateway::on_acceptor(Work work) -> decltype(work()) {
  std::packaged_task<decltype(work())()> task(std::move(work));
  auto result = task.get_future();
  asio::post(acceptor_context_, [&task] { task(); });
  return result.get();
}

Gateway::Gateway(control::Config config, GatewayOptions options)
    : options_(std::move(options)), config_(std::move(config)) {}

Gateway::~Gateway() {
  stop();
}

Expected<std::unique_ptr<Gateway>, std::string> Gateway::start(control::Config config,
                                                               GatewayOptions options) {
  auto targets = TargetMap::build(config);
  if (!targets) return Unexpected{targets.error()};
  std::unique_ptr<Gateway> gateway(new Gateway(std::move(config), std::move(options)));
  gateway->targets_ = std::move(*targets);
  if (auto opened = gateway->open_workers(); !opened) return Unexpected{opened.error()};
  if (gateway->targets_->relays_over_iser()) {
    if (auto enabled = gateway->enable_rdma(); !enabled) {
      return Unexpected{"an iSER back end needs RDMA: " + enabled.error()};
    }
  }

  gateway->acceptor_thread_ = std::thread([context = &gateway->acceptor_context_] {
    const asio::any_io_executor work =
        asio::prefer(context->get_executor(), asio::execution::outstanding_work.tracked);
    context->run();
  });
  const std::vector<PortalAddress> portals = gateway->config_.listen;
  for (const auto& portal : portals) {
    auto listener = gateway->on_acceptor([&] { return gateway->open_listener(portal); });
    if (!listener) return Unexpected{listener.error()};
    gateway->listeners_.push_back(std::move(*listener));
  }
  return gateway;
}

Expected<void, std::string> Gateway::open_workers() {
  const unsigned count =
      config_.workers != 0 ? config_.workers : std::max(1U, std::thread::hardware_concurrency());
  // Pools for every worker, plus room for DPDK's own structures.
  const size_t pool_megabytes =
      count * config_.buffers.buffers_per_worker * config_.buffers.buffer_size >> 20;
  auto memory = start_dpdk_memory(
      {.no_huge_megabytes = pool_megabytes + 64, .force_no_huge = options_.force_no_huge});
  if (!memory) return Unexpected{memory.error()};
  // Pool names are process-wide in DPDK; a second gateway in one process
  // (the tests) needs names of its own.
  static std::atomic<unsigned> generation{0};
  const unsigned this_generation = generation++;
  for (unsigned i = 0; i < count; ++i) {
    std::string name = "worker" + std::to_string(i);
    if (this_generation > 0) name = "g" + std::to_string(this_generation) + name;
    auto worker = Worker::create(i,
                                 {.name = name,
                                  .buffer_size = config_.buffers.buffer_size,
                                  .buffer_count = config_.buffers.buffers_per_worker},
                                 config_.rdma.posting);
    if (!worker) return Unexpected{worker.error()};
    (*worker)->start();
    workers_.push_back(std::move(*worker));
  }
  return {};
}

Expected<void, std::string> Gateway::enable_rdma() {
  for (auto& worker : workers_) {
    if (auto enabled = worker->enable_rdma(); !enabled) return enabled;
  }
  return {};
}

Expected<std::unique_ptr<Portal>, std::string> Gateway::open_listener(
    const PortalAddress& address) {
  auto load = std::make_shared<PortalLoad>();
  std::unique_ptr<Portal> portal;
  if (address.transport == Transport::kIser) {
    auto listener = std::make_unique<fabric_ib::IserListener>(
        acceptor_context_, address, [this, address, load](rdma::CmEvent&& request) {
          on_iser_connect(std::move(request), address, load);
        });
    if (auto opened = listener->open(); !opened) return Unexpected{opened.error()};
    // Connect requests wait on this thread until the workers can take them.
    if (auto enabled = enable_rdma(); !enabled) {
      listener->close();
      return Unexpected{"cannot listen on " + address.url() + ": " + enabled.error()};
    }
    portal = std::move(listener);
  } else {
    auto listener = std::make_unique<fabric_tcp::Listener>(
        acceptor_context_, address, [this, address, load](asio::ip::tcp::socket socket) {
          on_accept(std::move(socket), address, load);
        });
    if (auto opened = listener->open(); !opened) return Unexpected{opened.error()};
    portal = std::move(listener);
  }
  std::lock_guard lock(state_mutex_);
  loads_[address.url()] = std::move(load);
  return portal;
}

Worker& Gateway::least_loaded_worker() {
  // Exact balancing: the worker with the fewest sessions takes it.
  Worker* least = workers_.front().get();
  for (auto& worker : workers_) {
    if (worker->session_count() < least->session_count()) least = worker.get();
  }
  return *least;
}

std::optional<Gateway::Admitted> Gateway::admit(const PortalAddress& portal,
                                                const std::shared_ptr<PortalLoad>& load,
                                                const std::string& peer,
                                                const std::string& source) {
  Admitted admitted;
  control::PortalLimits limits;
  {
    std::lock_guard lock(state_mutex_);
    admitted.targets = targets_;
    admitted.options = session_options_locked();
    limits = config_.limits;
  }
  admitted.options.admission =
      PortalAdmission::admit(load, source, limits.sessions, limits.logins_in_progress);
  if (!admitted.options.admission) {
    // A host that keeps connecting is turned away again and again.
    if (refusal_log_.allow()) {
      log::warn(
          "portal {}: turned away {}: {} connections (limit {}), {} logging in (limit {}, {} "
          "from one address; {} more turned away since the last such line)",
          portal.url(), peer, load->connections.load(), limits.sessions, load->logging_in.load(),
          limits.logins_in_progress, logins_per_source(limits.logins_in_progress),
          refusal_log_.suppressed());
    }
    return std::nullopt;
  }
  return admitted;
}

void Gateway::on_iser_connect(rdma::CmEvent&& request, const PortalAddress& portal,
                              const std::shared_ptr<PortalLoad>& load) {
  // One host holds no more than its share of the logins in progress, on an
  // iSER portal as on a TCP one: its address, without the port, is what the
  // limit counts (empty when it cannot be read).
  const std::string source = rdma::address_text(rdma_get_peer_addr(request.id), false);
  auto admitted = admit(portal, load,
                        source.empty() ? "an iSER connect request" : "iSER host " + source, source);
  if (!admitted) {
    rdma_reject(request.id, nullptr, 0);
    rdma_destroy_id(request.id);
    return;
  }
  least_loaded_worker().adopt_iser(std::move(request), std::move(admitted->targets),
                                   std::move(admitted->options));
}

void Gateway::on_accept(asio::ip::tcp::socket socket, const PortalAddress& portal,
                        const std::shared_ptr<PortalLoad>& load) {
  boost::system::error_code error;
  const auto remote = socket.remote_endpoint(error);
  const std::string source = error ? std::string() : remote.address().to_string();
  auto admitted = admit(portal, load, error ? "a connection" : source, source);
  if (!admitted) {
    socket.close(error);
    return;
  }
  const auto protocol = socket.local_endpoint().protocol();
  least_loaded_worker().adopt(protocol, socket.release(), std::move(admitted->targets),
                              std::move(admitted->options));
}

FrontSessionOptions Gateway::session_options_locked() const {
  FrontSessionOptions options;
  options.login_timeout = std::chrono::seconds(config_.limits.login_timeout_seconds);
  options.data_timeout = std::chrono::seconds(config_.limits.data_timeout_seconds);
  options.task_management_timeout =
      std::chrono::seconds(config_.limits.task_management_timeout_seconds);
  options.reinstate = [this](const SessionIdentity& identity, std::function<void()> done) {
    reinstate(identity, std::move(done));
  };
  for (const auto& listener : listeners_) {
    const PortalAddress& portal = listener->address();
    // SendTargets lists the port actually bound, which differs for port 0.
    options.portals.push_back({is_wildcard(portal.host) ? std::string() : portal.host,
                               listener->bound_port(), options.portal_group_tag});
  }
  return options;
}

void Gateway::reinstate(const SessionIdentity& identity, std::function<void()> done) const {
  // The old session may run on any worker. The new login goes on once every
  // worker has looked and every old session's back leg has let go of the
  // storage (logged out, at most BackSessionOptions::logout_timeout): the
  // storage has then ended the old session's commands, so none of them can
  // land after the new session's, even under the gateway's own name, where
  // the storage sees another ISID and would not reinstate by itself.
  // Workers are fixed once the gateway runs, so the count holds.
  struct Round {
    std::atomic<size_t> pending{0};
    std::function<void()> done;
    void finish_one() {
      if (pending.fetch_sub(1) == 1) done();
    }
  };
  if (workers_.empty()) {
    done();
    return;
  }
  auto round = std::make_shared<Round>();
  round->pending = workers_.size();
  round->done = std::move(done);
  std::string isid;
  for (const uint8_t byte : identity.isid)
    isid += fmt::format("{:02x}", byte);
  const std::string reason = "reinstated: " + iscsi::printable(identity.initiator_name) +
                             " logged in again with ISID 0x" + isid + " (RFC 7143 §6.3.5)";
  for (auto& worker : workers_) {
    worker->close_sessions_later(
        [identity, round](const FrontSession& session, const TargetMap*) {
          const auto& result = session.login_result();
          const bool doomed = session.logged_in() && result && identity.matches(*result);
          // Counted before this worker's own finish_one(), so the count
          // cannot reach zero while it still looks.
          if (doomed) ++round->pending;
          return doomed;
        },
        reason, [round] { round->finish_one(); }, [round] { round->finish_one(); });
  }
}

void Gateway::drain(std::chrono::seconds within) {
  std::lock_guard change(change_mutex_);
  if (stopped_ || draining_) return;
  draining_ = true;
  on_acceptor([this] {
    std::lock_guard lock(state_mutex_);
    for (auto& listener : listeners_)
      listener->close();
  });
  for (auto& worker : workers_)
    worker->drain(within);
}

size_t Gateway::session_count() const {
  size_t count = 0;
  for (const auto& worker : workers_)
    count += worker->session_count();
  return count;
}

void Gateway::stop() {
  std::lock_guard change(change_mutex_);
  if (stopped_) return;
  stopped_ = true;
  if (acceptor_thread_.joinable()) {
    on_acceptor([this] {
      for (auto& listener : listeners_)
        listener->close();
    });
  }
  for (auto& worker : workers_)
    worker->stop();
  if (acceptor_thread_.joinable()) {
    acceptor_context_.stop();
    acceptor_thread_.join();
  }
  std::lock_guard lock(state_mutex_);
  listeners_.clear();
}

control::Config Gateway::config() const {
  std::lock_guard lock(state_mutex_);
  return config_;
}

std::shared_ptr<const TargetMap> Gateway::targets() const {
  std::lock_guard lock(state_mutex_);
  return targets_;
}

Expected<void, ChangeError> Gateway::apply(const control::Config& next) {
  std::lock_guard change(change_mutex_);
  if (stopped_ || draining_) {
    return Unexpected{ChangeError{ChangeError::Kind::kConflict, "", "the gateway is stopping"}};
  }
  const control::Config current = config();
  // These size or place what exists only once per process.
  const char* restart = "takes effect only when the gateway starts; restart it to change this";
  if (next.workers != current.workers) return Unexpected{invalid("workers", restart)};
  if (next.buffers.buffer_size != current.buffers.buffer_size ||
      next.buffers.buffers_per_worker != current.buffers.buffers_per_worker) {
    return Unexpected{invalid("buffers", restart)};
  }
  if (next.rdma.posting != current.rdma.posting) return Unexpected{invalid("rdma", restart)};
  if (next.control.url() != current.control.url()) return Unexpected{invalid("control", restart)};
  if (next.control_token_file != current.control_token_file) {
    return Unexpected{invalid("control_token_file", restart)};
  }
  const auto tls_files = [](const control::Config& config) {
    return config.control_tls ? config.control_tls->cert_file + "\n" + config.control_tls->key_file
                              : std::string();
  };
  if (tls_files(next) != tls_files(current)) return Unexpected{invalid("control_tls", restart)};
  if (next.control_allow_plain_http != current.control_allow_plain_http) {
    return Unexpected{invalid("control_allow_plain_http", restart)};
  }
  if (next.listen.empty()) return Unexpected{invalid("listen", "needs at least one portal")};

  const std::shared_ptr<const TargetMap> old_targets = targets();
  auto built = TargetMap::build(next, old_targets.get());
  if (!built) return Unexpected{map_error(next, built.error())};
  if ((*built)->relays_over_iser()) {
    if (auto enabled = enable_rdma(); !enabled) {
      const auto& targets = next.targets;
      const size_t index = static_cast<size_t>(
          std::find_if(targets.begin(), targets.end(),
                       [](const auto& t) { return t.back_end.kind == BackEndKind::kIser; }) -
          targets.begin());
      return Unexpected{invalid("targets[" + std::to_string(index) + "].back_end",
                                "an iSER back end needs RDMA: " + enabled.error())};
    }
  }

  // Portals: open the new ones first, so that a port already taken leaves
  // everything as it was.
  std::set<std::string> wanted;
  for (const auto& portal : next.listen)
    wanted.insert(portal.url());
  std::set<std::string> have;
  for (const auto& portal : current.listen)
    have.insert(portal.url());
  std::vector<std::unique_ptr<Portal>> opened;
  for (size_t i = 0; i < next.listen.size(); ++i) {
    if (have.count(next.listen[i].url()) > 0) continue;
    auto listener = on_acceptor([&] { return open_listener(next.listen[i]); });
    if (!listener) {
      on_acceptor([&] {
        for (auto& done : opened)
          done->close();
        opened.clear();
      });
      return Unexpected{invalid("listen[" + std::to_string(i) + "]", listener.error())};
    }
    opened.push_back(std::move(*listener));
  }

  std::vector<std::unique_ptr<Portal>> removed;
  {
    std::lock_guard lock(state_mutex_);
    std::vector<std::unique_ptr<Portal>> kept;
    for (auto& listener : listeners_) {
      (wanted.count(listener->address().url()) > 0 ? kept : removed).push_back(std::move(listener));
    }
    for (auto& listener : opened)
      kept.push_back(std::move(listener));
    // Keep the configured order, which SendTargets follows.
    listeners_.clear();
    for (const auto& portal : next.listen) {
      for (auto& listener : kept) {
        if (listener && listener->address().url() == portal.url()) {
          listeners_.push_back(std::move(listener));
          break;
        }
      }
    }
    config_ = next;
    targets_ = *built;
  }
  if (!removed.empty()) {
    on_acceptor([&] {
      for (auto& listener : removed) {
        log::info("portal {} closed", listener->address().url());
        std::lock_guard lock(state_mutex_);
        loads_.erase(listener->address().url());
        listener->close();
      }
      // Destroyed here too: an acceptor belongs to this thread.
      removed.clear();
    });
  }
  for (const auto& portal : next.listen) {
    if (have.count(portal.url()) == 0) log::info("portal {} opened", portal.url());
  }

  std::set<std::string> changed;
  for (const auto& target : current.targets) {
    const control::TargetConfig* now = next.find_target(target.name);
    if (now == nullptr) {
      changed.insert(target.name);
      log::info("target {} removed", target.name);
    } else if (!control::same_target(target, *now)) {
      changed.insert(target.name);
      log::info("target {} changed: {}", target.name, now->back_end.redacted());
    }
  }
  for (const auto& target : next.targets) {
    if (current.find_target(target.name) == nullptr) {
      log::info("target {} added: {}", target.name, target.back_end.redacted());
    }
  }
  if (!changed.empty()) {
    const TargetMap* fresh = built->get();
    for (auto& worker : workers_) {
      worker->close_sessions_if(
          [&](const FrontSession& session, const TargetMap* map) {
            if (map == fresh) return false;
            if (session.logged_in()) {
              const auto& result = session.login_result();
              return !result || changed.count(result->parameters.session.target_name) > 0;
            }
            // A login under way finishes against the map it began with. One
            // that names an untouched target finds it there as it is now
            // (with the same built-in disk); one that names a changed
            // target, or has named none yet, could open an old form of it,
            // so its host logs in again.
            const auto target = session.target_of_login();
            return !target || changed.count(*target) > 0;
          },
          "its target was changed or removed by the admin");
    }
  }
  if (on_change_) on_change_();
  return {};
}

void Gateway::on_change(std::function<void()> callback) {
  std::lock_guard change(change_mutex_);
  on_change_ = std::move(callback);
}

Expected<void, ChangeError> Gateway::reload() {
  if (options_.config_path.empty()) {
    return Unexpected{ChangeError{ChangeError::Kind::kConflict, "",
                                  "the gateway was started without --config: nothing to reload"}};
  }
  auto read =
      config_read_.run([path = options_.config_path] { return control::load_config_file(path); });
  if (!read) {
    const std::string why = read.error() == BoundedCallFailure::kBusy
                                ? "an earlier read of it has still not returned"
                                : "reading it took over 5 s";
    log::warn("reload of {} refused, the running config stays: {} (a hung file system?)",
              options_.config_path, why);
    return Unexpected{
        ChangeError{ChangeError::Kind::kUnavailable, "",
                    options_.config_path + ": " + why + "; the running config stays"}};
  }
  auto loaded = std::move(*read);
  if (!loaded) {
    log::warn("reload of {} refused, the running config stays: {}", options_.config_path,
              loaded.error().describe());
    return Unexpected{invalid(loaded.error().field, loaded.error().message)};
  }
  if (options_.overrides) options_.overrides(*loaded);
  auto applied = apply(*loaded);
  if (!applied) {
    log::warn("reload of {} refused, the running config stays: {}", options_.config_path,
              applied.error().describe());
    return applied;
  }
  log::info("reloaded {}", options_.config_path);
  return {};
}

std::vector<PortalInfo> Gateway::portals() const {
  std::lock_guard lock(state_mutex_);
  std::vector<PortalInfo> portals;
  for (const auto& listener : listeners_) {
    const uint16_t port = listener->bound_port();
    PortalInfo info{listener->address().url(), port, port != 0};
    if (const auto found = loads_.find(info.url); found != loads_.end()) {
      info.connections = found->second->connections;
      info.logins_in_progress = found->second->logging_in;
      info.refused = found->second->refused;
    }
    portals.push_back(std::move(info));
  }
  return portals;
}

Expected<PortalInfo, ChangeError> Gateway::add_portal(const PortalAddress& address) {
  control::Config next = config();
  for (const auto& portal : next.listen) {
    if (portal.url() == address.url()) {
      return Unexpected{
          ChangeError{ChangeError::Kind::kConflict, "url", address.url() + " is already a portal"}};
    }
  }
  next.listen.push_back(address);
  if (auto applied = apply(next); !applied) {
    ChangeError error = applied.error();
    if (error.field.rfind("listen", 0) == 0) error.field = "url";
    return Unexpected{error};
  }
  for (const PortalInfo& portal : portals()) {
    if (portal.url == address.url()) return portal;
  }
  return Unexpected{ChangeError{ChangeError::Kind::kFailed, "", "the portal closed at once"}};
}

Expected<void, ChangeError> Gateway::remove_portal(const std::string& url) {
  control::Config next = config();
  const auto found = std::find_if(next.listen.begin(), next.listen.end(),
                                  [&](const PortalAddress& portal) { return portal.url() == url; });
  if (found == next.listen.end()) {
    return Unexpected{ChangeError{ChangeError::Kind::kNotFound, "", "no portal " + url}};
  }
  if (next.listen.size() == 1) {
    return Unexpected{ChangeError{ChangeError::Kind::kConflict, "",
                                  url + " is the last portal; add another one first"}};
  }
  next.listen.erase(found);
  return apply(next);
}

std::vector<SessionInfo> Gateway::sessions() {
  std::vector<SessionInfo> all;
  if (stopped_) return all;
  for (auto& worker : workers_) {
    auto some = worker->sessions();
    all.insert(all.end(), std::make_move_iterator(some.begin()),
               std::make_move_iterator(some.end()));
  }
  std::sort(all.begin(), all.end(),
            [](const SessionInfo& a, const SessionInfo& b) { return a.id < b.id; });
  return all;
}

std::optional<SessionInfo> Gateway::session(uint64_t id) {
  for (auto& info : sessions()) {
    if (info.id == id) return std::move(info);
  }
  return std::nullopt;
}

std::optional<std::vector<TaskInfo>> Gateway::session_tasks(uint64_t id) {
  if (stopped_) return std::nullopt;
  for (auto& worker : workers_) {
    if (auto tasks = worker->session_tasks(id)) return tasks;
  }
  return std::nullopt;
}

bool Gateway::close_session(uint64_t id) {
  if (stopped_) return false;
  for (auto& worker : workers_) {
    if (worker->close_session(id, "logged out by the admin")) return true;
  }
  return false;
}

std::vector<BackEndHealth> Gateway::back_ends() const {
  return probe_back_ends(config().targets, options_.probe_timeout);
}

Readiness Gateway::readiness() const {
  Readiness readiness;
  for (const PortalInfo& portal : portals()) {
    if (!portal.listening) readiness.problems.push_back("portal " + portal.url + " is not open");
  }
  for (const BackEndHealth& health : back_ends()) {
    if (!health.healthy) {
      readiness.problems.push_back("target " + health.target + ": " + health.detail);
    }
  }
  readiness.ready = readiness.problems.empty();
  return readiness;
}

std::vector<WorkerMetrics> Gateway::metrics() {
  std::vector<WorkerMetrics> all;
  if (stopped_) return all;
  for (auto& worker : workers_)
    all.push_back(worker->metrics());
  return all;
}

}  // namespace isergw::gateway
