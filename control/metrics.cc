#include "control/metrics.h"

#include <prometheus/text_serializer.h>

#include <limits>
#include <map>
#include <sstream>

namespace isergw::control {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

MetricFamily family(std::string name, std::string help, MetricType type) {
  return MetricFamily{std::move(name), std::move(help), type, {}};
}

void add_counter(MetricFamily& family, Labels labels, double value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.counter.value = value;
  family.metric.push_back(std::move(metric));
}

void add_gauge(MetricFamily& family, Labels labels, double value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
}

void add_histogram(MetricFamily& family, Labels labels,
                   const gateway::LatencyHistogram& histogram) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.histogram.sample_count = histogram.count();
  metric.histogram.sample_sum = histogram.sum_seconds();
  uint64_t cumulative = 0;
  const auto& counts = histogram.counts();
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    const double bound = i < gateway::LatencyHistogram::kBucketCount
                             ? gateway::LatencyHistogram::upper_bound(i)
                             : std::numeric_limits<double>::infinity();
    metric.histogram.bucket.push_back({cumulative, bound});
  }
  family.metric.push_back(std::move(metric));
}

}  // namespace

std::vector<MetricFamily> metric_families(const std::vector<gateway::WorkerMetrics>& workers,
                                          const std::string& version,
                                          const std::vector<gateway::PortalInfo>& portals) {
  std::map<gateway::TargetKey, gateway::TargetCounters> targets;
  std::map<std::string, uint64_t> connections{{"tcp", 0}};
  for (const auto& worker : workers) {
    for (const auto& [key, counters] : worker.targets)
      targets[key].add(counters);
    for (const auto& [fabric, count] : worker.connections)
      connections[fabric] += count;
  }

  auto commands =
      family("isergw_commands_total", "SCSI commands received from hosts", MetricType::Counter);
  auto read_bytes =
      family("isergw_read_bytes_total", "Bytes of read data sent to hosts", MetricType::Counter);
  auto written_bytes = family("isergw_written_bytes_total",
                              "Bytes of write data received from hosts", MetricType::Counter);
  auto fetched_ahead =
      family("isergw_written_bytes_fetched_ahead_total",
             "Bytes of write data fetched from hosts before the storage asked for them",
             MetricType::Counter);
  auto split = family("isergw_back_split_commands_total",
                      "Commands sent to the storage as several, each no larger than one command "
                      "of the back end carries (an iser:// back end's command buffer)",
                      MetricType::Counter);
  auto transitions =
      family("isergw_task_transitions_total",
             "Moves of commands into each state (at_storage, waiting_for_buffers, "
             "receiving_data, completed, aborted), and illegal ones (to=\"illegal\": "
             "a bug of the gateway's, each also logged)",
             MetricType::Counter);
  auto errors = family("isergw_errors_total",
                       "Errors by kind: protocol violations, digest mismatches, rejected PDUs, "
                       "timeouts, back-end failures",
                       MetricType::Counter);
  auto digests = family("isergw_digest_errors_total",
                        "Digest mismatches in PDUs from hosts, by digest (header or data)",
                        MetricType::Counter);
  auto logins = family("isergw_logins_total", "Front logins by result", MetricType::Counter);
  auto sessions = family("isergw_sessions", "Logged-in normal sessions", MetricType::Gauge);
  auto latency = family("isergw_command_latency_seconds",
                        "Command latency: front from command to status, back from submission to "
                        "the back end's completion",
                        MetricType::Histogram);
  for (const auto& [key, counters] : targets) {
    const auto& [fabric, target] = key;
    const Labels labels{{"fabric", fabric}, {"target", target}};
    add_counter(commands, labels, static_cast<double>(counters.commands));
    add_counter(read_bytes, labels, static_cast<double>(counters.read_bytes));
    add_counter(written_bytes, labels, static_cast<double>(counters.written_bytes));
    add_counter(fetched_ahead, labels, static_cast<double>(counters.written_bytes_fetched_ahead));
    add_counter(split, labels, static_cast<double>(counters.back_split_commands));
    for (size_t state = 0; state < gateway::kTaskStateCount; ++state) {
      add_counter(transitions,
                  {{"fabric", fabric},
                   {"target", target},
                   {"to", gateway::task_state_name(static_cast<gateway::TaskState>(state))}},
                  static_cast<double>(counters.task_transitions[state]));
    }
    add_counter(transitions, {{"fabric", fabric}, {"target", target}, {"to", "illegal"}},
                static_cast<double>(counters.illegal_task_transitions));
    for (size_t kind = 0; kind < gateway::kErrorKindCount; ++kind) {
      add_counter(
          errors,
          {{"fabric", fabric}, {"kind", gateway::kErrorKindNames[kind]}, {"target", target}},
          static_cast<double>(counters.errors[kind]));
    }
    const uint64_t all_digests = counters.errors[static_cast<size_t>(gateway::ErrorKind::kDigest)];
    add_counter(digests, {{"digest", "data"}, {"fabric", fabric}, {"target", target}},
                static_cast<double>(counters.data_digest_errors));
    add_counter(digests, {{"digest", "header"}, {"fabric", fabric}, {"target", target}},
                static_cast<double>(all_digests - counters.data_digest_errors));
    add_counter(logins, {{"fabric", fabric}, {"result", "failure"}, {"target", target}},
                static_cast<double>(counters.logins_failed));
    add_counter(logins, {{"fabric", fabric}, {"result", "success"}, {"target", target}},
                static_cast<double>(counters.logins_succeeded));
    // Discovery sessions and failed logins have no target: no session gauge
    // or latency for them.
    if (target.empty()) continue;
    add_gauge(sessions, labels, static_cast<double>(counters.sessions));
    add_histogram(latency, {{"fabric", fabric}, {"leg", "back"}, {"target", target}},
                  counters.back_latency);
    add_histogram(latency, {{"fabric", fabric}, {"leg", "front"}, {"target", target}},
                  counters.front_latency);
  }

  auto connection_gauge = family("isergw_connections", "Open front connections", MetricType::Gauge);
  for (const auto& [fabric, count] : connections)
    add_gauge(connection_gauge, {{"fabric", fabric}}, static_cast<double>(count));

  auto buffers = family("isergw_buffer_pool_buffers", "Buffers in the worker's pool (capacity)",
                        MetricType::Gauge);
  auto used = family("isergw_buffer_pool_used_buffers", "Buffers of the worker's pool in use",
                     MetricType::Gauge);
  auto budget = family("isergw_buffer_pool_budget_buffers",
                       "Buffers of the worker's pool set apart for one use", MetricType::Gauge);
  auto budget_used = family("isergw_buffer_pool_budget_used_buffers",
                            "Buffers of one use's budget in use", MetricType::Gauge);
  auto waiting =
      family("isergw_buffer_claims_waiting",
             "Commands waiting for buffers to be set aside for their data", MetricType::Gauge);
  auto waited = family("isergw_buffer_claim_waits_total",
                       "Commands that waited for buffers for their data", MetricType::Counter);
  auto wait_seconds = family("isergw_buffer_claim_wait_seconds_total",
                             "Time commands spent waiting for buffers", MetricType::Counter);
  static constexpr std::array<const char*, gateway::kBufferUses> kUses = {"claimed", "host_data",
                                                                          "storage_data"};
  for (const auto& worker : workers) {
    const Labels labels{{"worker", std::to_string(worker.worker)}};
    add_gauge(buffers, labels, static_cast<double>(worker.buffers));
    add_gauge(used, labels, static_cast<double>(worker.used_buffers));
    for (size_t use = 0; use < kUses.size(); ++use) {
      const Labels by_use{{"use", kUses[use]}, {"worker", std::to_string(worker.worker)}};
      add_gauge(budget, by_use, static_cast<double>(worker.budget[use]));
      add_gauge(budget_used, by_use, static_cast<double>(worker.used_by_use[use]));
    }
    add_gauge(waiting, labels, static_cast<double>(worker.claims_waiting));
    add_counter(waited, labels, static_cast<double>(worker.claims_waited));
    add_counter(wait_seconds, labels, static_cast<double>(worker.claim_wait_nanoseconds) / 1e9);
  }

  // Fed by the iSER fabric's connections, by device; no device, no sample.
  auto posted = family("isergw_rdma_posted_work_requests_total",
                       "Work requests posted to RDMA queue pairs", MetricType::Counter);
  auto completion_errors =
      family("isergw_rdma_completion_errors_total", "RDMA work completions with an error status",
             MetricType::Counter);
  auto doorbells =
      family("isergw_rdma_doorbells_total", "RDMA doorbell rings", MetricType::Counter);
  auto handed_over = family("isergw_rdma_send_lists_handed_over_total",
                            "RDMA send lists handed to a posting thread", MetricType::Counter);
  std::map<std::string, gateway::RdmaCounters> devices;
  for (const auto& worker : workers) {
    for (const auto& [device, counters] : worker.rdma)
      devices[device].add(counters);
  }
  // A box with no RDMA device still has the families, at zero under
  // device="none": a dashboard panel shows 0 rather than "no data", and an
  // alert can tell "no RDMA" from "no scrape".
  if (devices.empty()) devices["none"] = {};
  for (const auto& [device, counters] : devices) {
    const Labels labels{{"device", device}};
    add_counter(posted, labels, static_cast<double>(counters.work_requests));
    add_counter(completion_errors, labels, static_cast<double>(counters.completion_errors));
    add_counter(doorbells, labels, static_cast<double>(counters.doorbells));
    add_counter(handed_over, labels, static_cast<double>(counters.lists_handed_over));
  }

  auto refused =
      family("isergw_portal_refused_connections_total",
             "Connections a portal turned away at its session or login limit", MetricType::Counter);
  for (const auto& portal : portals)
    add_counter(refused, {{"portal", portal.url}}, static_cast<double>(portal.refused));

  auto build = family("isergw_build_info", "The running isergw's version", MetricType::Gauge);
  add_gauge(build, {{"version", version}}, 1);

  return {std::move(commands),
          std::move(read_bytes),
          std::move(written_bytes),
          std::move(fetched_ahead),
          std::move(split),
          std::move(transitions),
          std::move(errors),
          std::move(digests),
          std::move(logins),
          std::move(sessions),
          std::move(connection_gauge),
          std::move(buffers),
          std::move(used),
          std::move(budget),
          std::move(budget_used),
          std::move(waiting),
          std::move(waited),
          std::move(wait_seconds),
          std::move(latency),
          std::move(posted),
          std::move(completion_errors),
          std::move(doorbells),
          std::move(handed_over),
          std::move(refused),
          std::move(build)};
}

