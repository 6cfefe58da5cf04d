#include "fabric_ib/iser_listener.h"

#include <cerrno>

#include "common/log.h"
#include "rdma/device.h"

namespace isergw::fabric_ib {

IserListener::IserListener(boost::asio::io_context& io, gateway::PortalAddress address,
                           ConnectCallback on_connect)
    : io_(io), address_(std::move(address)), on_connect_(std::move(on_connect)) {}

IserListener::~IserListener() {
  close();
}

Expected<void, std::string> IserListener::open() {
  const std::string where = "cannot listen on " + address_.url() + ": ";
  if (rdma::Device::list_names().empty()) {
    return Unexpected{where +
                      "this machine has no RDMA device (for a soft device: rdma link add rxe0 "
                      "type rxe netdev IFACE)"};
  }
  auto channel = rdma::EventChannel::create();
  if (!channel) return Unexpected{where + channel.error().describe()};
  channel_ = std::move(*channel);
  auto id = rdma::CmId::create(*channel_);
  if (!id) return Unexpected{where + id.error().describe()};
  id_ = std::move(*id);
  auto socket_address = rdma::SocketAddress::parse(address_.host, address_.port);
  if (!socket_address) {
    return Unexpected{where + "an iSER portal needs a numeric address (" +
                      socket_address.error().describe() + ")"};
  }
  // What an admin can act on, for the errors binding and listening meet.
  auto refused = [&](const rdma::VerbsError& error) -> Unexpected<std::string> {
    std::string reason = error.describe();
    if (error.error_number == EADDRNOTAVAIL || error.error_number == ENODEV) {
      reason = "no RDMA device has the address " + address_.host;
    } else if (error.error_number == EADDRINUSE) {
      reason = "port " + std::to_string(address_.port) +
               " is taken; iWARP devices share TCP's port space, so a TCP portal or a "
               "target on the same address and port collides with this one";
    }
    id_.reset();
    return Unexpected{where + reason};
  };
  if (auto bound = id_->bind(*socket_address); !bound) return refused(bound.error());
  if (auto listening = id_->listen(128); !listening) return refused(listening.error());
  watcher_ = std::make_unique<rdma::CmEventWatcher>(
      io_, *channel_, [this](rdma::CmEvent&& event) { on_event(std::move(event)); },
      [url = address_.url()](const rdma::VerbsError& error) {
        log::error("iSER portal {}: CM event channel failed: {}", url, error.describe());
      });
  watcher_->start();
  log::info("listening on {} (RDMA CM)", address_.url());
  return {};
}

void IserListener::close() {
  if (watcher_) watcher_->stop();
  watcher_.reset();
  id_.reset();
  channel_.reset();
}

uint16_t IserListener::bound_port() const {
  return id_ ? id_->local_port() : 0;
}

void IserListener::on_event(rdma::CmEvent&& event) {
  switch (event.type) {
    case RDMA_CM_EVENT_CONNECT_REQUEST:
      on_connect_(std::move(event));
      break;
    case RDMA_CM_EVENT_DEVICE_REMOVAL:
      log::error("iSER portal {}: its RDMA device was removed; the portal stops accepting",
                 address_.url());
      break;
    default:
      log::debug("iSER portal {}: CM event {}", address_.url(), event.name());
      break;
  }
}

}  // namespace isergw::fabric_ib
