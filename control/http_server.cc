#include "control/http_server.h"

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>

#include "common/log.h"

namespace isergw::control {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

// Large enough for any config the API takes, small enough that a stray
// client cannot make the gateway hold much memory.
constexpr size_t kBodyLimit = 1 << 20;
constexpr auto kIdleTimeout = std::chrono::seconds(30);
// Out of descriptors, accepting again at once only spins: wait a little.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

bool out_of_descriptors(const boost::system::error_code& error) {
  return error == asio::error::no_descriptors || error == asio::error::no_buffer_space ||
         error == asio::error::no_memory || error.value() == ENFILE;
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, const HttpServer::Handler& handler,
             std::shared_ptr<size_t> open_connections)
      : stream_(std::move(socket)), handler_(handler), open_(std::move(open_connections)) {
    ++*open_;
  }
  ~Connection() { --*open_; }

  void read_next() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kIdleTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code error, size_t) { self->on_read(error); });
  }

 private:
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
                      [self = shared_from_this()](beast::error_code error, size_t) {
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
  void close_after_draining() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(1));  // for the whole drain
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code error, size_t) {
                              if (error) {
                                self->close();
                              } else {
                                self->drain();
                              }
                            });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  const HttpServer::Handler& handler_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<HttpResponse> response_;
  std::shared_ptr<size_t> open_;  // the server's count, on its thread
  std::array<char, 4096> drain_{};
};

}  // namespace

HttpServer::HttpServer(Handler handler)
    : handler_(std::move(handler)), acceptor_(context_), accept_timer_(context_) {}

HttpServer::~HttpServer() {
  stop();
}

Expected<void, std::string> HttpServer::start(const gateway::PortalAddress& address) {
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
      std::make_shared<Connection>(std::move(socket), handler_, open_)->read_next();
    }
    if (acceptor_.is_open()) accept_next();
  });
}

}  // namespace isergw::control
