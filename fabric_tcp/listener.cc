#include "fabric_tcp/listener.h"

#include <boost/asio/ip/v6_only.hpp>

#include "common/log.h"

namespace isergw::fabric_tcp {

namespace asio = boost::asio;
using asio::ip::tcp;

Listener::Listener(asio::io_context& context, gateway::PortalAddress address,
                   AcceptCallback on_accept)
    : context_(context),
      address_(std::move(address)),
      on_accept_(std::move(on_accept)),
      acceptor_(context) {}

Expected<void, std::string> Listener::open() {
  boost::system::error_code error;
  tcp::resolver resolver(context_);
  const auto results =
      resolver.resolve(address_.host, std::to_string(address_.port), tcp::resolver::passive, error);
  if (error || results.empty()) {
    return Unexpected{"cannot resolve " + address_.url() + ": " + error.message()};
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), error);
  if (!error) acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
  // "[::]" means IPv6 only; "0.0.0.0" covers IPv4. Listing both is explicit.
  if (!error && endpoint.protocol() == tcp::v6()) {
    acceptor_.set_option(asio::ip::v6_only(true), error);
  }
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    acceptor_.close();
    // The surprising holder: iWARP devices share TCP's ports, so an iSER
    // listener (tgtd's, LIO's, the gateway's own) takes the port as a TCP
    // listener would, and one on 0.0.0.0 takes it on every address.
    const std::string hint =
        error == asio::error::address_in_use
            ? " (another iSCSI target, or an iSER listener on an iWARP device, "
              "which holds TCP's port too?)"
            : "";
    return Unexpected{"cannot listen on " + address_.url() + ": " + error.message() + hint};
  }
  accept_next();
  return {};
}

void Listener::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

uint16_t Listener::bound_port() const {
  boost::system::error_code error;
  const auto endpoint = acceptor_.local_endpoint(error);
  return error ? 0 : endpoint.port();
}

void Listener::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& error, tcp::socket socket) {
    if (error == asio::error::operation_aborted) return;
    if (error) {
      // Running out of descriptors must not stop the portal for good.
      log::warn("{}: accept failed: {}", address_.url(), error.message());
    } else {
      on_accept_(std::move(socket));
    }
    if (acceptor_.is_open()) accept_next();
  });
}

}  // namespace isergw::fabric_tcp
