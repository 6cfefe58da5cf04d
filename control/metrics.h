// The gateway's Prometheus metrics. Nothing is counted here: at scrape time
// each worker sums its own sessions' plain counters on its own thread (plus
// what its closed sessions left behind), and this turns the sums into metric
// families. The names are a contract with the dashboards (docs/CONTROL.md).
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gateway/gateway.h"

namespace isergw::control {

// What the control API counts of its own requests (control/control_audit.h).
struct ControlRequestCounts {
  // Changes by token name: answered 2xx (applied), or refused by the
  // gateway's checks (rejected: an invalid body, an unknown name, ...).
  std::map<std::string, uint64_t> applied;
  std::map<std::string, uint64_t> rejected;
  // Requests refused before any handler ran, by (reason, token name); the
  // name is empty when no token matched.
  std::map<std::pair<std::string, std::string>, uint64_t> refused;
};

class GatewayCollector : public prometheus::Collectable {
 public:
  // `control`, when given, supplies the control API's own counts.
  explicit GatewayCollector(gateway::Gateway& gateway,
                            std::function<ControlRequestCounts()> control = nullptr)
      : gateway_(gateway), control_(std::move(control)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  gateway::Gateway& gateway_;
  std::function<ControlRequestCounts()> control_;
};

// Builds the families from workers' reports; separate so that it can be
// tested without a running gateway.
std::vector<prometheus::MetricFamily> metric_families(
    const std::vector<gateway::WorkerMetrics>& workers, const std::string& version,
    const std::vector<gateway::PortalInfo>& portals = {});

// isergw_control_changes_total and isergw_control_refused_requests_total.
std::vector<prometheus::MetricFamily> control_metric_families(const ControlRequestCounts& counts);

// The Prometheus text exposition format (version 0.0.4).
std::string serialize_metrics(const std::vector<prometheus::MetricFamily>& families);

}  // namespace isergw::control
