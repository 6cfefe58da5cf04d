#include "common/log.h"

#include <string>

namespace isergw::log {

bool set_level(std::string_view level) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  // from_str answers "off" for anything it does not know.
  if (parsed == spdlog::level::off && level != "off") return false;
  spdlog::set_level(parsed);
  return true;
}

Throttle& peer_throttle() {
  thread_local Throttle throttle(std::chrono::seconds(1), kPeerLinesPerSecond);
  return throttle;
}

}  // namespace isergw::log
