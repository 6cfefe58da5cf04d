// SendTargets (RFC 7143 §13.3, Appendix C): the target's answer in a
// discovery (or normal) session's Text exchange, and the initiator's reading
// of it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "iscsi/negotiation.h"
#include "iscsi/text_keys.h"

namespace isergw::iscsi {

// RFC 7143 §13.8 TargetAddress: domainname[:port][,portal-group-tag], IPv6
// addresses in brackets.
struct TargetPortal {
  std::string host;  // without brackets
  std::uint16_t port = 3260;
  std::uint16_t portal_group_tag = 1;

  friend bool operator==(const TargetPortal&, const TargetPortal&) = default;
};

struct DiscoveredTarget {
  std::string name;
  std::vector<TargetPortal> portals;

  friend bool operator==(const DiscoveredTarget&, const DiscoveredTarget&) = default;
};

std::string format_target_address(const TargetPortal& portal);

struct SendTargetsError {
  std::string key;
  std::string value;
  std::string rule;

  std::string message() const { return "SendTargets key '" + key + "'='" + value + "': " + rule; }
};

Expected<TargetPortal, SendTargetsError> parse_target_address(std::string_view value);

// The answer to SendTargets=<value> (RFC 7143 Appendix C): "All" lists every
// target in `visible` (Discovery sessions only; a Normal session gets
// SendTargets=Reject), a name lists that target, and the empty value lists
// `current_target` (Normal sessions). `visible` holds the targets this
// initiator may see, already filtered by the caller's access control.
KeyList send_targets_response(std::string_view value, SessionType session_type,
                              std::string_view current_target,
                              std::span<const DiscoveredTarget> visible);

// Reads a SendTargets answer (parsed with repeated TargetName/TargetAddress
// allowed): every TargetAddress belongs to the TargetName before it.
Expected<std::vector<DiscoveredTarget>, SendTargetsError> parse_send_targets_response(
    const KeyList& keys);

}  // namespace isergw::iscsi
