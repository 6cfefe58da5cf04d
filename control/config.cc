#include "control/config.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "iscsi/iscsi_name.h"

namespace isergw::control {
namespace {

using nlohmann::json;

template <typename T>
using Result = Expected<T, ConfigError>;

ConfigError error_at(const std::string& field, std::string message) {
  return ConfigError{field, std::move(message)};
}

// Fails on any member not in `known`, so a misspelt key is an error, not a
// silently ignored setting.
Result<void> only_known_members(const json& object, const std::string& path,
                                const std::set<std::string>& known) {
  for (const auto& [key, value] : object.items()) {
    if (known.count(key) == 0) {
      std::string list;
      for (const auto& name : known)
        list += (list.empty() ? "" : ", ") + name;
      return Unexpected{error_at(path.empty() ? key : path + "." + key,
                                 "unknown setting; known here are " + list)};
    }
  }
  return {};
}

Result<std::string> string_member(const json& object, const std::string& path,
                                  const std::string& key) {
  const auto& value = object.at(key);
  if (!value.is_string()) return Unexpected{error_at(path + key, "must be a string")};
  return value.get<std::string>();
}

Result<size_t> positive_member(const json& object, const std::string& path, const std::string& key,
                               size_t limit) {
  const auto& value = object.at(key);
  if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<uint64_t>() > limit) {
    return Unexpected{
        error_at(path + key, "must be a whole number from 1 to " + std::to_string(limit))};
  }
  return static_cast<size_t>(value.get<uint64_t>());
}

Result<ChapCredentials> parse_chap(const json& value, const std::string& path) {
  if (!value.is_object()) return Unexpected{error_at(path, "must be an object {user, secret}")};
  if (auto known = only_known_members(value, path, {"user", "secret"}); !known) {
    return Unexpected{known.error()};
  }
  ChapCredentials chap;
  for (const char* key : {"user", "secret"}) {
    if (!value.contains(key)) return Unexpected{error_at(path + "." + key, "is required")};
    auto text = string_member(value, path + ".", key);
    if (!text) return Unexpected{text.error()};
    if (text->empty()) return Unexpected{error_at(path + "." + key, "must not be empty")};
    (std::string(key) == "user" ? chap.user : chap.secret) = std::move(*text);
  }
  // RFC 7143 §12.1.3 wants at least 12 bytes of secret; shorter ones are
  // refused by LIO and open-iscsi alike, so refuse them here first.
  if (chap.secret.size() < 12 || chap.secret.size() > 256) {
    return Unexpected{
        error_at(path + ".secret", "must be 12 to 256 bytes long (RFC 7143 §12.1.3)")};
  }
  return chap;
}

Result<TargetConfig> parse_target(const json& value, const std::string& path,
                                  const std::string& gateway_name) {
  if (!value.is_object()) return Unexpected{error_at(path, "must be an object")};
  if (auto known =
          only_known_members(value, path,
                             {"name", "back_end", "identity", "front_chap", "front_mutual_chap",
                              "back_chap", "back_mutual_chap", "allowed_initiators"});
      !known) {
    return Unexpected{known.error()};
  }
  TargetConfig target;
  for (const char* key : {"name", "back_end"}) {
    if (!value.contains(key)) return Unexpected{error_at(path + "." + key, "is required")};
  }
  auto name = string_member(value, path + ".", "name");
  if (!name) return Unexpected{name.error()};
  if (auto valid = iscsi::validate_iscsi_name(*name); !valid) {
    return Unexpected{error_at(path + ".name", valid.error())};
  }
  target.name = std::move(*name);

  auto url_text = string_member(value, path + ".", "back_end");
  if (!url_text) return Unexpected{url_text.error()};
  auto url = gateway::parse_back_end_url(*url_text);
  if (!url) return Unexpected{error_at(path + ".back_end", url.error())};
  target.back_end = std::move(*url);

  if (value.contains("identity")) {
    auto identity = string_member(value, path + ".", "identity");
    if (!identity) return Unexpected{identity.error()};
    if (*identity == "passthrough") {
      target.identity = BackIdentity::kPassthrough;
    } else if (*identity == "gateway") {
      target.identity = BackIdentity::kGateway;
    } else {
      return Unexpected{error_at(
          path + ".identity",
          "must be \"passthrough\" or \"gateway\" (the gateway's name is " + gateway_name + ")")};
    }
  }
  for (const auto& [key, slot] :
       {std::pair<const char*, std::optional<ChapCredentials>*>{"front_chap", &target.front_chap},
        {"front_mutual_chap", &target.front_mutual_chap},
        {"back_chap", &target.back_chap},
        {"back_mutual_chap", &target.back_mutual_chap}}) {
    if (!value.contains(key)) continue;
    auto chap = parse_chap(value.at(key), path + "." + key);
    if (!chap) return Unexpected{chap.error()};
    *slot = std::move(*chap);
  }
  if (target.front_mutual_chap && !target.front_chap) {
    return Unexpected{error_at(path + ".front_mutual_chap",
                               "needs front_chap: mutual CHAP follows one-way CHAP")};
  }
  if (target.back_mutual_chap && !target.back_chap) {
    return Unexpected{
        error_at(path + ".back_mutual_chap", "needs back_chap: mutual CHAP follows one-way CHAP")};
  }
  if (!take_url_credentials(target)) {
    return Unexpected{error_at(path + ".back_chap", "is also given in back_end's URL; keep one")};
  }
  const bool built_in = target.back_end.kind == gateway::BackEndKind::kRam ||
                        target.back_end.kind == gateway::BackEndKind::kNull;
  if (built_in && (target.back_chap || value.contains("identity"))) {
    return Unexpected{
        error_at(path + ".back_end",
                 "is built in: it has no back login, so back_chap and identity do not apply")};
  }
  if (value.contains("allowed_initiators")) {
    const auto& list = value.at("allowed_initiators");
    if (!list.is_array()) {
      return Unexpected{
          error_at(path + ".allowed_initiators", "must be a list of initiator names")};
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string item_path = path + ".allowed_initiators[" + std::to_string(i) + "]";
      if (!list[i].is_string()) return Unexpected{error_at(item_path, "must be a string")};
      auto initiator = list[i].get<std::string>();
      if (auto valid = iscsi::validate_iscsi_name(initiator); !valid) {
        return Unexpected{error_at(item_path, valid.error())};
      }
      target.allowed_initiators.push_back(std::move(initiator));
    }
  }
  return target;
}

Result<IsnsConfig> parse_isns(const json& value) {
  if (!value.is_object()) {
    return Unexpected{error_at("isns", "must be an object {server, refresh_seconds}")};
  }
  if (auto known = only_known_members(value, "isns", {"server", "refresh_seconds"}); !known) {
    return Unexpected{known.error()};
  }
  if (!value.contains("server")) return Unexpected{error_at("isns.server", "is required")};
  auto text = string_member(value, "isns.", "server");
  if (!text) return Unexpected{text.error()};
  auto server = gateway::parse_host_port(*text, gateway::Transport::kTcp);
  if (!server) return Unexpected{error_at("isns.server", server.error())};
  // parse_host_port defaults to iSCSI's port; iSNS has its own.
  const bool bracketed = text->starts_with('[');
  const size_t after_host = bracketed ? text->find(']') : 0;
  if (text->find(':', after_host) == std::string::npos) server->port = kIsnsPort;
  IsnsConfig isns{.server = std::move(*server)};
  if (value.contains("refresh_seconds")) {
    // A day at most: servers default to registration periods of minutes to
    // hours, and a longer wait would outlive any of them.
    auto seconds = positive_member(value, "isns.", "refresh_seconds", 86400);
    if (!seconds) return Unexpected{seconds.error()};
    isns.refresh_seconds = static_cast<unsigned>(*seconds);
  }
  return isns;
}

Result<ControlTls> parse_control_tls(const json& value) {
  if (!value.is_object()) {
    return Unexpected{error_at("control_tls", "must be an object {cert_file, key_file}")};
  }
  if (auto known = only_known_members(value, "control_tls", {"cert_file", "key_file"}); !known) {
    return Unexpected{known.error()};
  }
  ControlTls tls;
  for (const char* key : {"cert_file", "key_file"}) {
    const std::string path = std::string("control_tls.") + key;
    if (!value.contains(key)) return Unexpected{error_at(path, "is required: a PEM file")};
    auto text = string_member(value, "control_tls.", key);
    if (!text) return Unexpected{text.error()};
    if (text->empty()) return Unexpected{error_at(path, "must not be empty")};
    (std::string(key) == "cert_file" ? tls.cert_file : tls.key_file) = std::move(*text);
  }
  return tls;
}

json chap_to_json(const ChapCredentials& chap) {
  return {{"user", chap.user}, {"secret", "***"}};
}

}  // namespace

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8, written as a dotted quad.
  if (!host.starts_with("127.")) return false;
  int dots = 0;
  for (const char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

Expected<void, ConfigError> check_control_transport(const Config& config) {
  if (config.control_tls && config.control_allow_plain_http) {
    return Unexpected{error_at("control_allow_plain_http",
                               "control_tls is set, so the control API speaks HTTPS only; "
                               "remove one of the two")};
  }
  if (config.control_tls || config.control_allow_plain_http ||
      is_loopback_host(config.control.host)) {
    return {};
  }
  return Unexpected{error_at(
      "control", config.control.host_port() +
                     " is not a loopback address, and plain HTTP there would send tokens in the "
                     "clear: set control_tls {cert_file, key_file} for HTTPS, or "
                     "\"control_allow_plain_http\": true to accept plain HTTP")};
}

bool take_url_credentials(TargetConfig& target) {
  if (target.back_end.chap_user.empty()) return true;
  if (target.back_chap) return false;
  target.back_chap = ChapCredentials{target.back_end.chap_user, target.back_end.chap_secret};
  target.back_end.chap_user.clear();
  target.back_end.chap_secret.clear();
  return true;
}

bool same_target(const TargetConfig& a, const TargetConfig& b) {
  const auto same_chap = [](const std::optional<ChapCredentials>& x,
                            const std::optional<ChapCredentials>& y) {
    if (x.has_value() != y.has_value()) return false;
    return !x || (x->user == y->user && x->secret == y->secret);
  };
  return a.name == b.name && a.back_end.kind == b.back_end.kind &&
         a.back_end.redacted() == b.back_end.redacted() &&
         a.back_end.chap_secret == b.back_end.chap_secret && a.identity == b.identity &&
         same_chap(a.front_chap, b.front_chap) &&
         same_chap(a.front_mutual_chap, b.front_mutual_chap) &&
         same_chap(a.back_chap, b.back_chap) && same_chap(a.back_mutual_chap, b.back_mutual_chap) &&
         a.allowed_initiators == b.allowed_initiators;
}

const TargetConfig* Config::find_target(std::string_view name) const {
  for (const auto& target : targets) {
    if (target.name == name) return &target;
  }
  return nullptr;
}

Result<DiscoveryConfig> parse_discovery(const json& value) {
  if (!value.is_object()) {
    return Unexpected{error_at("discovery", "must be an object {chap, mutual_chap}")};
  }
  if (auto known = only_known_members(value, "discovery", {"chap", "mutual_chap"}); !known) {
    return Unexpected{known.error()};
  }
  DiscoveryConfig discovery;
  for (const auto& [key, slot] :
       {std::pair<const char*, std::optional<ChapCredentials>*>{"chap", &discovery.chap},
        {"mutual_chap", &discovery.mutual_chap}}) {
    if (!value.contains(key)) continue;
    auto chap = parse_chap(value.at(key), std::string("discovery.") + key);
    if (!chap) return Unexpected{chap.error()};
    *slot = std::move(*chap);
  }
  if (discovery.mutual_chap && !discovery.chap) {
    return Unexpected{error_at("discovery.mutual_chap",
                               "needs discovery.chap: mutual CHAP follows one-way CHAP")};
  }
  return discovery;
}

Expected<Config, ConfigError> config_from_json(const json& document) {
  if (!document.is_object()) return Unexpected{error_at("", "the config must be a JSON object")};
  if (auto known =
          only_known_members(document, "",
                             {"workers", "listen", "control", "control_token_file", "control_tls",
                              "control_allow_plain_http", "gateway_name", "buffers", "rdma",
                              "limits", "isns", "discovery", "targets"});
      !known) {
    return Unexpected{known.error()};
  }
  Config config = default_config();
  config.targets.clear();
  if (document.contains("workers")) {
    auto workers = positive_member(document, "", "workers", 256);
    if (!workers) return Unexpected{workers.error()};
    config.workers = static_cast<unsigned>(*workers);
  }
  if (document.contains("gateway_name")) {
    auto name = string_member(document, "", "gateway_name");
    if (!name) return Unexpected{name.error()};
    if (auto valid = iscsi::validate_iscsi_name(*name); !valid) {
      return Unexpected{error_at("gateway_name", valid.error())};
    }
    config.gateway_name = std::move(*name);
  }
  if (document.contains("listen")) {
    const auto& list = document.at("listen");
    if (!list.is_array() || list.empty()) {
      return Unexpected{error_at("listen", "must be a non-empty list of tcp:// or iser:// URLs")};
    }
    config.listen.clear();
    std::set<std::string> seen;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string path = "listen[" + std::to_string(i) + "]";
      if (!list[i].is_string()) return Unexpected{error_at(path, "must be a string")};
      auto portal = gateway::parse_listen_url(list[i].get<std::string>());
      if (!portal) return Unexpected{error_at(path, portal.error())};
      if (!seen.insert(portal->url()).second) {
        return Unexpected{error_at(path, portal->url() + " is listed twice")};
      }
      config.listen.push_back(std::move(*portal));
    }
  }
  if (document.contains("control")) {
    auto text = string_member(document, "", "control");
    if (!text) return Unexpected{text.error()};
    auto control = gateway::parse_host_port(*text, gateway::Transport::kTcp);
    if (!control) return Unexpected{error_at("control", control.error())};
    config.control = std::move(*control);
  }
  if (document.contains("control_token_file")) {
    auto path = string_member(document, "", "control_token_file");
    if (!path) return Unexpected{path.error()};
    config.control_token_file = std::move(*path);
  }
  if (document.contains("control_tls")) {
    auto tls = parse_control_tls(document.at("control_tls"));
    if (!tls) return Unexpected{tls.error()};
    config.control_tls = std::move(*tls);
  }
  if (document.contains("control_allow_plain_http")) {
    const auto& allow = document.at("control_allow_plain_http");
    if (!allow.is_boolean()) {
      return Unexpected{error_at("control_allow_plain_http", "must be true or false")};
    }
    config.control_allow_plain_http = allow.get<bool>();
  }
  if (auto transport = check_control_transport(config); !transport) {
    return Unexpected{transport.error()};
  }
  if (document.contains("buffers")) {
    const auto& buffers = document.at("buffers");
    if (!buffers.is_object()) return Unexpected{error_at("buffers", "must be an object")};
    if (auto known = only_known_members(buffers, "buffers", {"size", "per_worker"}); !known) {
      return Unexpected{known.error()};
    }
    if (buffers.contains("size")) {
      // 4 KiB to 16 MiB: a buffer must hold at least one block, and the
      // largest data segment iSCSI can carry is 16 MiB.
      auto size = positive_member(buffers, "buffers.", "size", 16 << 20);
      if (!size) return Unexpected{size.error()};
      if (*size < 4096 || *size % 4096 != 0) {
        return Unexpected{error_at("buffers.size", "must be a multiple of 4096")};
      }
      config.buffers.buffer_size = *size;
    }
    if (buffers.contains("per_worker")) {
      auto count = positive_member(buffers, "buffers.", "per_worker", 1 << 20);
      if (!count) return Unexpected{count.error()};
      config.buffers.buffers_per_worker = *count;
    }
  }
  if (document.contains("rdma")) {
    const auto& rdma = document.at("rdma");
    if (!rdma.is_object()) return Unexpected{error_at("rdma", "must be an object")};
    if (auto known = only_known_members(rdma, "rdma", {"posting"}); !known) {
      return Unexpected{known.error()};
    }
    if (rdma.contains("posting")) {
      auto text = string_member(rdma, "rdma.", "posting");
      if (!text) return Unexpected{text.error()};
      auto mode = rdma::parse_posting_mode(*text);
      if (!mode) {
        return Unexpected{error_at("rdma.posting", "must be \"auto\", \"thread\" or \"inline\"")};
      }
      config.rdma.posting = *mode;
    }
  }
  if (document.contains("limits")) {
    const auto& limits = document.at("limits");
    if (!limits.is_object()) return Unexpected{error_at("limits", "must be an object")};
    if (auto known =
            only_known_members(limits, "limits",
                               {"sessions_per_portal", "logins_per_portal", "login_timeout_seconds",
                                "data_timeout_seconds", "task_management_timeout_seconds"});
        !known) {
      return Unexpected{known.error()};
    }
    if (limits.contains("sessions_per_portal")) {
      auto sessions = positive_member(limits, "limits.", "sessions_per_portal", 1 << 20);
      if (!sessions) return Unexpected{sessions.error()};
      config.limits.sessions = *sessions;
    }
    if (limits.contains("logins_per_portal")) {
      auto logins = positive_member(limits, "limits.", "logins_per_portal", 1 << 20);
      if (!logins) return Unexpected{logins.error()};
      config.limits.logins_in_progress = *logins;
    }
    if (limits.contains("login_timeout_seconds")) {
      auto seconds = positive_member(limits, "limits.", "login_timeout_seconds", 3600);
      if (!seconds) return Unexpected{seconds.error()};
      config.limits.login_timeout_seconds = static_cast<unsigned>(*seconds);
    }
    if (limits.contains("data_timeout_seconds")) {
      auto seconds = positive_member(limits, "limits.", "data_timeout_seconds", 3600);
      if (!seconds) return Unexpected{seconds.error()};
      config.limits.data_timeout_seconds = static_cast<unsigned>(*seconds);
    }
    if (limits.contains("task_management_timeout_seconds")) {
      auto seconds = positive_member(limits, "limits.", "task_management_timeout_seconds", 3600);
      if (!seconds) return Unexpected{seconds.error()};
      config.limits.task_management_timeout_seconds = static_cast<unsigned>(*seconds);
    }
  }
  if (document.contains("isns")) {
    auto isns = parse_isns(document.at("isns"));
    if (!isns) return Unexpected{isns.error()};
    config.isns = std::move(*isns);
  }
  if (document.contains("discovery")) {
    auto discovery = parse_discovery(document.at("discovery"));
    if (!discovery) return Unexpected{discovery.error()};
    config.discovery = std::move(*discovery);
  }
  if (!document.contains("targets") || !document.at("targets").is_array()) {
    return Unexpected{error_at("targets", "is required: a list of {name, back_end}")};
  }
  const auto& targets = document.at("targets");
  for (size_t i = 0; i < targets.size(); ++i) {
    const std::string path = "targets[" + std::to_string(i) + "]";
    auto target = parse_target(targets[i], path, config.gateway_name);
    if (!target) return Unexpected{target.error()};
    if (config.find_target(target->name) != nullptr) {
      return Unexpected{error_at(path + ".name", target->name + " is configured twice")};
    }
    config.targets.push_back(std::move(*target));
  }
  return config;
}

