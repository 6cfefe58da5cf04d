#include "control/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace isergw::control {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

namespace {

// Writes the request and reads the answer on a connected stream.
template <typename Stream>
Expected<HttpReply, std::string> send_and_read(Stream& stream,
                                               const http::request<http::string_body>& request) {
  beast::error_code error;
  http::write(stream, request, error);
  if (error) return Unexpected{"cannot send the request: " + error.message()};
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response, error);
  if (error) return Unexpected{"no answer: " + error.message()};
  return HttpReply{response.result_int(), std::string(response[http::field::content_type]),
                   std::move(response.body())};
}

}  // namespace

HttpClient::HttpClient(std::string host, uint16_t port, std::optional<std::string> token,
                       std::optional<TlsVerification> tls)
    : host_(std::move(host)), port_(port), token_(std::move(token)), tls_(std::move(tls)) {}

Expected<HttpReply, std::string> HttpClient::request(
    const std::string& method, const std::string& path, const std::string& body,
    const std::optional<std::string>& token_override) const {
  asio::io_context context;
  beast::tcp_stream stream(context);
  beast::error_code error;
  asio::ip::tcp::resolver resolver(context);
  const auto endpoints = resolver.resolve(host_, std::to_string(port_), error);
  if (error) return Unexpected{"cannot resolve " + host_ + ": " + error.message()};
  stream.expires_after(std::chrono::seconds(60));
  const std::string where = host_ + ":" + std::to_string(port_);
  stream.connect(endpoints, error);
  if (error) return Unexpected{"cannot connect to " + where + ": " + error.message()};
  http::request<http::string_body> request(http::string_to_verb(method), path, 11);
  request.set(http::field::host, host_);
  request.set(http::field::user_agent, "isergwctl");
  const std::optional<std::string>& token = token_override ? token_override : token_;
  if (token && !token->empty()) request.set(http::field::authorization, "Bearer " + *token);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.keep_alive(false);
  request.prepare_payload();
  if (!tls_) {
    auto reply = send_and_read(stream, request);
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    return reply;
  }

  ssl::context tls_context(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(tls_context.native_handle(), TLS1_2_VERSION);
  if (tls_->ca_file.empty()) {
    tls_context.set_default_verify_paths(error);
  } else {
    tls_context.load_verify_file(tls_->ca_file, error);
  }
  if (error) {
    return Unexpected{"cannot load the CA certificates" +
                      (tls_->ca_file.empty() ? std::string() : " of " + tls_->ca_file) + ": " +
                      error.message()};
  }
  tls_context.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), tls_context);
  tls_stream.set_verify_callback(ssl::host_name_verification(host_));
  // SNI carries names only, never an address (RFC 6066 §3).
  boost::system::error_code not_address;
  asio::ip::make_address(host_, not_address);
  if (not_address) SSL_set_tlsext_host_name(tls_stream.native_handle(), host_.c_str());
  tls_stream.handshake(ssl::stream_base::client, error);
  if (error) {
    const long verified = SSL_get_verify_result(tls_stream.native_handle());
    std::string reason = error.message();
    if (verified != X509_V_OK) {
      reason = std::string("the certificate does not verify: ") +
               X509_verify_cert_error_string(verified);
    }
    return Unexpected{"TLS handshake with " + where + " failed: " + reason};
  }
  // The answer is whole once read (Content-Length), so the connection is
  // closed without waiting for the gateway's close_notify.
  return send_and_read(tls_stream, request);
}

std::string HttpClient::encode_segment(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string encoded;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  return encoded;
}

}  // namespace isergw::control
