#include "iscsi/send_targets.h"

#include "iscsi/keys.h"

namespace isergw::iscsi {
namespace {

Unexpected<SendTargetsError> fail(std::string_view key, std::string_view value, std::string rule) {
  return Unexpected{
      SendTargetsError{std::string(key), std::string(value.substr(0, 300)), std::move(rule)}};
}

std::optional<std::uint16_t> parse_u16(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  std::uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

void add_target(KeyList& out, const DiscoveredTarget& target) {
  out.push_back({"TargetName", target.name});
  for (const auto& portal : target.portals) {
    out.push_back({"TargetAddress", format_target_address(portal)});
  }
}

}  // namespace

std::string format_target_address(const TargetPortal& portal) {
  const bool ipv6 = portal.host.find(':') != std::string::npos;
  std::string out = ipv6 ? "[" + portal.host + "]" : portal.host;
  out += ":" + std::to_string(portal.port) + "," + std::to_string(portal.portal_group_tag);
  return out;
}

Expected<TargetPortal, SendTargetsError> parse_target_address(std::string_view value) {
  constexpr std::string_view kKey = "TargetAddress";
  TargetPortal portal;
  std::string_view rest = value;
  // The portal group tag follows the last comma (RFC 7143 §13.8).
  if (const auto comma = rest.rfind(','); comma != std::string_view::npos) {
    const auto tag = parse_u16(rest.substr(comma + 1));
    if (!tag) return fail(kKey, value, "portal group tag is not a number from 0 to 65535");
    portal.portal_group_tag = *tag;
    rest = rest.substr(0, comma);
  }
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return fail(kKey, value, "IPv6 address without ']'");
    portal.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return fail(kKey, value, "text after the IPv6 address is not ':port'");
      const auto port = parse_u16(rest.substr(1));
      if (!port) return fail(kKey, value, "port is not a number from 0 to 65535");
      portal.port = *port;
    }
  } else {
    const auto colon = rest.find(':');
    if (colon != std::string_view::npos) {
      if (rest.find(':', colon + 1) != std::string_view::npos) {
        return fail(kKey, value, "IPv6 address must be in brackets (RFC 7143 §13.8)");
      }
      const auto port = parse_u16(rest.substr(colon + 1));
      if (!port) return fail(kKey, value, "port is not a number from 0 to 65535");
      portal.port = *port;
      rest = rest.substr(0, colon);
    }
    portal.host = std::string(rest);
  }
  if (portal.host.empty()) return fail(kKey, value, "empty host");
  return portal;
}

KeyList send_targets_response(std::string_view value, SessionType session_type,
                              std::string_view current_target,
                              std::span<const DiscoveredTarget> visible) {
  KeyList out;
  if (value == "All") {
    // RFC 7143 Appendix C: "All" belongs to discovery sessions.
    if (session_type != SessionType::kDiscovery) return {{"SendTargets", std::string(kReject)}};
    for (const auto& target : visible)
      add_target(out, target);
    return out;
  }
  const std::string_view wanted = value.empty() ? current_target : value;
  for (const auto& target : visible) {
    if (target.name == wanted) add_target(out, target);
  }
  return out;
}

Expected<std::vector<DiscoveredTarget>, SendTargetsError> parse_send_targets_response(
    const KeyList& keys) {
  std::vector<DiscoveredTarget> out;
  for (const auto& [key, value] : keys) {
    if (key == "TargetName") {
      if (value.empty()) return fail(key, value, "empty TargetName");
      out.push_back({value, {}});
    } else if (key == "TargetAddress") {
      if (out.empty()) return fail(key, value, "TargetAddress before any TargetName");
      auto portal = parse_target_address(value);
      if (!portal) return Unexpected{portal.error()};
      out.back().portals.push_back(std::move(portal).value());
    } else if (key == "SendTargets" && value == kReject) {
      return fail(key, value, "the target refused SendTargets");
    }
    // Other keys (TargetAlias, extensions) carry nothing needed here.
  }
  return out;
}

}  // namespace isergw::iscsi
