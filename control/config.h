// The gateway's configuration: one JSON file (docs/CONFIG.md), or the quick
// flags that build the same structure. Validated as a whole before anything
// starts, so that a bad file changes nothing and its error names the field.
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "gateway/back_end_url.h"
#include "gateway/portal_address.h"
#include "rdma/posting_mode.h"

namespace isergw::control {

struct ConfigError {
  std::string field;    // e.g. "targets[2].back_end"
  std::string message;  // e.g. "must start with iscsi://, iser://, ram:// or null://"
  std::string describe() const { return field.empty() ? message : field + ": " + message; }
};

struct ChapCredentials {
  std::string user;
  std::string secret;
};

// How the gateway names itself to the storage for a relayed session.
enum class BackIdentity {
  kPassthrough,  // the host's InitiatorName, so the storage sees the real host
  kGateway,      // the gateway's own initiator name for every host
};

struct TargetConfig {
  std::string name;  // the front target name hosts log in to
  gateway::BackEndUrl back_end;
  BackIdentity identity = BackIdentity::kPassthrough;
  // CHAP the hosts must pass (front), and the credentials the gateway shows
  // back for mutual CHAP.
  std::optional<ChapCredentials> front_chap;
  std::optional<ChapCredentials> front_mutual_chap;
  // CHAP the gateway answers toward the storage, and what it expects the
  // storage to answer for mutual CHAP.
  std::optional<ChapCredentials> back_chap;
  std::optional<ChapCredentials> back_mutual_chap;
  // Initiator names allowed to log in; empty allows every initiator.
  std::vector<std::string> allowed_initiators;
};

// Authentication of discovery sessions, apart from any target's CHAP (as
// LIO's discovery_auth): a host that fails it learns no target names.
struct DiscoveryConfig {
  std::optional<ChapCredentials> chap;         // what hosts must prove
  std::optional<ChapCredentials> mutual_chap;  // what the gateway shows back
};

struct RdmaConfig {
  // How workers post RDMA send lists (rdma/posting_mode.h).
  rdma::PostingMode posting = rdma::PostingMode::kAuto;
};

struct BufferConfig {
  size_t buffer_size = 128 * 1024;
  size_t buffers_per_worker = 512;
};

// What one portal takes at once. A connection beyond either limit is
// closed (TCP) or rejected (RDMA CM) as it arrives, before it is given a
// login, a buffer or a queue pair: a storm of connections, or of hosts that
// never finish logging in, cannot crowd out the hosts already served.
struct PortalLimits {
  size_t sessions = 1024;          // connections, logged in or not
  size_t logins_in_progress = 64;  // connections whose login is not complete
  unsigned login_timeout_seconds = 15;
  // A host asked for write data that sends none of it for this long is
  // closed, and the buffers set aside for that data return.
  unsigned data_timeout_seconds = 20;
  // A task management function the storage has not answered by then gets
  // "function rejected", and the session ends (the storage aborts its
  // tasks as the connection goes): below Linux's abort_timeout (15 s), so
  // the host hears the answer rather than timing out itself.
  unsigned task_management_timeout_seconds = 10;
};

// Registration with an iSNS server (RFC 4171), so hosts discover the
// gateway's targets and portals there instead of being told its address.
struct IsnsConfig {
  gateway::PortalAddress server;  // port 3205 unless given
  // The longest the gateway waits between refreshes; it refreshes sooner when
  // the server's registration period is shorter.
  unsigned refresh_seconds = 300;
};

// RFC 4171 §10: iSNS listens on TCP port 3205.
inline constexpr uint16_t kIsnsPort = 3205;

// The control API's certificate chain and private key, PEM files: with them
// it speaks HTTPS only.
struct ControlTls {
  std::string cert_file;
  std::string key_file;
};

inline constexpr std::string_view kDefaultGatewayName = "iqn.2026-11.io.isergw:gateway";
inline constexpr std::string_view kDefaultControlAddress = "127.0.0.1:9860";

struct Config {
  unsigned workers = 0;  // 0: one per core
  std::vector<gateway::PortalAddress> listen;
  gateway::PortalAddress control;  // REST API and /metrics
  std::string control_token_file;  // bearer tokens (control/api_tokens.h); empty: changes refused
  std::optional<ControlTls> control_tls;  // absent: plain HTTP
  // Plain HTTP on a control address that is not loopback, asked for in so
  // many words: tokens and answers then cross the network in the clear.
  bool control_allow_plain_http = false;
  std::string gateway_name = std::string(kDefaultGatewayName);
  BufferConfig buffers;
  RdmaConfig rdma;
  PortalLimits limits;
  std::optional<IsnsConfig> isns;  // absent: no iSNS registration
  DiscoveryConfig discovery;
  std::vector<TargetConfig> targets;

  const TargetConfig* find_target(std::string_view name) const;
};

// Moves CHAP credentials written into the back-end URL (user%secret@) to
// back_chap, the one place secrets are kept and redacted. False when the
// target has back_chap already: the credentials would be given twice.
bool take_url_credentials(TargetConfig& target);

// Whether two target entries agree in every setting, secrets included: a
// live config change leaves the sessions of such a target alone.
bool same_target(const TargetConfig& a, const TargetConfig& b);

// Whether a control address is loopback only: 127.0.0.0/8, ::1 or
// "localhost". A wildcard (0.0.0.0, ::) is not.
bool is_loopback_host(std::string_view host);

// Refuses plain HTTP on a control address that is not loopback, unless
// control_allow_plain_http says so; the error names the field. Run on the
// file (config_from_json) and again after command-line flags (--control).
Expected<void, ConfigError> check_control_transport(const Config& config);

// Validates a parsed JSON document against the schema of docs/CONFIG.md.
Expected<Config, ConfigError> config_from_json(const nlohmann::json& document);
// Reads, parses and validates a config file.
Expected<Config, ConfigError> load_config_file(const std::string& path);
// The config as JSON, with every CHAP secret replaced by "***".
nlohmann::json config_to_json(const Config& config);

// The embedded default: TCP on localhost, one target on a 1 GiB RAM disk.
Config default_config();

}  // namespace isergw::control
