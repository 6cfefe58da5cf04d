// What a worker reports to the control plane: its sessions, both legs of
// each, and its counters. Gathered on the worker's own thread when asked,
// then handed over as plain values.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "gateway/front_session.h"
#include "gateway/latency_histogram.h"
#include "gateway/legs.h"
#include "iscsi/negotiation.h"

namespace isergw::gateway {

struct SessionInfo {
  uint64_t id = 0;  // unique in the gateway; what force-logout names
  unsigned worker = 0;
  std::string fabric;  // "tcp" or "iser"
  std::string peer;    // the host's address and port
  bool logged_in = false;
  bool discovery = false;
  std::string initiator_name;
  std::string target_name;
  uint16_t tsih = 0;
  std::optional<iscsi::NegotiatedParameters> parameters;
  std::chrono::steady_clock::duration age{};
  size_t active_tasks = 0;
  FrontSessionStatistics statistics;
  ConnectionStatistics stream;
  std::optional<BackLegInfo> back;
};

// The label values of isergw_errors_total{kind}.
enum class ErrorKind { kProtocol, kDigest, kRejected, kTimeout, kBackEnd, kRefused, kTaskSetFull };
inline constexpr size_t kErrorKindCount = 7;
inline constexpr std::array<const char*, kErrorKindCount> kErrorKindNames = {
    "protocol", "digest", "rejected", "timeout", "back_end", "refused", "task_set_full"};

// Counters of one target on one fabric: closed sessions' totals plus the
// live sessions' current values.
struct TargetCounters {
  uint64_t commands = 0;
  uint64_t read_bytes = 0;
  uint64_t written_bytes = 0;
  uint64_t written_bytes_fetched_ahead = 0;
  uint64_t back_split_commands = 0;
  std::array<uint64_t, kTaskStateCount> task_transitions{};  // into each TaskState
  uint64_t illegal_task_transitions = 0;
  std::array<uint64_t, kErrorKindCount> errors{};
  uint64_t data_digest_errors = 0;  // of errors[kDigest]
  uint64_t logins_succeeded = 0;
  uint64_t logins_failed = 0;
  uint64_t sessions = 0;  // a gauge: live normal sessions only
  LatencyHistogram front_latency;
  LatencyHistogram back_latency;

  void add(const TargetCounters& other) {
    commands += other.commands;
    read_bytes += other.read_bytes;
    written_bytes += other.written_bytes;
    written_bytes_fetched_ahead += other.written_bytes_fetched_ahead;
    back_split_commands += other.back_split_commands;
    for (size_t i = 0; i < task_transitions.size(); ++i)
      task_transitions[i] += other.task_transitions[i];
    illegal_task_transitions += other.illegal_task_transitions;
    for (size_t i = 0; i < errors.size(); ++i)
      errors[i] += other.errors[i];
    data_digest_errors += other.data_digest_errors;
    logins_succeeded += other.logins_succeeded;
    logins_failed += other.logins_failed;
    sessions += other.sessions;
    front_latency.merge(other.front_latency);
    back_latency.merge(other.back_latency);
  }
};

// The RDMA work of one device's connections.
struct RdmaCounters {
  uint64_t work_requests = 0;
  uint64_t doorbells = 0;
  uint64_t completion_errors = 0;
  uint64_t lists_handed_over = 0;

  void add(const ConnectionStatistics& connection) {
    work_requests += connection.rdma_work_requests;
    doorbells += connection.rdma_doorbells;
    completion_errors += connection.rdma_completion_errors;
    lists_handed_over += connection.rdma_lists_handed_over;
  }
  void add(const RdmaCounters& other) {
    work_requests += other.work_requests;
    doorbells += other.doorbells;
    completion_errors += other.completion_errors;
    lists_handed_over += other.lists_handed_over;
  }
};

// Keyed by (fabric, target). The target is empty for discovery sessions and
// for connections that never completed a login, whose target is unknown.
using TargetKey = std::pair<std::string, std::string>;

struct WorkerMetrics {
  unsigned worker = 0;
  std::map<TargetKey, TargetCounters> targets;
  std::map<std::string, uint64_t> connections;  // by fabric
  std::map<std::string, RdmaCounters> rdma;     // by RDMA device
  size_t buffers = 0;
  size_t used_buffers = 0;
  // By use (gateway/buffer_pool.h): the budget and what is in use of it.
  std::array<size_t, kBufferUses> budget{};
  std::array<size_t, kBufferUses> used_by_use{};
  // Commands waiting for buffers now; those that waited, and how long.
  size_t claims_waiting = 0;
  uint64_t claims_waited = 0;
  uint64_t claim_wait_nanoseconds = 0;
};

}  // namespace isergw::gateway
