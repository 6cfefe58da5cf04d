// The running gateway: its workers, portals, target map and config, and the
// thread-safe operations the control plane performs on them.
//
// The target map is immutable and shared: a change builds a new one and
// swaps it in, and each session keeps the map it logged in with. So a change
// never pauses the data path; sessions of targets the change deletes or
// alters are closed (their hosts log in again under the new settings), and
// every other session carries on.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/bounded_call.h"
#include "common/expected.h"
#include "common/log.h"
#include "control/config.h"
#include "gateway/back_end_health.h"
#include "gateway/portal.h"
#include "gateway/portal_admission.h"
#include "gateway/target_map.h"
#include "gateway/worker.h"
#include "gateway/worker_reports.h"
#include "rdma/cm_id.h"

namespace isergw::gateway {

inline constexpr const char* kVersion = "0.1.0";

struct GatewayOptions {
  std::string config_path;  // what reload() reads; empty: no file to reload
  // Applied to the file at each reload: the command line's flags still win.
  std::function<void(control::Config&)> overrides;
  bool force_no_huge = false;
  std::chrono::milliseconds probe_timeout{1000};
};

// Why a change was not made. The running state is as it was before.
struct ChangeError {
  // kUnavailable: the change could not be made now, and may be later (the
  // config file did not read within its limit).
  enum class Kind { kInvalid, kNotFound, kConflict, kFailed, kUnavailable };
  Kind kind = Kind::kInvalid;
  std::string field;  // the config field at fault, when one is
  std::string message;
  std::string describe() const { return field.empty() ? message : field + ": " + message; }
};

struct PortalInfo {
  std::string url;  // as configured
  uint16_t bound_port = 0;
  bool listening = false;
  size_t connections = 0;
  size_t logins_in_progress = 0;
  uint64_t refused = 0;  // connections turned away by the portal's limits
};

struct Readiness {
  bool ready = false;
  std::vector<std::string> problems;
};

class Gateway {
 public:
  // Starts the workers and opens every portal; the error is one line.
  static Expected<std::unique_ptr<Gateway>, std::string> start(control::Config config,
                                                               GatewayOptions options);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Closes the portals and asks every host to log out within `within`;
  // changes are refused from then on.
  void drain(std::chrono::seconds within);
  size_t session_count() const;
  // Closes the portals and every session. Idempotent.
  void stop();

  control::Config config() const;
  const std::string& config_path() const { return options_.config_path; }
  std::shared_ptr<const TargetMap> targets() const;

  // Makes `next` the running config. Targets, portals and nothing else may
  // differ: workers, buffers and the control settings take a restart.
  Expected<void, ChangeError> apply(const control::Config& next);
  // Reads the --config file again and applies it.
  Expected<void, ChangeError> reload();

  // Called after every change that took effect (targets or portals), on
  // the thread that made it; e.g. to tell an iSNS server.
  void on_change(std::function<void()> callback);

  std::vector<PortalInfo> portals() const;
  Expected<PortalInfo, ChangeError> add_portal(const PortalAddress& address);
  Expected<void, ChangeError> remove_portal(const std::string& url);

  std::vector<SessionInfo> sessions();
  std::optional<SessionInfo> session(uint64_t id);
  // Its commands in flight, oldest first; nullopt for an unknown id.
  std::optional<std::vector<TaskInfo>> session_tasks(uint64_t id);
  // Force-logout: closes the session's connection. False for an unknown id.
  bool close_session(uint64_t id);

  std::vector<BackEndHealth> back_ends() const;
  // Every portal listens and every back end answers.
  Readiness readiness() const;

  std::vector<WorkerMetrics> metrics();

 private:
  Gateway(control::Config config, GatewayOptions options);
  Expected<void, std::string> open_workers();
  // Readies every worker's RDMA side: for iSER portals and iSER back ends.
  Expected<void, std::string> enable_rdma();
  // On the acceptor thread.
  Expected<std::unique_ptr<Portal>, std::string> open_listener(const PortalAddress& address);
  // A new connection's session options, with its place in the portal's
  // limits; nullopt when the portal is full (logged).
  struct Admitted {
    std::shared_ptr<const TargetMap> targets;
    FrontSessionOptions options;
  };
  // `source`: the connecting host's address (TCP or RDMA CM), empty where
  // it cannot be read, for the per-address limit.
  std::optional<Admitted> admit(const PortalAddress& portal,
                                const std::shared_ptr<PortalLoad>& load, const std::string& peer,
                                const std::string& source);
  void on_accept(boost::asio::ip::tcp::socket socket, const PortalAddress& portal,
                 const std::shared_ptr<PortalLoad>& load);
  void on_iser_connect(rdma::CmEvent&& request, const PortalAddress& portal,
                       const std::shared_ptr<PortalLoad>& load);
  Worker& least_loaded_worker();
  FrontSessionOptions session_options_locked() const;
  // FrontSessionOptions::reinstate: closes the identity's sessions on every
  // worker, then calls `done`.
  void reinstate(const SessionIdentity& identity, std::function<void()> done) const;
  template <typename Work>
  auto on_acceptor(Work work) -> decltype(work());

  GatewayOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  boost::asio::io_context acceptor_context_;  // the portals' accepts
  std::thread acceptor_thread_;
  log::Throttle refusal_log_;  // on the acceptor's thread only

  // One change at a time; held across a whole change, never on the data path.
  std::mutex change_mutex_;
  // Guards what the acceptor reads for each new connection.
  mutable std::mutex state_mutex_;
  control::Config config_;
  std::shared_ptr<const TargetMap> targets_;
  std::vector<std::unique_ptr<Portal>> listeners_;
  std::map<std::string, std::shared_ptr<PortalLoad>> loads_;  // by portal URL  // as config_.listen
  std::atomic<bool> stopped_{false};
  bool draining_ = false;            // under change_mutex_
  std::function<void()> on_change_;  // under change_mutex_
  // Reloads read the config file here: a file system that hangs the read
  // holds one thread, never the control thread and its whole API.
  BoundedCall<Expected<control::Config, control::ConfigError>> config_read_{
      std::chrono::seconds(5)};
};

}  // namespace isergw::gateway
