// Logging: spdlog, one line per event, to stderr (journald adds the time
// when run under systemd). Peer misbehaviour is logged once per connection,
// where it is decided, never per PDU.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>

namespace isergw::log {

using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::warn;

// "trace", "debug", "info", "warn" or "error"; false for anything else.
bool set_level(std::string_view level);

// One log line per interval for an event that can repeat without end (an
// accept loop out of descriptors once logged 200,000 lines a second):
// allow() is true at most once per interval, and says how many were
// suppressed since the last line.
class Throttle {
 public:
  explicit Throttle(std::chrono::steady_clock::duration interval = std::chrono::seconds(10))
      : interval_(interval) {}
  bool allow(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    if (logged_once_ && now - last_ < interval_) {
      ++suppressed_;
      return false;
    }
    logged_once_ = true;
    last_ = now;
    reported_ = suppressed_;
    suppressed_ = 0;
    return true;
  }
  // Suppressed before the line allow() just let through.
  uint64_t suppressed() const { return reported_; }

 private:
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_{};
  bool logged_once_ = false;
  uint64_t suppressed_ = 0;
  uint64_t reported_ = 0;
};

}  // namespace isergw::log
