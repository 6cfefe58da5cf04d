// Logging: spdlog, one line per event, to stderr (journald adds the time
// when run under systemd). Peer misbehaviour is logged once per connection,
// where it is decided, never per PDU.
#pragma once

#include <spdlog/spdlog.h>

namespace isergw::log {

using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::warn;

// "trace", "debug", "info", "warn" or "error"; false for anything else.
bool set_level(std::string_view level);

}  // namespace isergw::log
