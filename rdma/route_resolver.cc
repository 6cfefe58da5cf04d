#include "rdma/route_resolver.h"

#include <poll.h>

#include <cerrno>
#include <cstring>

namespace isergw::rdma {
namespace {

using Clock = std::chrono::steady_clock;

// Waits for the next event of the channel's one id until `deadline`.
Expected<CmEvent, std::string> next_event(EventChannel& channel, Clock::time_point deadline) {
  for (;;) {
    auto event = channel.next();
    if (!event) return Unexpected{event.error().describe()};
    if (*event) return std::move(**event);
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Unexpected{std::string("no answer in time")};
    pollfd readable{.fd = channel.fd(), .events = POLLIN, .revents = 0};
    if (poll(&readable, 1, static_cast<int>(left)) < 0 && errno != EINTR) {
      return Unexpected{std::string("poll: ") + std::strerror(errno)};
    }
  }
}

Expected<void, std::string> expect(EventChannel& channel, rdma_cm_event_type wanted,
                                   Clock::time_point deadline) {
  auto event = next_event(channel, deadline);
  if (!event) return Unexpected{event.error()};
  if (event->type == wanted) return {};
  std::string what(event->name());
  if (event->status != 0) what += std::string(" (") + std::strerror(-event->status) + ")";
  return Unexpected{what};
}

}  // namespace

Expected<std::string, std::string> resolve_rdma_route(SocketAddress destination,
                                                      std::chrono::milliseconds timeout) {
  const std::string where = destination.to_string();
  auto channel = EventChannel::create();
  if (!channel) return Unexpected{"no RDMA CM here: " + channel.error().describe()};
  auto id = CmId::create(**channel);
  if (!id) return Unexpected{id.error().describe()};
  const Clock::time_point deadline = Clock::now() + timeout;
  const int timeout_ms = static_cast<int>(timeout.count());
  if (auto ok = (*id)->resolve_address(std::nullopt, destination, timeout_ms); !ok) {
    return Unexpected{"no RDMA device reaches " + where + ": " + ok.error().describe()};
  }
  if (auto ok = expect(**channel, RDMA_CM_EVENT_ADDR_RESOLVED, deadline); !ok) {
    return Unexpected{"no RDMA device reaches " + where + ": " + ok.error()};
  }
  if (auto ok = (*id)->resolve_route(timeout_ms); !ok) {
    return Unexpected{"no RDMA route to " + where + ": " + ok.error().describe()};
  }
  if (auto ok = expect(**channel, RDMA_CM_EVENT_ROUTE_RESOLVED, deadline); !ok) {
    return Unexpected{"no RDMA route to " + where + ": " + ok.error()};
  }
  return std::string(ibv_get_device_name((*id)->verbs()->device));
}

}  // namespace isergw::rdma