std::vector<MetricFamily> control_metric_families(const ControlRequestCounts& counts) {
  auto changes = family("isergw_control_changes_total",
                        "Changes asked of the control API, by token name and result: applied, or "
                        "rejected by the gateway's checks",
                        MetricType::Counter);
  for (const auto& [token, count] : counts.applied)
    add_counter(changes, {{"result", "applied"}, {"token", token}}, static_cast<double>(count));
  for (const auto& [token, count] : counts.rejected)
    add_counter(changes, {{"result", "rejected"}, {"token", token}}, static_cast<double>(count));
  auto refused = family("isergw_control_refused_requests_total",
                        "Control API requests refused for their token: unauthorized (none or "
                        "unknown), read_only (a change with a read-only token), changes_disabled "
                        "(no control_token_file)",
                        MetricType::Counter);
  for (const auto& [key, count] : counts.refused)
    add_counter(refused, {{"reason", key.first}, {"token", key.second}},
                static_cast<double>(count));
  return {std::move(changes), std::move(refused)};
}

std::vector<MetricFamily> GatewayCollector::Collect() const {
  auto families = metric_families(gateway_.metrics(), gateway::kVersion, gateway_.portals());
  if (control_) {
    for (auto& control : control_metric_families(control_()))
      families.push_back(std::move(control));
  }
  return families;
}

std::string serialize_metrics(const std::vector<MetricFamily>& families) {
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, families);
  return text.str();
}

}  // namespace isergw::control
