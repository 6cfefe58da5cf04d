#include "control/rest_api.h"

#include <charconv>
#include <functional>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "control/api_json.h"
#include "iscsi/iscsi_name.h"

namespace isergw::control {

namespace http = boost::beast::http;
using nlohmann::json;

namespace {

using Params = std::vector<std::string>;

HttpResponse json_response(http::status status, const json& body) {
  HttpResponse response(status, 11);
  response.set(http::field::content_type, "application/json");
  // A peer's string that is not UTF-8 (an InitiatorAlias) is shown with
  // U+FFFD, not turned into a 500 for the whole listing.
  response.body() = body.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  return response;
}

HttpResponse error_response(http::status status, const std::string& code,
                            const std::string& message, const std::string& field = "") {
  json error{{"code", code}, {"message", message}};
  if (!field.empty()) error["field"] = field;
  return json_response(status, {{"error", std::move(error)}});
}

HttpResponse change_error(const gateway::ChangeError& error) {
  using Kind = gateway::ChangeError::Kind;
  switch (error.kind) {
    case Kind::kInvalid:
      return error_response(http::status::bad_request, "invalid_config", error.message,
                            error.field);
    case Kind::kNotFound:
      return error_response(http::status::not_found, "not_found", error.message, error.field);
    case Kind::kConflict:
      return error_response(http::status::conflict, "conflict", error.message, error.field);
    case Kind::kUnavailable:
      return error_response(http::status::service_unavailable, "unavailable", error.message,
                            error.field);
    case Kind::kFailed:
      break;
  }
  return error_response(http::status::internal_server_error, "failed", error.message, error.field);
}

HttpResponse no_content() {
  HttpResponse response(http::status::no_content, 11);
  return response;
}

std::string url_decode(std::string_view text, bool& ok) {
  std::string decoded;
  ok = true;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded += text[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= text.size()) {
      ok = false;
      return decoded;
    }
    const auto [end, error] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (error != std::errc() || end != text.data() + i + 3) {
      ok = false;
      return decoded;
    }
    decoded += static_cast<char>(value);
    i += 2;
  }
  return decoded;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  size_t start = 1;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    segments.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

// Matches "/api/v1/targets/{name}" against decoded segments; the values of
// the {placeholders} go to `params`.
bool match(const std::string& pattern, const std::vector<std::string>& segments, Params& params) {
  const std::vector<std::string> parts = split_path(pattern);
  if (parts.size() != segments.size()) return false;
  Params found;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].front() == '{') {
      if (segments[i].empty()) return false;
      found.push_back(segments[i]);
    } else if (parts[i] != segments[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

// Parses a body as JSON; nullopt with `error` set when it is not.
std::optional<json> parse_body(const HttpRequest& request, HttpResponse& error) {
  json body = json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    error = error_response(http::status::bad_request, "invalid_json",
                           "the request body is not valid JSON");
    return std::nullopt;
  }
  if (!body.is_object()) {
    error = error_response(http::status::bad_request, "invalid_json",
                           "the request body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

// A target as the API takes it: one entry of the config's "targets" list,
// validated by the same code as the config file.
Expected<TargetConfig, ConfigError> target_from_json(const json& body) {
  auto parsed = config_from_json(json{{"targets", json::array({body})}});
  if (!parsed) {
    ConfigError error = parsed.error();
    const std::string prefix = "targets[0]";
    if (error.field.rfind(prefix, 0) == 0) {
      error.field = error.field.substr(prefix.size());
      if (!error.field.empty() && error.field.front() == '.') error.field.erase(0, 1);
    }
    return Unexpected{error};
  }
  return std::move(parsed->targets.front());
}

json target_json(const Config& config, const std::string& name) {
  Config one;
  one.targets.push_back(*config.find_target(name));
  return config_to_json(one)["targets"][0];
}

std::optional<uint64_t> session_id(const std::string& text) {
  uint64_t id = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

using Handler = std::function<HttpResponse(gateway::Gateway&, GatewayCollector&, const HttpRequest&,
                                           const Params&)>;

struct RouteEntry {
  http::verb verb;
  std::string pattern;
  Handler handler;
};

HttpResponse put_target(gateway::Gateway& gateway, const HttpRequest& request,
                        const std::string& name, bool create_only) {
  HttpResponse error;
  auto body = parse_body(request, error);
  if (!body) return error;
  if (!create_only) {
    if (body->contains("name") && (*body)["name"] != name) {
      return error_response(http::status::bad_request, "invalid_config",
                            "differs from the name in the path; rename by DELETE and POST", "name");
    }
    (*body)["name"] = name;
  }
  auto target = target_from_json(*body);
  if (!target) {
    return error_response(http::status::bad_request, "invalid_config", target.error().message,
                          target.error().field);
  }
  Config next = gateway.config();
  auto existing = std::find_if(next.targets.begin(), next.targets.end(),
                               [&](const TargetConfig& t) { return t.name == target->name; });
  const bool exists = existing != next.targets.end();
  if (create_only && exists) {
    return error_response(http::status::conflict, "conflict",
                          target->name + " exists; change it with PUT", "name");
  }
  const std::string target_name = target->name;
  if (exists) {
    *existing = std::move(*target);
  } else {
    next.targets.push_back(std::move(*target));
  }
  if (auto applied = gateway.apply(next); !applied) {
    gateway::ChangeError change = applied.error();
    // Point at the body's field, not at the whole config's list.
    const std::string prefix = "targets[";
    if (change.field.rfind(prefix, 0) == 0) {
      const size_t dot = change.field.find("].");
      change.field = dot == std::string::npos ? "" : change.field.substr(dot + 2);
    }
    return change_error(change);
  }
  return json_response(exists ? http::status::ok : http::status::created,
                       target_json(gateway.config(), target_name));
}

const std::vector<RouteEntry>& route_table() {
  static const std::vector<RouteEntry> table = {
      {http::verb::get, "/api/v1/targets",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest&, const Params&) {
         return json_response(http::status::ok, config_to_json(gateway.config())["targets"]);
       }},
      {http::verb::post, "/api/v1/targets",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest& request, const Params&) {
         return put_target(gateway, request, "", true);
       }},
      {http::verb::get, "/api/v1/targets/{name}",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest&, const Params& params) {
         const Config config = gateway.config();
         if (config.find_target(params[0]) == nullptr) {
           return error_response(http::status::not_found, "not_found", "no target " + params[0]);
         }
         return json_response(http::status::ok, target_json(config, params[0]));
       }},
      {http::verb::put, "/api/v1/targets/{name}",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest& request,
          const Params& params) { return put_target(gateway, request, params[0], false); }},
      {http::verb::delete_, "/api/v1/targets/{name}",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest&, const Params& params) {
         Config next = gateway.config();
         const auto erased = std::erase_if(
             next.targets, [&](const TargetConfig& target) { return target.name == params[0]; });
         if (erased == 0) {
           return error_response(http::status::not_found, "not_found", "no target " + params[0]);
         }
         if (auto applied = gateway.apply(next); !applied) return change_error(applied.error());
         return no_content();
       }},
      {http::verb::get, "/api/v1/portals",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest&, const Params&) {
         json list = json::array();
         for (const auto& portal : gateway.portals())
           list.push_back(portal_to_json(portal));
         return json_response(http::status::ok, list);
       }},
      {http::verb::post, "/api/v1/portals",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest& request, const Params&) {
         HttpResponse error;
         auto body = parse_body(request, error);
         if (!body) return error;
         if (!body->contains("url") || !(*body)["url"].is_string()) {
           return error_response(http::status::bad_request, "invalid_config",
                                 "is required: tcp://ADDR[:PORT]", "url");
         }
         auto address = gateway::parse_listen_url((*body)["url"].get<std::string>());
         if (!address) {
           return error_response(http::status::bad_request, "invalid_config", address.error(),
                                 "url");
         }
         auto added = gateway.add_portal(*address);
         if (!added) return change_error(added.error());
         return json_response(http::status::created, portal_to_json(*added));
       }},
      {http::verb::delete_, "/api/v1/portals/{url}",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest&, const Params& params) {
         if (auto removed = gateway.remove_portal(params[0]); !removed) {
           return change_error(removed.error());
         }
         return no_content();
       }},
      {http::verb::get, "/api/v1/sessions",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest&, const Params&) {
         json list = json::array();
         for (const auto& session : gateway.sessions())
           list.push_back(session_to_json(session));
         return json_response(http::status::ok, list);
       }},
      {http::verb::get, "/api/v1/sessions/{id}",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest&, const Params& params) {
         const auto id = session_id(params[0]);
         const auto session = id ? gateway.session(*id) : std::nullopt;
         if (!session) {
           return error_response(http::status::not_found, "not_found", "no session " + params[0]);
         }
         return json_response(http::status::ok, session_to_json(*session));
       }},
      {http::verb::get, "/api/v1/sessions/{id}/tasks",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest&, const Params& params) {
         const auto id = session_id(params[0]);
         const auto tasks = id ? gateway.session_tasks(*id) : std::nullopt;
         if (!tasks) {
           return error_response(http::status::not_found, "not_found", "no session " + params[0]);
         }
         json list = json::array();
         for (const auto& task : *tasks)
           list.push_back(task_to_json(task));
         return json_response(http::status::ok, list);
       }},
      {http::verb::delete_, "/api/v1/sessions/{id}",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest&, const Params& params) {
         const auto id = session_id(params[0]);
         if (!id || !gateway.close_session(*id)) {
           return error_response(http::status::not_found, "not_found", "no session " + params[0]);
         }
         return no_content();
       }},
      {http::verb::get, "/api/v1/backends",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest&, const Params&) {
         json list = json::array();
         for (const auto& health : gateway.back_ends())
           list.push_back(health_to_json(health));
         return json_response(http::status::ok, list);
       }},
      {http::verb::get, "/api/v1/config",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest&, const Params&) {
         return json_response(http::status::ok, config_to_json(gateway.config()));
       }},
      {http::verb::post, "/api/v1/config/reload",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest&, const Params&) {
         if (auto reloaded = gateway.reload(); !reloaded) return change_error(reloaded.error());
         return json_response(http::status::ok, config_to_json(gateway.config()));
       }},
      {http::verb::get, "/healthz",
       [](gateway::Gateway&, GatewayCollector&, const HttpRequest&, const Params&) {
         return json_response(http::status::ok, {{"status", "ok"}});
       }},
      {http::verb::get, "/readyz",
       [](gateway::Gateway& gateway, GatewayCollector&, const HttpRequest&, const Params&) {
         const gateway::Readiness readiness = gateway.readiness();
         return json_response(
             readiness.ready ? http::status::ok : http::status::service_unavailable,
             {{"ready", readiness.ready}, {"problems", readiness.problems}});
       }},
      {http::verb::get, "/metrics",
       [](gateway::Gateway&, GatewayCollector& collector, const HttpRequest&, const Params&) {
         HttpResponse response(http::status::ok, 11);
         response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
         response.body() = serialize_metrics(collector.Collect());
         return response;
       }},
  };
  return table;
}

