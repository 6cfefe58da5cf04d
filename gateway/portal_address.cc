#include "gateway/portal_address.h"

#include <charconv>

namespace isergw::gateway {

std::string_view transport_name(Transport transport) {
  return transport == Transport::kTcp ? "tcp" : "iser";
}

std::string PortalAddress::host_port() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string PortalAddress::url() const {
  return std::string(transport_name(transport)) + "://" + host_port();
}

Expected<PortalAddress, std::string> parse_host_port(std::string_view text, Transport transport) {
  PortalAddress address{transport, "", kIscsiPort};
  std::string_view port_text;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Unexpected{"'" + std::string(text) +
                        "' opens an IPv6 address with '[' but never closes it"};
    }
    address.host = std::string(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) {
      return Unexpected{"'" + std::string(text) + "' has '" + std::string(rest) +
                        "' after the IPv6 address; expected ':PORT'"};
    }
    if (!rest.empty()) port_text = rest.substr(1);
  } else {
    const size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      return Unexpected{"'" + std::string(text) +
                        "' looks like an IPv6 address; write it in brackets, e.g. [::1]:3260"};
    }
    address.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) port_text = text.substr(colon + 1);
  }
  if (address.host.empty()) return Unexpected{"'" + std::string(text) + "' names no host"};
  if (text.find(':') != std::string_view::npos && port_text.empty() &&
      (text.ends_with(':') || text.ends_with("]:"))) {
    return Unexpected{"'" + std::string(text) + "' has an empty port"};
  }
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (error != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return Unexpected{"port '" + std::string(port_text) + "' is not a number from 1 to 65535"};
    }
    address.port = static_cast<uint16_t>(value);
  }
  return address;
}

Expected<PortalAddress, std::string> parse_listen_url(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return Unexpected{"listen address '" + std::string(url) +
                      "' has no scheme; write tcp://ADDR[:PORT] or iser://ADDR[:PORT]"};
  }
  const std::string_view scheme = url.substr(0, scheme_end);
  Transport transport;
  if (scheme == "tcp") {
    transport = Transport::kTcp;
  } else if (scheme == "iser") {
    transport = Transport::kIser;
  } else {
    return Unexpected{"listen address '" + std::string(url) + "' has scheme '" +
                      std::string(scheme) + "'; the gateway listens on tcp:// and iser://"};
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) {
    return Unexpected{"listen address '" + std::string(url) + "' has a path; write " +
                      std::string(scheme) + "://ADDR[:PORT]"};
  }
  return parse_host_port(rest, transport);
}

}  // namespace isergw::gateway
