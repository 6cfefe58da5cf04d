// Logging: spdlog, one line per event, to stderr (journald adds the time
// when run under systemd). Peer misbehaviour is logged once per connection,
// where it is decided, never per PDU.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <utility>

namespace isergw::log {

using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::trace;
using spdlog::warn;

// "trace", "debug", "info", "warn" or "error"; false for anything else.
bool set_level(std::string_view level);

// At most `burst` log lines per interval for an event that can repeat
// without end (an accept loop out of descriptors once logged 200,000 lines
// a second): allow() says whether this one goes out, and suppressed() how
// many were left out before it.
class Throttle {
 public:
  explicit Throttle(std::chrono::steady_clock::duration interval = std::chrono::seconds(10),
                    uint64_t burst = 1)
      : interval_(interval), burst_(burst) {}
  bool allow(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    if (started_ && now - window_start_ < interval_) {
      if (in_window_ >= burst_) {
        ++suppressed_;
        return false;
      }
      ++in_window_;
      reported_ = 0;
      return true;
    }
    started_ = true;
    window_start_ = now;
    in_window_ = 1;
    reported_ = suppressed_;
    suppressed_ = 0;
    return true;
  }
  // Suppressed before the line allow() just let through.
  uint64_t suppressed() const { return reported_; }

 private:
  std::chrono::steady_clock::duration interval_;
  uint64_t burst_;
  std::chrono::steady_clock::time_point window_start_{};
  bool started_ = false;
  uint64_t in_window_ = 0;
  uint64_t suppressed_ = 0;
  uint64_t reported_ = 0;
};

// Lines a peer can cause as often as it likes (a login refused, a PDU
// rejected, a connection closed): each thread lets out at most this many a
// second, and the first line after a gap says how many it left out. A flood
// of bad hosts then costs a bounded log, and a worker never waits on
// another for it (the throttle is the thread's own).
inline constexpr uint64_t kPeerLinesPerSecond = 100;
Throttle& peer_throttle();

template <typename... Args>
void peer(spdlog::level::level_enum level, spdlog::format_string_t<Args...> format,
          Args&&... args) {
  // A line the log level hides takes nothing of the allowance: hidden info
  // lines must not crowd out the warnings that show.
  if (!spdlog::should_log(level)) return;
  Throttle& throttle = peer_throttle();
  if (!throttle.allow()) return;
  if (throttle.suppressed() > 0) {
    spdlog::log(level, "({} more lines caused by peers were left out in the last second)",
                throttle.suppressed());
  }
  spdlog::log(level, format, std::forward<Args>(args)...);
}
template <typename... Args>
void peer_warn(spdlog::format_string_t<Args...> format, Args&&... args) {
  peer(spdlog::level::warn, format, std::forward<Args>(args)...);
}
template <typename... Args>
void peer_info(spdlog::format_string_t<Args...> format, Args&&... args) {
  peer(spdlog::level::info, format, std::forward<Args>(args)...);
}

}  // namespace isergw::log