// The token of the request's Authorization header, or null.
const ApiToken* presented_token(const HttpRequest& request, const ApiTokens& tokens) {
  const auto raw = request[http::field::authorization];
  const std::string_view authorization(raw.data(), raw.size());
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.rfind(kBearer, 0) != 0) return nullptr;
  return tokens.find(authorization.substr(kBearer.size()));
}

// What a change named, for the audit line: the target, portal or session
// of its path or body, and the names of the body's fields. Never a value
// other than those names: a body may hold CHAP secrets.
std::string describe_change(const RouteEntry& route, const Params& params,
                            const HttpRequest& request) {
  std::string subject;
  const auto add = [&subject](std::string_view key, std::string_view value) {
    // Blanks escaped too, so that a name cannot pose as more fields.
    std::string text;
    for (const char c : iscsi::printable(value))
      text += c == ' ' ? std::string("\\x20") : std::string(1, c);
    subject += (subject.empty() ? "" : " ") + std::string(key) + "=" + text;
  };
  const std::vector<std::string> parts = split_path(route.pattern);
  size_t param = 0;
  for (const std::string& part : parts) {
    if (part.front() != '{' || param >= params.size()) continue;
    const std::string& value = params[param++];
    if (part == "{name}") {
      add("target", value);
    } else if (part == "{url}") {
      add("portal", value);
    } else if (part == "{id}") {
      add("session", value);
    }
  }
  const json body = json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return subject;
  if (route.pattern == "/api/v1/targets" && body.contains("name") && body["name"].is_string()) {
    add("target", body["name"].get<std::string>());
  }
  if (route.pattern == "/api/v1/portals" && body.contains("url") && body["url"].is_string()) {
    add("portal", body["url"].get<std::string>());
  }
  std::string fields;
  for (const auto& [key, value] : body.items())
    fields += (fields.empty() ? "" : ",") + key;
  if (!fields.empty()) add("fields", fields);
  return subject;
}

}  // namespace

