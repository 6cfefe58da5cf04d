// A blocking HTTP/1.1 client for the control API, on Boost.Beast: what
// isergwctl and the tests speak to the gateway with, over plain HTTP or
// HTTPS that verifies the gateway's certificate.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/expected.h"

namespace isergw::control {

struct HttpReply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

// HTTPS: the certificate must chain to a CA of `ca_file` (empty: the
// system's CAs) and name the host (DNS name, or IP address as asked).
struct TlsVerification {
  std::string ca_file;
};

class HttpClient {
 public:
  // `token`, when given, goes in Authorization; `tls`, when given, makes it
  // speak HTTPS.
  HttpClient(std::string host, uint16_t port, std::optional<std::string> token = std::nullopt,
             std::optional<TlsVerification> tls = std::nullopt);

  // One request on a fresh connection; the error is a transport failure.
  Expected<HttpReply, std::string> request(
      const std::string& method, const std::string& path, const std::string& body = "",
      const std::optional<std::string>& token_override = std::nullopt) const;

  // Percent-encodes a path segment (a portal URL, a target name).
  static std::string encode_segment(const std::string& text);

 private:
  std::string host_;
  uint16_t port_;
  std::optional<std::string> token_;
  std::optional<TlsVerification> tls_;
};

}  // namespace isergw::control
