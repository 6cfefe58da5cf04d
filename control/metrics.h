// The gateway's Prometheus metrics. Nothing is counted here: at scrape time
// each worker sums its own sessions' plain counters on its own thread (plus
// what its closed sessions left behind), and this turns the sums into metric
// families. The names are a contract with the dashboards (docs/CONTROL.md).
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "gateway/gateway.h"

namespace isergw::control {

class GatewayCollector : public prometheus::Collectable {
 public:
  explicit GatewayCollector(gateway::Gateway& gateway) : gateway_(gateway) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  gateway::Gateway& gateway_;
};

// Builds the families from workers' reports; separate so that it can be
// tested without a running gateway.
std::vector<prometheus::MetricFamily> metric_families(
    const std::vector<gateway::WorkerMetrics>& workers, const std::string& version,
    const std::vector<gateway::PortalInfo>& portals = {});

// The Prometheus text exposition format (version 0.0.4).
std::string serialize_metrics(const std::vector<prometheus::MetricFamily>& families);

}  // namespace isergw::control
