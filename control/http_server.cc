#include "control/http_server.h"

#include <openssl/ssl.h>
#include <sys/stat.h>

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <type_traits>

#include "common/log.h"

namespace isergw::control {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

// Large enough for any config the API takes, small enough that a stray
// client cannot make the gateway hold much memory.
constexpr size_t kBodyLimit = 1 << 20;
constexpr auto kIdleTimeout = std::chrono::seconds(30);
// A client has this long to send its first bytes and finish the TLS
// handshake: a port scanner holds no connection slot for 30 s.
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
// Out of descriptors, accepting again at once only spins: wait a little.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

bool out_of_descriptors(const boost::system::error_code& error) {
  return error == asio::error::no_descriptors || error == asio::error::no_buffer_space ||
         error == asio::error::no_memory || error.value() == ENFILE;
}

// One place of the server's connection count, held from accept to close.
class OpenSlot {
 public:
  explicit OpenSlot(std::shared_ptr<size_t> open) : open_(std::move(open)) { ++*open_; }
  OpenSlot(OpenSlot&& other) noexcept : open_(std::move(other.open_)) {}
  OpenSlot(const OpenSlot&) = delete;
  OpenSlot& operator=(const OpenSlot&) = delete;
  OpenSlot& operator=(OpenSlot&&) = delete;
  ~OpenSlot() {
    if (open_) --*open_;
  }

 private:
  std::shared_ptr<size_t> open_;  // the server's count, on its thread
};

// One client connection, plain (beast::tcp_stream) or TLS (TlsStream).
template <typename Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  // `buffer`: bytes already read from the client (while telling TLS from
  // plain HTTP).
  Connection(Stream stream, const HttpServer::Handler& handler, OpenSlot slot,
             beast::flat_buffer buffer = {})
      : stream_(std::move(stream)),
        handler_(handler),
        slot_(std::move(slot)),
        buffer_(std::move(buffer)) {}

  void handshake_then_read() requires kTls {
    tcp_layer().expires_after(kHandshakeTimeout);
    stream_.async_handshake(
        ssl::stream_base::server, buffer_.data(),
        [self = this->shared_from_this()](beast::error_code error, size_t used) {
          if (error) {
            log::debug("control connection: TLS handshake: {}", error.message());
            self->close();
            return;
          }
          self->buffer_.consume(used);
          self->read_next();
        });
  }

  // A plain HTTP request on the HTTPS port hears why it is refused.
  void refuse_plain_http() requires(!kTls) {
    respond_and_close(http::status::bad_request,
                      "this port speaks HTTPS only: use https:// (docs/CONTROL.md)");
  }

  void read_next() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    tcp_layer().expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code error, size_t) {
                       self->on_read(error);
                     });
  }

 private:
  beast::tcp_stream& tcp_layer() { return beast::get_lowest_layer(stream_); }

  void on_read(beast::error_code error) {
    if (error == http::error::end_of_stream || error == beast::error::timeout) {
      close();
      return;
    }
    if (error) {
      if (error == http::error::body_limit) {
        respond_and_close(http::status::payload_too_large, "the body is over 1 MiB");
        return;
      }
      if (error == http::error::header_limit) {
        respond_and_close(http::status::request_header_fields_too_large,
                          "the request header is over 8 KiB");
        return;
      }
      if (error.category() == http::make_error_code(http::error::bad_target).category()) {
        // A request Beast could not parse (a negative or doubled
        // Content-Length, Content-Length beside Transfer-Encoding, ...):
        // the client hears why rather than a closed connection.
        respond_and_close(http::status::bad_request, "malformed HTTP request: " + error.message());
        return;
      }
      log::debug("control connection: {}", error.message());
      close();
      return;
    }
    HttpRequest request = parser_->release();
    HttpResponse response;
    try {
      response = handler_(request);
    } catch (const std::exception& exception) {
      // The control plane may throw; one bad request must not end the server.
      log::error("control API: {} {} failed: {}", std::string(request.method_string()),
                 std::string(request.target()), exception.what());
      response = HttpResponse(http::status::internal_server_error, request.version());
      response.set(http::field::content_type, "application/json");
      response.body() = R"({"error":{"code":"internal","message":"internal error; see the log"}})";
    }
    response.version(request.version());
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    write(std::move(response));
  }

  void respond_and_close(http::status status, const std::string& message) {
    HttpResponse response(status, 11);
    response.set(http::field::content_type, "application/json");
    response.body() = R"({"error":{"code":"bad_request","message":")" + message + "\"}}";
    response.keep_alive(false);
    response.prepare_payload();
    write(std::move(response));
  }

  void write(HttpResponse response) {
    response_ = std::make_unique<HttpResponse>(std::move(response));
    http::async_write(stream_, *response_,
                      [self = this->shared_from_this()](beast::error_code error, size_t) {
                        const bool keep = self->response_->keep_alive();
                        self->response_.reset();
                        if (error) {
                          self->close();
                        } else if (!keep) {
                          self->close_after_draining();
                        } else {
                          self->read_next();
                        }
                      });
  }

  // A client whose request was refused may still be sending it (a 4 MiB
  // header): closing with its bytes unread would reset the connection, and
  // the reset can destroy the answer before the client reads it. So the
  // gateway stops sending, reads and drops what still comes for a moment,
  // then closes.
  //
  // Over TLS the gateway sends its close_notify instead, and waits a moment
  // for the client's, so that the client can tell the end of the answer
  // from a cut connection.
  void close_after_draining() {
    tcp_layer().expires_after(std::chrono::seconds(1));  // for the whole drain
    if constexpr (kTls) {
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->close(); });
    } else {
      beast::error_code ignored;
      tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ignored);
      drain();
    }
  }

  void drain() {
    stream_.async_read_some(asio::buffer(drain_),
                            [self = this->shared_from_this()](beast::error_code error, size_t) {
                              if (error) {
                                self->close();
                              } else {
                                self->drain();
                              }
                            });
  }

  void close() {
    beast::error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp_layer().close();
  }

  Stream stream_;
  const HttpServer::Handler& handler_;
  OpenSlot slot_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<HttpResponse> response_;
  std::array<char, 4096> drain_{};
};

