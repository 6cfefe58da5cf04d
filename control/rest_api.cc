#include "control/rest_api.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "control/api_json.h"

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

bool same_token(std::string_view given, std::string_view token) {
  // Constant time for a given length: the comparison does not tell an
  // attacker how much of a guess was right.
  if (given.size() != token.size() || token.empty()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < token.size(); ++i)
    difference |= static_cast<unsigned char>(given[i] ^ token[i]);
  return difference == 0;
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

}  // namespace

RestApi::RestApi(gateway::Gateway& gateway, std::optional<std::string> token)
    : gateway_(gateway), token_(std::move(token)), collector_(gateway) {}

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
  if (request.method() != http::verb::get) {
    if (!token_) {
      return error_response(http::status::forbidden, "changes_disabled",
                            "changes are refused: the gateway has no control_token_file; set "
                            "one in the config and restart");
    }
    const auto raw_authorization = request[http::field::authorization];
    const std::string_view authorization(raw_authorization.data(), raw_authorization.size());
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.rfind(kBearer, 0) != 0 ||
        !same_token(authorization.substr(kBearer.size()), *token_)) {
      log::warn("control API: {} {} refused: {} bearer token", std::string(request.method_string()),
                std::string(target), authorization.empty() ? "no" : "a wrong");
      HttpResponse response = error_response(http::status::unauthorized, "unauthorized",
                                             "this request needs Authorization: Bearer <token> "
                                             "with the token of control_token_file");
      response.set(http::field::www_authenticate, "Bearer");
      return response;
    }
    log::info("control API: {} {}", std::string(request.method_string()), std::string(target));
  }
  return route->handler(gateway_, collector_, request, params);
}

Expected<std::string, std::string> read_token_file(const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    return Unexpected{"control_token_file " + path + " cannot be read: " + std::strerror(errno)};
  }
  if ((status.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Unexpected{"control_token_file " + path +
                      " may be read by group or others; chmod 600 it"};
  }
  std::ifstream file(path);
  std::string token;
  if (!file || !std::getline(file, token)) {
    return Unexpected{"control_token_file " + path + " cannot be read or is empty"};
  }
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!token.empty() && blank(token.back()))
    token.pop_back();
  while (!token.empty() && blank(token.front()))
    token.erase(0, 1);
  // A short token can be guessed over the network.
  if (token.size() < 16) {
    return Unexpected{"control_token_file " + path + ": the token must be at least 16 characters"};
  }
  return token;
}

}  // namespace isergw::control