Expected<Config, ConfigError> load_config_file(const std::string& path) {
  // Opening a FIFO (or a device) blocks until someone writes to it, and a
  // reload runs on the control API's thread: only a regular file is read.
  std::error_code error;
  if (const auto status = std::filesystem::status(path, error);
      !error && !std::filesystem::is_regular_file(status)) {
    return Unexpected{error_at("", "config file " + path + " is not a regular file")};
  }
  std::ifstream stream(path);
  if (!stream) return Unexpected{error_at("", "cannot read config file " + path)};
  std::stringstream text;
  text << stream.rdbuf();
  const json document = json::parse(text.str(), nullptr, /*allow_exceptions=*/false,
                                    /*ignore_comments=*/true);
  if (document.is_discarded()) {
    // Parse again with exceptions only to learn where the syntax broke.
    try {
      [[maybe_unused]] const json reparsed = json::parse(text.str(), nullptr, true, true);
    } catch (const json::parse_error& error) {
      return Unexpected{error_at("", path + " is not valid JSON: " + error.what())};
    }
    return Unexpected{error_at("", path + " is not valid JSON")};
  }
  auto config = config_from_json(document);
  if (!config) {
    return Unexpected{
        ConfigError{config.error().field, config.error().message + " (in " + path + ")"}};
  }
  return config;
}

