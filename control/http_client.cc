#include "control/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace isergw::control {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

HttpClient::HttpClient(std::string host, uint16_t port, std::optional<std::string> token)
    : host_(std::move(host)), port_(port), token_(std::move(token)) {}

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
  stream.connect(endpoints, error);
  if (error) {
    return Unexpected{"cannot connect to " + host_ + ":" + std::to_string(port_) + ": " +
                      error.message()};
  }
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
  http::write(stream, request, error);
  if (error) return Unexpected{"cannot send the request: " + error.message()};
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response, error);
  if (error) return Unexpected{"no answer: " + error.message()};
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  return HttpReply{response.result_int(), std::string(response[http::field::content_type]),
                   std::move(response.body())};
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
