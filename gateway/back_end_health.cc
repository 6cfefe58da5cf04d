#include "gateway/back_end_health.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <memory>

#include "rdma/route_resolver.h"

namespace isergw::gateway {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

struct Probe {
  Probe(asio::io_context& context, BackEndHealth& result)
      : resolver(context), socket(context), result(result) {}
  tcp::resolver resolver;
  tcp::socket socket;
  BackEndHealth& result;
  bool answered = false;  // connected, or refused, or not resolved
};

void start_probe(const std::shared_ptr<Probe>& probe, const PortalAddress& portal) {
  probe->result.detail = portal.host_port();
  probe->resolver.async_resolve(
      portal.host, std::to_string(portal.port),
      [probe, portal](const boost::system::error_code& error, tcp::resolver::results_type found) {
        probe->answered = error.failed();
        if (error) {
          probe->result.detail = "cannot resolve " + portal.host + ": " + error.message();
          return;
        }
        asio::async_connect(
            probe->socket, found,
            [probe, portal](const boost::system::error_code& error, const tcp::endpoint&) {
              probe->answered = true;
              if (error) {
                probe->result.detail =
                    "cannot connect to " + portal.host_port() + ": " + error.message();
                return;
              }
              probe->result.healthy = true;
              probe->result.detail = "portal " + portal.host_port() + " accepts";
            });
      });
}

// An iSER portal answers only RDMA connections, and a connection per probe
// would show up on the storage each time; what the gateway can check alone
// is that an RDMA device reaches the portal, which a wrong address, a
// missing device or a down link break.
void probe_rdma_route(BackEndHealth& result, const PortalAddress& portal,
                      std::chrono::milliseconds timeout) {
  asio::io_context context;
  tcp::resolver resolver(context);
  boost::system::error_code error;
  const auto found = resolver.resolve(portal.host, std::to_string(portal.port), error);
  if (error || found.empty()) {
    result.detail = "cannot resolve " + portal.host + ": " + error.message();
    return;
  }
  const tcp::endpoint endpoint = found.begin()->endpoint();
  auto destination = rdma::SocketAddress::parse(endpoint.address().to_string(), portal.port);
  if (!destination) {
    result.detail = destination.error().describe();
    return;
  }
  auto device = rdma::resolve_rdma_route(*destination, timeout);
  if (!device) {
    result.detail = device.error();
    return;
  }
  result.healthy = true;
  result.detail = portal.host_port() + " reached through RDMA device " + *device +
                  " (the storage itself answers as hosts log in)";
}

}  // namespace

std::vector<BackEndHealth> probe_back_ends(const std::vector<control::TargetConfig>& targets,
                                           std::chrono::milliseconds timeout) {
  std::vector<BackEndHealth> results(targets.size());
  asio::io_context context;
  std::vector<std::shared_ptr<Probe>> probes;
  std::vector<std::future<void>> routes;
  for (size_t i = 0; i < targets.size(); ++i) {
    const control::TargetConfig& target = targets[i];
    BackEndHealth& result = results[i];
    result.target = target.name;
    result.back_end = target.back_end.redacted();
    switch (target.back_end.kind) {
      case BackEndKind::kRam:
      case BackEndKind::kNull:
        result.healthy = true;
        result.detail = "built in";
        break;
      case BackEndKind::kIser:
        routes.push_back(std::async(std::launch::async, probe_rdma_route, std::ref(result),
                                    target.back_end.portal, timeout));
        break;
      case BackEndKind::kIscsi:
        probes.push_back(std::make_shared<Probe>(context, result));
        start_probe(probes.back(), target.back_end.portal);
        break;
    }
  }
  if (!probes.empty()) {
    context.run_for(timeout);
    for (const auto& probe : probes) {
      if (!probe->answered) {
        probe->result.detail = "no answer from " + probe->result.detail + " within " +
                               std::to_string(timeout.count()) + " ms";
      }
    }
  }
  for (auto& route : routes)
    route.get();
  return results;
}

}  // namespace isergw::gateway
