// The JSON the REST API returns for the gateway's live state. The config
// itself is config_to_json's (control/config.h), secrets redacted.
#pragma once

#include <nlohmann/json.hpp>

#include "gateway/back_end_health.h"
#include "gateway/gateway.h"
#include "gateway/worker_reports.h"
#include "iscsi/negotiation.h"

namespace isergw::control {

nlohmann::json parameters_to_json(const iscsi::NegotiatedParameters& parameters);
nlohmann::json session_to_json(const gateway::SessionInfo& session);
nlohmann::json task_to_json(const gateway::TaskInfo& task);
nlohmann::json portal_to_json(const gateway::PortalInfo& portal);
nlohmann::json health_to_json(const gateway::BackEndHealth& health);

}  // namespace isergw::control
