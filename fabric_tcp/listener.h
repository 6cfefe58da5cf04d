// A TCP portal: accepts connections and hands each to the caller, which
// passes it to a worker. Logins run on the worker that will own the session.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <string>

#include "common/expected.h"
#include "gateway/portal.h"

namespace isergw::fabric_tcp {

class Listener : public gateway::Portal {
 public:
  using AcceptCallback = std::function<void(boost::asio::ip::tcp::socket)>;

  Listener(boost::asio::io_context& context, gateway::PortalAddress address,
           AcceptCallback on_accept);

  // Resolves, binds and listens; the error names the address and the reason.
  Expected<void, std::string> open();
  void close() override;

  const gateway::PortalAddress& address() const override { return address_; }
  uint16_t bound_port() const override;

 private:
  void accept_next();

  boost::asio::io_context& context_;
  gateway::PortalAddress address_;
  AcceptCallback on_accept_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace isergw::fabric_tcp
