#include "rdma/cm_id.h"

#include <arpa/inet.h>
#include <fcntl.h>

#include <cerrno>
#include <cstring>

namespace isergw::rdma {
namespace {

rdma_conn_param connection_parameters(const ConnectionOptions& options) {
  rdma_conn_param parameters{};
  parameters.private_data = options.private_data.data();
  parameters.private_data_len = static_cast<std::uint8_t>(options.private_data.size());
  parameters.initiator_depth = options.initiator_depth;
  parameters.responder_resources = options.responder_resources;
  parameters.retry_count = options.retry_count;
  parameters.rnr_retry_count = options.rnr_retry_count;
  return parameters;
}

Expected<void, VerbsError> check(int result, std::string_view verb, std::string context = {}) {
  if (result != 0) return Unexpected{verbs_error(verb, errno, std::move(context))};
  return {};
}

}  // namespace

Expected<SocketAddress, VerbsError> SocketAddress::parse(std::string_view ip, std::uint16_t port) {
  SocketAddress address;
  const std::string text(ip);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
  } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
  } else {
    return Unexpected{verbs_error("inet_pton", EINVAL, "'" + text + "' is no IP address")};
  }
  return address;
}

std::string SocketAddress::to_string() const {
  std::string text = address_text(reinterpret_cast<const sockaddr*>(&storage), true);
  return text.empty() ? "(no address)" : text;
}

std::string address_text(const sockaddr* address, bool with_port) {
  if (address == nullptr) return {};
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    if (inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text) == nullptr) return {};
    if (!with_port) return text;
    return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    if (inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text) == nullptr) return {};
    // RFC 3986 §3.2.2: brackets keep the port apart from the address's
    // own colons.
    if (!with_port) return text;
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  return {};
}

Expected<std::unique_ptr<EventChannel>, VerbsError> EventChannel::create() {
  rdma_event_channel* channel = rdma_create_event_channel();
  if (channel == nullptr) {
    auto error = verbs_error("rdma_create_event_channel", errno);
    if (error.error_number == ENODEV || error.error_number == ENOENT) {
      error.hint = "no RDMA CM in this kernel (modprobe rdma_ucm)";
    }
    return Unexpected{std::move(error)};
  }
  std::unique_ptr<EventChannel> owned(new EventChannel(channel));
  const int flags = fcntl(channel->fd, F_GETFL);
  if (flags < 0 || fcntl(channel->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return Unexpected{verbs_error("fcntl(O_NONBLOCK)", errno, "CM event channel")};
  }
  return owned;
}

EventChannel::~EventChannel() {
  rdma_destroy_event_channel(channel_);
}

Expected<std::optional<CmEvent>, VerbsError> EventChannel::next() {
  rdma_cm_event* event = nullptr;
  if (rdma_get_cm_event(channel_, &event) != 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::optional<CmEvent>();
    return Unexpected{verbs_error("rdma_get_cm_event", errno)};
  }
  CmEvent copy;
  copy.type = event->event;
  copy.status = event->status;
  copy.id = event->id;
  copy.listen_id = event->listen_id;
  const auto& conn = event->param.conn;
  if (conn.private_data != nullptr && conn.private_data_len > 0) {
    const auto* bytes = static_cast<const std::uint8_t*>(conn.private_data);
    copy.private_data.assign(bytes, bytes + conn.private_data_len);
  }
  copy.initiator_depth = conn.initiator_depth;
  copy.responder_resources = conn.responder_resources;
  rdma_ack_cm_event(event);
  return std::optional<CmEvent>(std::move(copy));
}

Expected<std::unique_ptr<CmId>, VerbsError> CmId::create(EventChannel& channel, void* context) {
  rdma_cm_id* id = nullptr;
  if (rdma_create_id(channel.get(), &id, context, RDMA_PS_TCP) != 0) {
    return Unexpected{verbs_error("rdma_create_id", errno)};
  }
  return std::unique_ptr<CmId>(new CmId(id));
}

std::unique_ptr<CmId> CmId::adopt(rdma_cm_id* id) {
  return std::unique_ptr<CmId>(new CmId(id));
}

CmId::~CmId() {
  if (id_->qp != nullptr) rdma_destroy_qp(id_);
  rdma_destroy_id(id_);
}

Expected<void, VerbsError> CmId::bind(SocketAddress address) {
  return check(rdma_bind_addr(id_, address.get()), "rdma_bind_addr", address.to_string());
}

Expected<void, VerbsError> CmId::listen(int backlog) {
  auto result = check(rdma_listen(id_, backlog), "rdma_listen");
  if (!result && result.error().error_number == EADDRINUSE) {
    auto error = result.error();
    error.hint =
        "on iWARP the port is TCP's: an iSCSI/TCP portal on the same address and port takes it";
    return Unexpected{std::move(error)};
  }
  return result;
}

std::uint16_t CmId::local_port() const {
  return ntohs(rdma_get_src_port(id_));
}

Expected<void, VerbsError> CmId::resolve_address(std::optional<SocketAddress> source,
                                                 SocketAddress destination, int timeout_ms) {
  return check(
      rdma_resolve_addr(id_, source ? source->get() : nullptr, destination.get(), timeout_ms),
      "rdma_resolve_addr", destination.to_string());
}

Expected<void, VerbsError> CmId::resolve_route(int timeout_ms) {
  return check(rdma_resolve_route(id_, timeout_ms), "rdma_resolve_route");
}

Expected<void, VerbsError> CmId::connect(const ConnectionOptions& options) {
  auto parameters = connection_parameters(options);
  return check(rdma_connect(id_, &parameters), "rdma_connect");
}

Expected<void, VerbsError> CmId::accept(const ConnectionOptions& options) {
  auto parameters = connection_parameters(options);
  return check(rdma_accept(id_, &parameters), "rdma_accept");
}

Expected<void, VerbsError> CmId::reject(std::span<const std::uint8_t> private_data) {
  return check(
      rdma_reject(id_, private_data.data(), static_cast<std::uint8_t>(private_data.size())),
      "rdma_reject");
}

Expected<void, VerbsError> CmId::disconnect() {
  return check(rdma_disconnect(id_), "rdma_disconnect");
}

}  // namespace isergw::rdma
