// Whether each target's back end answers: what /readyz and the control API's
// back-end list report.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "control/config.h"

namespace isergw::gateway {

struct BackEndHealth {
  std::string target;
  std::string back_end;  // redacted URL
  bool healthy = false;
  std::string detail;  // why not, or what was checked
};

// Built-in back ends are always healthy. For iscsi:// a TCP connection to
// the portal within `timeout` is enough: a full login would create a session
// on the storage for every probe. For iser:// an RDMA route to the portal
// is (rdma/route_resolver.h). All probes run at once.
std::vector<BackEndHealth> probe_back_ends(const std::vector<control::TargetConfig>& targets,
                                           std::chrono::milliseconds timeout);

}  // namespace isergw::gateway
