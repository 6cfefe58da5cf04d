// A small HTTP/1.1 server on Boost.Beast with a thread of its own: the REST
// API and /metrics share it. Requests are answered one at a time, in the
// order they arrive; the handler may block (it waits for workers' answers),
// which only delays other control requests, never the data path. With a
// certificate and key it speaks HTTPS only (TLS 1.2 or later, OpenSSL).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/expected.h"
#include "common/log.h"
#include "gateway/portal_address.h"

namespace isergw::control {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// The server's certificate chain and private key, PEM files.
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // Connections served at once; one more is closed as it arrives (each
  // idle one is closed after 30 s).
  static constexpr size_t kMaxConnections = 256;

  explicit HttpServer(Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving, HTTPS when `tls` is given; the error names
  // the address, or the certificate or key file, and the reason.
  Expected<void, std::string> start(const gateway::PortalAddress& address,
                                    const std::optional<TlsFiles>& tls = std::nullopt);
  void stop();
  uint16_t bound_port() const { return bound_port_; }
  bool serves_tls() const { return tls_ != nullptr; }

 private:
  void accept_next();

  Handler handler_;
  boost::asio::io_context context_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_timer_;
  std::shared_ptr<size_t> open_ = std::make_shared<size_t>(0);
  log::Throttle accept_log_;
  log::Throttle refusal_log_;
  uint16_t bound_port_ = 0;
  std::thread thread_;
};

}  // namespace isergw::control
