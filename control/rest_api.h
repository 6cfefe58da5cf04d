// The REST control API (docs/CONTROL.md, docs/openapi.yaml): routes each
// request to the running gateway and answers JSON. Requests that change
// state carry the bearer token from control_token_file; without such a file
// every change is refused, so an unconfigured gateway cannot be altered by
// whoever reaches its control port.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
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
  // `token`: the bearer token; none: changes are refused.
  RestApi(gateway::Gateway& gateway, std::optional<std::string> token);

  HttpResponse handle(const HttpRequest& request);

  // Every route the API serves, for the OpenAPI document's test.
  static std::vector<Route> routes();

 private:
  gateway::Gateway& gateway_;
  std::optional<std::string> token_;
  GatewayCollector collector_;
};

// Reads the bearer token: the file's first line, surrounding blanks
// trimmed. Refuses a file that group or others may read, or an empty one.
Expected<std::string, std::string> read_token_file(const std::string& path);

}  // namespace isergw::control
