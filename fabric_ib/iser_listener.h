// An iSER portal: an RDMA CM id listening in the TCP port space (where
// Linux's ib_iser dials port 3260), on the acceptor's loop. Each connect
// request goes to the caller, which hands it to a worker; the worker
// builds the connection and accepts it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "common/expected.h"
#include "gateway/portal.h"
#include "rdma/cm_event_watcher.h"
#include "rdma/cm_id.h"

namespace isergw::fabric_ib {

class IserListener : public gateway::Portal {
 public:
  using ConnectCallback = std::function<void(rdma::CmEvent&& request)>;

  IserListener(boost::asio::io_context& io, gateway::PortalAddress address,
               ConnectCallback on_connect);
  ~IserListener() override;

  // Binds and listens; the error says what an admin can do about it: no
  // RDMA device, no device with that address, or a port taken (iWARP
  // shares TCP's ports).
  Expected<void, std::string> open();
  void close() override;

  const gateway::PortalAddress& address() const override { return address_; }
  uint16_t bound_port() const override;

 private:
  void on_event(rdma::CmEvent&& event);

  boost::asio::io_context& io_;
  gateway::PortalAddress address_;
  ConnectCallback on_connect_;
  std::unique_ptr<rdma::EventChannel> channel_;
  std::unique_ptr<rdma::CmId> id_;
  std::unique_ptr<rdma::CmEventWatcher> watcher_;
};

}  // namespace isergw::fabric_ib