RestApi::RestApi(gateway::Gateway& gateway, ApiTokens tokens, std::string token_file,
                 ControlAudit::Writer audit)
    : gateway_(gateway),
      tokens_(std::move(tokens)),
      token_file_(std::move(token_file)),
      audit_(std::move(audit)),
      collector_(gateway, [this] { return audit_.counts(); }) {
  audit_.know_tokens(tokens_);
}

std::vector<Route> RestApi::routes() {
  std::vector<Route> routes;
  for (const RouteEntry& entry : route_table())
    routes.push_back({std::string(http::to_string(entry.verb)), entry.pattern});
  return routes;
}

HttpResponse RestApi::handle(const HttpRequest& request) {
  const auto raw_target = request.target();
  std::string_view target(raw_target.data(), raw_target.size());
  target = target.substr(0, target.find('?'));
  std::vector<std::string> segments;
  for (const std::string& raw : split_path(target)) {
    bool ok = true;
    segments.push_back(url_decode(raw, ok));
    if (!ok) return error_response(http::status::bad_request, "bad_request", "bad %-escape");
  }
  Params params;
  std::string allowed;
  const RouteEntry* route = nullptr;
  for (const RouteEntry& entry : route_table()) {
    if (!match(entry.pattern, segments, params)) continue;
    allowed += (allowed.empty() ? "" : ", ") + std::string(http::to_string(entry.verb));
    if (entry.verb == request.method()) {
      route = &entry;
      break;
    }
  }
  if (route == nullptr) {
    if (allowed.empty()) {
      return error_response(http::status::not_found, "not_found",
                            "no such path: " + std::string(target));
    }
    HttpResponse response = error_response(
        http::status::method_not_allowed, "method_not_allowed",
        std::string(request.method_string()) + " is not " + "allowed here; allowed: " + allowed);
    response.set(http::field::allow, allowed);
    return response;
  }
  const bool change = request.method() != http::verb::get;
  const bool health = route->pattern == "/healthz" || route->pattern == "/readyz";
  const std::string method(request.method_string());
  const ApiToken* token = presented_token(request, tokens_);
  if (change && tokens_.tokens.empty()) {
    audit_.refused("changes_disabled", "", method, route->pattern, 403);
    return error_response(http::status::forbidden, "changes_disabled",
                          "changes are refused: the gateway has no control_token_file; set "
                          "one in the config and restart");
  }
  if ((change || (tokens_.reads_need_token && !health)) && token == nullptr) {
    audit_.refused("unauthorized", "", method, route->pattern, 401);
    HttpResponse response = error_response(http::status::unauthorized, "unauthorized",
                                           "this request needs Authorization: Bearer <token> "
                                           "with a token of control_token_file");
    response.set(http::field::www_authenticate, "Bearer");
    return response;
  }
  if (change && token->role != Role::kAdmin) {
    audit_.refused("read_only", token->name, method, route->pattern, 403);
    return error_response(http::status::forbidden, "forbidden",
                          "the token " + token->name + " is " +
                              std::string(role_name(token->role)) +
                              "; changes need an admin token");
  }
  if (!change) return route->handler(gateway_, collector_, request, params);

  // Copied: a reload may replace the token it was asked with.
  const std::string by = token->name;
  const std::string subject = describe_change(*route, params, request);
  std::optional<ApiTokens> reloaded_tokens;
  if (route->pattern == "/api/v1/config/reload" && !token_file_.empty()) {
    // Read before the config, so that a bad token file changes nothing.
    auto bounded = token_read_.run([path = token_file_] { return read_api_tokens_file(path); });
    if (!bounded) {
      audit_.change(by, method, route->pattern, subject, 503);
      return error_response(http::status::service_unavailable, "unavailable",
                            token_file_ +
                                ": reading it did not return within 5 s (a hung file system?); "
                                "nothing changed",
                            "control_token_file");
    }
    auto read = std::move(*bounded);
    if (!read) {
      audit_.change(by, method, route->pattern, subject, 400);
      return error_response(http::status::bad_request, "invalid_config", read.error(),
                            "control_token_file");
    }
    reloaded_tokens = std::move(*read);
  }
  HttpResponse response;
  try {
    response = route->handler(gateway_, collector_, request, params);
  } catch (...) {
    audit_.change(by, method, route->pattern, subject, 500);
    throw;
  }
  audit_.change(by, method, route->pattern, subject, response.result_int());
  if (reloaded_tokens && response.result() == http::status::ok) {
    tokens_ = std::move(*reloaded_tokens);
    audit_.tokens_reloaded(by, tokens_);
  }
  return response;
}

}  // namespace isergw::control
