// Registers the gateway's targets and portals with an iSNS server (RFC 4171)
// and keeps them registered: one network entity named after the gateway, an
// iSCSI target node per front target, a portal per listener. Refreshed before
// the server's registration period ends, re-created when the server lost it,
// removed on stop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/config.h"
#include "gateway/portal_address.h"

namespace isergw::control {

struct IsnsRegistrationInfo {
  std::string entity;                           // the Entity Identifier: gateway_name
  std::vector<std::string> targets;             // front target names
  std::vector<gateway::PortalAddress> portals;  // listeners, with their bound ports
};

// What config the daemon has, as iSNS registers it.
IsnsRegistrationInfo isns_registration_info(const Config& config);

class IsnsRegistration {
 public:
  IsnsRegistration(IsnsConfig config, IsnsRegistrationInfo info);
  // Stops, deregistering first if registered.
  ~IsnsRegistration();
  IsnsRegistration(const IsnsRegistration&) = delete;
  IsnsRegistration& operator=(const IsnsRegistration&) = delete;

  // Registers at once, then keeps the registration alive. Every exchange with
  // the server happens on a thread of its own: libisns blocks on its socket,
  // and a slow or dead server must never hold a worker or the signal loop.
  void start();
  // Deregisters if any registration succeeded (waiting at most a few seconds
  // for the server) and joins.
  void stop();

  // The targets or portals changed: registers the new set at once (a full
  // registration with Replace, so what is gone is gone from the server).
  void update(IsnsRegistrationInfo info);

  // True when the last registration or refresh succeeded.
  bool registered() const;
  // Waits until registered() or `timeout` passed; for tests and start-up logs.
  bool wait_registered(std::chrono::milliseconds timeout) const;

 private:
  void run();

  IsnsConfig config_;
  IsnsRegistrationInfo info_;
  std::thread thread_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stopping_ = false;
  bool update_pending_ = false;
  bool registered_ = false;
};

}  // namespace isergw::control
