#include "control/isns_registration.h"

#include <netdb.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

#include "common/log.h"

// Debian's libisns (open-isns) has a usable client API: it builds the
// DevAttrReg and DevAttrDereg messages with their TLVs from objects, and
// needs no config file when its settings are assigned in code. It is used
// rather than a client of our own. Its state is process-wide (isns_config,
// its socket list), and every call into it happens on the registration
// thread, which is what makes that safe.
extern "C" {
#include <libisns/isns.h>
#include <libisns/util.h>
}

namespace isergw::control {
namespace {

using namespace std::chrono_literals;

// Bounds each exchange, so that stop() with a server gone silent still
// returns within seconds; libisns waits a minute by default.
constexpr unsigned kCallTimeoutSeconds = 5;
// How soon a failed registration is tried again, doubling up to a minute:
// libisns prints a line of its own to stderr for each failed attempt.
constexpr std::chrono::seconds kFirstRetry = 5s;
constexpr std::chrono::seconds kLastRetry = 60s;

struct ClientDeleter {
  void operator()(isns_client_t* client) const { isns_client_destroy(client); }
};
using Client = std::unique_ptr<isns_client_t, ClientDeleter>;

struct ObjectDeleter {
  void operator()(isns_object_t* object) const { isns_object_release(object); }
};
using Object = std::unique_ptr<isns_object_t, ObjectDeleter>;

struct SimpleDeleter {
  void operator()(isns_simple_t* message) const { isns_simple_free(message); }
};
using Simple = std::unique_ptr<isns_simple_t, SimpleDeleter>;

// One connection per exchange: after a server restart the old connection is
// dead, and a fresh one is the simplest way to never reuse it.
Client connect_to(const IsnsConfig& config, const std::string& source) {
  isns_assign_string(&isns_config.ic_server_name, config.server.host_port().c_str());
  // RFC 4171 authentication blocks are not supported: the server must take
  // unauthenticated registrations (open-isns: Security = 0).
  isns_config.ic_security = 0;
  isns_config.ic_network.call_timeout = kCallTimeoutSeconds;
  isns_config.ic_network.connect_timeout = kCallTimeoutSeconds;
  return Client(isns_create_client(nullptr, source.c_str()));
}

// The address and port a portal is registered under. A wildcard listener is
// registered as the local address toward the iSNS server: hosts that reach
// the server most likely reach the gateway the same way.
std::optional<isns_portal_info_t> portal_info(const gateway::PortalAddress& portal,
                                              isns_client_t* client) {
  isns_portal_info_t info{};
  const bool wildcard = portal.host.empty() || portal.host == "0.0.0.0" || portal.host == "::";
  if (wildcard) {
    if (!isns_client_get_local_address(client, &info)) return std::nullopt;
    isns_addr_set_port(reinterpret_cast<sockaddr*>(&info.addr), portal.port);
    info.proto = IPPROTO_TCP;
    return info;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(portal.port);
  if (getaddrinfo(portal.host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  isns_portal_init(&info, found->ai_addr, IPPROTO_TCP);
  freeaddrinfo(found);
  return info;
}

struct Outcome {
  bool registered = false;
  std::chrono::seconds period{0};  // the server's registration period; 0 when none
  std::string error;               // why not registered
};

Outcome register_entity(const IsnsConfig& config, const IsnsRegistrationInfo& info) {
  Client client = connect_to(config, info.targets.front());
  if (!client) return {.error = "cannot resolve " + config.server.host_port()};
  Object entity(isns_create_entity(ISNS_ENTITY_PROTOCOL_ISCSI, info.entity.c_str()));
  std::vector<Object> children;
  for (const auto& portal : info.portals) {
    auto address = portal_info(portal, client.get());
    if (!address) {
      log::warn("iSNS: cannot resolve portal {}; not registered", portal.host_port());
      continue;
    }
    children.emplace_back(isns_create_portal(&*address, entity.get()));
  }
  for (const auto& target : info.targets) {
    children.emplace_back(
        isns_create_storage_node(target.c_str(), ISNS_ISCSI_TARGET_MASK, entity.get()));
  }
  isns_simple_t* message = isns_create_registration(client.get(), entity.get());
  // Replace: the server drops what an earlier registration of this entity
  // held and the config no longer has (RFC 4171 §5.6.5.1, the Replace flag).
  isns_registration_set_replace(message, 1);
  isns_registration_add_object(message, entity.get());
  for (const auto& child : children)
    isns_registration_add_object(message, child.get());
  const int status = isns_client_call(client.get(), &message);
  Simple response(message);
  if (status != ISNS_SUCCESS) return {.error = isns_strerror(static_cast<isns_status>(status))};
  Outcome outcome;
  outcome.registered = true;
  isns_object_list_t objects = ISNS_OBJECT_LIST_INIT;
  if (isns_registration_response_get_objects(response.get(), &objects) == ISNS_SUCCESS) {
    for (unsigned i = 0; i < objects.iol_count; ++i) {
      uint32_t seconds = 0;
      if (isns_object_is_entity(objects.iol_data[i]) &&
          isns_object_get_uint32(objects.iol_data[i], ISNS_TAG_REGISTRATION_PERIOD, &seconds)) {
        outcome.period = std::chrono::seconds(seconds);
      }
    }
  }
  isns_object_list_destroy(&objects);
  return outcome;
}

bool deregister_entity(const IsnsConfig& config, const IsnsRegistrationInfo& info) {
  Client client = connect_to(config, info.targets.front());
  if (!client) return false;
  isns_attr_list_t keys = ISNS_ATTR_LIST_INIT;
  isns_attr_list_append_string(&keys, ISNS_TAG_ENTITY_IDENTIFIER, info.entity.c_str());
  isns_simple_t* message = isns_create_deregistration(client.get(), &keys);
  isns_attr_list_destroy(&keys);
  const int status = isns_client_call(client.get(), &message);
  Simple response(message);
  if (status != ISNS_SUCCESS) {
    log::warn("iSNS: deregistration from {} failed: {}", config.server.host_port(),
              isns_strerror(static_cast<isns_status>(status)));
    return false;
  }
  return true;
}

// When to refresh: within the configured bound, and at two thirds of the
// server's period so that one lost refresh still leaves time for a retry.
std::chrono::seconds refresh_after(const IsnsConfig& config, std::chrono::seconds period) {
  std::chrono::seconds wait(config.refresh_seconds);
  if (period.count() > 0) wait = std::min(wait, std::max(1s, period * 2 / 3));
  return wait;
}

}  // namespace

IsnsRegistrationInfo isns_registration_info(const Config& config) {
  IsnsRegistrationInfo info;
  info.entity = config.gateway_name;
  for (const auto& target : config.targets)
    info.targets.push_back(target.name);
  info.portals = config.listen;
  return info;
}

IsnsRegistration::IsnsRegistration(IsnsConfig config, IsnsRegistrationInfo info)
    : config_(std::move(config)), info_(std::move(info)) {}

IsnsRegistration::~IsnsRegistration() {
  stop();
}

void IsnsRegistration::start() {
  if (thread_.joinable()) return;
  if (info_.targets.empty()) {
    log::info("iSNS: no targets to register");
    return;
  }
  thread_ = std::thread([this] { run(); });
}

void IsnsRegistration::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool IsnsRegistration::registered() const {
  std::lock_guard lock(mutex_);
  return registered_;
}

bool IsnsRegistration::wait_registered(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return registered_; });
}

void IsnsRegistration::update(IsnsRegistrationInfo info) {
  std::lock_guard lock(mutex_);
  info_ = std::move(info);
  update_pending_ = true;
  changed_.notify_all();
}

void IsnsRegistration::run() {
  // libisns writes to its socket without MSG_NOSIGNAL: a server that reset
  // the connection must cost an EPIPE here, not the process. SIGINT and
  // SIGTERM stay with the threads that wait for them.
  sigset_t blocked;
  sigemptyset(&blocked);
  for (int signal : {SIGPIPE, SIGINT, SIGTERM})
    sigaddset(&blocked, signal);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);