// On the HTTPS port: reads the first bytes, then hands the connection to a
// TLS Connection, or to a plain one that only answers why it is refused.
class TlsDetector : public std::enable_shared_from_this<TlsDetector> {
 public:
  TlsDetector(tcp::socket socket, ssl::context& context, const HttpServer::Handler& handler,
              OpenSlot slot)
      : stream_(std::move(socket)), context_(context), handler_(handler), slot_(std::move(slot)) {}

  void run() {
    stream_.expires_after(kHandshakeTimeout);
    beast::async_detect_ssl(stream_, buffer_,
                            [self = shared_from_this()](beast::error_code error, bool tls) {
                              self->on_detected(error, tls);
                            });
  }

 private:
  void on_detected(beast::error_code error, bool tls) {
    if (error) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.close();
      return;
    }
    if (tls) {
      std::make_shared<Connection<TlsStream>>(TlsStream(std::move(stream_), context_), handler_,
                                              std::move(slot_), std::move(buffer_))
          ->handshake_then_read();
    } else {
      std::make_shared<Connection<beast::tcp_stream>>(std::move(stream_), handler_,
                                                      std::move(slot_), std::move(buffer_))
          ->refuse_plain_http();
    }
  }

  beast::tcp_stream stream_;
  ssl::context& context_;
  const HttpServer::Handler& handler_;
  OpenSlot slot_;
  beast::flat_buffer buffer_;
};

// The TLS context of the server: TLS 1.2 or later, one certificate chain.
Expected<std::unique_ptr<ssl::context>, std::string> make_tls_context(const TlsFiles& files) {
  struct stat status {};
  if (::stat(files.key_file.c_str(), &status) == 0 && (status.st_mode & S_IRWXO) != 0) {
    return Unexpected{"control API: the TLS key file " + files.key_file +
                      " may be read by others; chmod o-rwx it"};
  }
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  beast::error_code error;
  // The key first: a certificate loaded after a key that is not its own
  // drops the key, and the check below then says so in plain words.
  context->use_private_key_file(files.key_file, ssl::context::pem, error);
  if (error) {
    return Unexpected{"control API: cannot use the TLS key file " + files.key_file + ": " +
                      error.message()};
  }
  context->use_certificate_chain_file(files.cert_file, error);
  if (error) {
    return Unexpected{"control API: cannot use the TLS certificate file " + files.cert_file + ": " +
                      error.message()};
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return Unexpected{"control API: the TLS key file " + files.key_file +
                      " does not belong to the certificate of " + files.cert_file};
  }
  return context;
}

}  // namespace

HttpServer::HttpServer(Handler handler)
    : handler_(std::move(handler)), acceptor_(context_), accept_timer_(context_) {}

HttpServer::~HttpServer() {
  stop();
}

Expected<void, std::string> HttpServer::start(const gateway::PortalAddress& address,
                                              const std::optional<TlsFiles>& tls) {
  if (tls) {
    auto context = make_tls_context(*tls);
    if (!context) return Unexpected{context.error()};
    tls_ = std::move(*context);
  }
  boost::system::error_code error;
  tcp::resolver resolver(context_);
  const auto results =
      resolver.resolve(address.host, std::to_string(address.port), tcp::resolver::passive, error);
  if (error || results.empty()) {
    return Unexpected{"control API: cannot resolve " + address.host_port() + ": " +
                      error.message()};
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), error);
  if (!error) acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    acceptor_.close();
    return Unexpected{"control API: cannot listen on " + address.host_port() + ": " +
                      error.message()};
  }
  bound_port_ = acceptor_.local_endpoint().port();
  accept_next();
  thread_ = std::thread([this] {
    const asio::any_io_executor work =
        asio::prefer(context_.get_executor(), asio::execution::outstanding_work.tracked);
    context_.run();
  });
  return {};
}

void HttpServer::stop() {
  if (!thread_.joinable()) return;
  asio::post(context_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_timer_.cancel();
    context_.stop();
  });
  thread_.join();
}

void HttpServer::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& error, tcp::socket socket) {
    if (error == asio::error::operation_aborted) return;
    if (error) {
      if (accept_log_.allow()) {
        log::warn("control API: accept failed: {} ({} more since the last such line)",
                  error.message(), accept_log_.suppressed());
      }
      if (out_of_descriptors(error) && acceptor_.is_open()) {
        accept_timer_.expires_after(kAcceptBackoff);
        accept_timer_.async_wait([this](const boost::system::error_code& waited) {
          if (!waited && acceptor_.is_open()) accept_next();
        });
        return;
      }
    } else if (*open_ >= kMaxConnections) {
      // Idle clients must not take every descriptor the gateway has: the
      // iSCSI portals share them.
      if (refusal_log_.allow()) {
        log::warn(
            "control API: {} connections open; refusing more ({} refused since the last "
            "such line)",
            *open_, refusal_log_.suppressed());
      }
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      OpenSlot slot(open_);
      if (tls_) {
        std::make_shared<TlsDetector>(std::move(socket), *tls_, handler_, std::move(slot))->run();
      } else {
        std::make_shared<Connection<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)),
                                                        handler_, std::move(slot))
            ->read_next();
      }
    }
    if (acceptor_.is_open()) accept_next();
  });
}

}  // namespace isergw::control
