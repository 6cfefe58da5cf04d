// A portal's limits at work (control::PortalLimits): how many connections
// it holds and how many of them are still logging in, in all and from one
// source address. The acceptor admits each new connection or turns it
// away; the session it becomes gives its places back as it logs in and as
// it ends, on its worker's thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace isergw::gateway {

struct PortalLoad {
  std::atomic<size_t> connections{0};
  std::atomic<size_t> logging_in{0};
  std::atomic<uint64_t> refused{0};
  // Logins in progress by source address; workers give places back.
  std::mutex sources_mutex;
  std::unordered_map<std::string, size_t> logging_in_by_source;
};

// A source may hold this share of a portal's logins in progress, so that
// one host's idle connections cannot keep every other host out.
inline size_t logins_per_source(size_t max_logging_in) {
  return max_logging_in / 4 > 0 ? max_logging_in / 4 : 1;
}

class PortalAdmission {
 public:
  // A place for one more connection from `source` (an address; empty when
  // unknown), or null (and one more refusal counted) when the portal holds
  // max_connections already, or max_logging_in connections that have not
  // finished their login, or logins_per_source() of them from `source`.
  // Only the acceptor admits, so the checks and the counts cannot race.
  static std::shared_ptr<PortalAdmission> admit(std::shared_ptr<PortalLoad> load,
                                                const std::string& source, size_t max_connections,
                                                size_t max_logging_in);
  ~PortalAdmission();
  PortalAdmission(const PortalAdmission&) = delete;
  PortalAdmission& operator=(const PortalAdmission&) = delete;

  // The login succeeded: its login place is free for the next host.
  void logged_in();

 private:
  PortalAdmission(std::shared_ptr<PortalLoad> load, std::string source)
      : load_(std::move(load)), source_(std::move(source)) {}
  void leave_login();

  std::shared_ptr<PortalLoad> load_;
  std::string source_;
  bool logging_in_ = true;
};

}  // namespace isergw::gateway
