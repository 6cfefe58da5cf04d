// The REST control API (docs/CONTROL.md, docs/openapi.yaml): routes each
// request to the running gateway and answers JSON. Requests that change
// state carry an admin token of control_token_file (control/api_tokens.h);
// without such a file every change is refused, so an unconfigured gateway
// cannot be altered by whoever reaches its control port. Every change, and
// every request refused for its token, goes to the audit trail
// (control/control_audit.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/bounded_call.h"
#include "common/expected.h"
#include "control/api_tokens.h"
#include "control/control_audit.h"
#include "control/http_server.h"
#include "control/metrics.h"
#include "gateway/gateway.h"

namespace isergw::control {

struct Route {
  std::string method;   // "GET", "POST", "PUT", "DELETE"
  std::string pattern;  // e.g. "/api/v1/targets/{name}"
};

class RestApi {
 public:
  // `tokens`: none, and changes are refused. `token_file`: where they came
  // from, read again at every config reload (rotation); empty: never.
  // `audit`: where audit lines go; null: the "audit" logger.
  RestApi(gateway::Gateway& gateway, ApiTokens tokens, std::string token_file = "",
          ControlAudit::Writer audit = nullptr);

  HttpResponse handle(const HttpRequest& request);

  // Every route the API serves, for the OpenAPI document's test.
  static std::vector<Route> routes();

 private:
  gateway::Gateway& gateway_;
  ApiTokens tokens_;
  std::string token_file_;
  // The token file is read off this thread, as the config file is
  // (Gateway::reload): a hung file system must not stop the API.
  BoundedCall<Expected<ApiTokens, std::string>> token_read_{std::chrono::seconds(5)};
  ControlAudit audit_;
  GatewayCollector collector_;
};

}  // namespace isergw::control
