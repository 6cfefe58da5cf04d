// A portal's limits at work (control::PortalLimits): how many connections
// it holds and how many of them are still logging in. The acceptor admits
// each new connection or turns it away; the session it becomes gives its
// places back as it logs in and as it ends, on its worker's thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace isergw::gateway {

struct PortalLoad {
  std::atomic<size_t> connections{0};
  std::atomic<size_t> logging_in{0};
  std::atomic<uint64_t> refused{0};
};

class PortalAdmission {
 public:
  // A place for one more connection, or null (and one more refusal
  // counted) when the portal holds max_connections already, or
  // max_logging_in connections that have not finished their login. Only
  // the acceptor admits, so the check and the count cannot race each other.
  static std::shared_ptr<PortalAdmission> admit(std::shared_ptr<PortalLoad> load,
                                                size_t max_connections, size_t max_logging_in);
  ~PortalAdmission();
  PortalAdmission(const PortalAdmission&) = delete;
  PortalAdmission& operator=(const PortalAdmission&) = delete;

  // The login succeeded: its login place is free for the next host.
  void logged_in();

 private:
  explicit PortalAdmission(std::shared_ptr<PortalLoad> load) : load_(std::move(load)) {}

  std::shared_ptr<PortalLoad> load_;
  bool logging_in_ = true;
};

}  // namespace isergw::gateway
