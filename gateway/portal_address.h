// Where a portal listens or a back end lives: a transport, a host and a port,
// parsed from the URLs an admin writes on the command line and in the config.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace isergw::gateway {

enum class Transport { kTcp, kIser };

std::string_view transport_name(Transport transport);

// The IANA port for iSCSI, and the RDMA CM port (IB service ID 0x1060CBC)
// that Linux's ib_iser dials by default.
inline constexpr uint16_t kIscsiPort = 3260;

struct PortalAddress {
  Transport transport = Transport::kTcp;
  std::string host;  // a name, an IPv4 address, or an IPv6 address without brackets
  uint16_t port = kIscsiPort;

  // host:port, with brackets around an IPv6 host, as iSCSI TargetAddress wants it.
  std::string host_port() const;
  std::string url() const;
};

// Parses "HOST[:PORT]" or "[IPV6][:PORT]".
Expected<PortalAddress, std::string> parse_host_port(std::string_view text, Transport transport);

// Parses a listen URL: tcp://ADDR[:PORT] or iser://ADDR[:PORT].
Expected<PortalAddress, std::string> parse_listen_url(std::string_view url);

}  // namespace isergw::gateway