  // Logged on changes only: a server that stays down is one line, not one
  // every retry.
  std::optional<std::string> last_error;
  std::chrono::seconds retry = kFirstRetry;
  // A failed refresh does not mean the server forgot the entity, so stopping
  // deregisters whenever any registration succeeded.
  bool ever_registered = false;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    update_pending_ = false;
    const IsnsRegistrationInfo info = info_;
    lock.unlock();
    const Outcome outcome = register_entity(config_, info);
    lock.lock();
    registered_ = outcome.registered;
    ever_registered = ever_registered || outcome.registered;
    changed_.notify_all();
    if (outcome.error != last_error) {
      if (outcome.registered) {
        log::info("iSNS: registered {} with {}: {} targets, {} portals", info_.entity,
                  config_.server.host_port(), info_.targets.size(), info_.portals.size());
      } else {
        log::warn("iSNS: registration with {} failed: {}; retrying", config_.server.host_port(),
                  outcome.error);
      }
      last_error = outcome.error;
    }
    std::chrono::seconds wait = refresh_after(config_, outcome.period);
    if (outcome.registered) {
      retry = kFirstRetry;
    } else {
      wait = std::min(wait, retry);
      retry = std::min(retry * 2, kLastRetry);
    }
    changed_.wait_for(lock, wait, [this] { return stopping_ || update_pending_; });
  }
  if (ever_registered) {
    lock.unlock();
    const bool removed = deregister_entity(config_, info_);
    lock.lock();
    registered_ = false;
    if (removed) log::info("iSNS: deregistered {}", info_.entity);
  }
  changed_.notify_all();
}

}  // namespace isergw::control