json config_to_json(const Config& config) {
  json document;
  if (config.workers != 0) document["workers"] = config.workers;
  document["listen"] = json::array();
  for (const auto& portal : config.listen)
    document["listen"].push_back(portal.url());
  document["control"] = config.control.host_port();
  if (!config.control_token_file.empty())
    document["control_token_file"] = config.control_token_file;
  if (config.control_tls) {
    document["control_tls"] = {{"cert_file", config.control_tls->cert_file},
                               {"key_file", config.control_tls->key_file}};
  }
  if (config.control_allow_plain_http) document["control_allow_plain_http"] = true;
  document["gateway_name"] = config.gateway_name;
  document["buffers"] = {{"size", config.buffers.buffer_size},
                         {"per_worker", config.buffers.buffers_per_worker}};
  document["rdma"] = {{"posting", rdma::posting_mode_name(config.rdma.posting)}};
  document["limits"] = {
      {"sessions_per_portal", config.limits.sessions},
      {"logins_per_portal", config.limits.logins_in_progress},
      {"login_timeout_seconds", config.limits.login_timeout_seconds},
      {"data_timeout_seconds", config.limits.data_timeout_seconds},
      {"task_management_timeout_seconds", config.limits.task_management_timeout_seconds}};
  if (config.isns) {
    document["isns"] = {{"server", config.isns->server.host_port()},
                        {"refresh_seconds", config.isns->refresh_seconds}};
  }
  if (config.discovery.chap) {
    json& discovery = document["discovery"];
    discovery["chap"] = chap_to_json(*config.discovery.chap);
    if (config.discovery.mutual_chap)
      discovery["mutual_chap"] = chap_to_json(*config.discovery.mutual_chap);
  }
  document["targets"] = json::array();
  for (const auto& target : config.targets) {
    json entry{{"name", target.name}, {"back_end", target.back_end.redacted()}};
    const bool built_in = target.back_end.kind == gateway::BackEndKind::kRam ||
                          target.back_end.kind == gateway::BackEndKind::kNull;
    if (!built_in) {
      entry["identity"] = target.identity == BackIdentity::kPassthrough ? "passthrough" : "gateway";
    }
    if (target.front_chap) entry["front_chap"] = chap_to_json(*target.front_chap);
    if (target.front_mutual_chap)
      entry["front_mutual_chap"] = chap_to_json(*target.front_mutual_chap);
    if (target.back_chap) entry["back_chap"] = chap_to_json(*target.back_chap);
    if (target.back_mutual_chap) entry["back_mutual_chap"] = chap_to_json(*target.back_mutual_chap);
    if (!target.allowed_initiators.empty()) entry["allowed_initiators"] = target.allowed_initiators;
    document["targets"].push_back(std::move(entry));
  }
  return document;
}

Config default_config() {
  Config config;
  config.listen.push_back(*gateway::parse_listen_url("tcp://127.0.0.1:3260"));
  config.control = *gateway::parse_host_port(kDefaultControlAddress, gateway::Transport::kTcp);
  TargetConfig ram;
  ram.name = "iqn.2026-11.io.isergw:ram0";
  ram.back_end = *gateway::parse_back_end_url("ram://1G");
  config.targets.push_back(std::move(ram));
  return config;
}

}  // namespace isergw::control
