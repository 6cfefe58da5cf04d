// The RDMA connection manager: an event channel (its fd sits in an Asio loop,
// cm_event_watcher.h) and the ids that listen, connect and accept on it, in
// the TCP port space, where iSER lives (port 3260; IB service ID
// 0x0000000001060CBC).
#pragma once

#include <netinet/in.h>
#include <rdma/rdma_cma.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "rdma/verbs_error.h"

namespace isergw::rdma {

// An IPv4 or IPv6 address and port, for binding and resolving.
struct SocketAddress {
  sockaddr_storage storage{};

  static Expected<SocketAddress, VerbsError> parse(std::string_view ip, std::uint16_t port);
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  std::string to_string() const;
};

// An IPv4 or IPv6 address as text: "192.0.2.1" or "2001:db8::1", with its
// port "192.0.2.1:3260" or "[2001:db8::1]:3260". Empty for a null address or
// any other family, which the caller names as it sees fit.
std::string address_text(const sockaddr* address, bool with_port);

// One CM event, copied out of rdmacm's and acknowledged at once: rdmacm's
// rdma_destroy_id waits for every event of its id to be acknowledged, so
// holding one across handlers invites a deadlock.
struct CmEvent {
  rdma_cm_event_type type = RDMA_CM_EVENT_ADDR_ERROR;
  int status = 0;
  rdma_cm_id* id = nullptr;         // for CONNECT_REQUEST: the new, unowned id
  rdma_cm_id* listen_id = nullptr;  // for CONNECT_REQUEST: the listener
  std::vector<std::uint8_t> private_data;
  // The peer's connect parameters (CONNECT_REQUEST, ESTABLISHED on iWARP).
  std::uint8_t initiator_depth = 0;
  std::uint8_t responder_resources = 0;

  std::string_view name() const { return rdma_event_str(type); }
};

class EventChannel {
 public:
  static Expected<std::unique_ptr<EventChannel>, VerbsError> create();
  ~EventChannel();
  EventChannel(const EventChannel&) = delete;
  EventChannel& operator=(const EventChannel&) = delete;

  rdma_event_channel* get() const { return channel_; }
  int fd() const { return channel_->fd; }

  // The next event, or nullopt when none is pending (the fd is non-blocking).
  Expected<std::optional<CmEvent>, VerbsError> next();

 private:
  explicit EventChannel(rdma_event_channel* channel) : channel_(channel) {}

  rdma_event_channel* channel_;
};

struct ConnectionOptions {
  std::span<const std::uint8_t> private_data;
  // RDMA Reads this side issues (ORD) and answers (IRD) at once; cap them by
  // the device's limits and, when accepting, by the peer's request.
  std::uint8_t initiator_depth = 1;
  std::uint8_t responder_resources = 1;
  // iSER wants the transport to retry forever on receiver-not-ready (7)
  // rather than fail a Send that found no posted receive.
  std::uint8_t retry_count = 7;
  std::uint8_t rnr_retry_count = 7;
};

class CmId {
 public:
  static Expected<std::unique_ptr<CmId>, VerbsError> create(EventChannel& channel,
                                                            void* context = nullptr);
  // Takes ownership of the id a CONNECT_REQUEST event brought.
  static std::unique_ptr<CmId> adopt(rdma_cm_id* id);
  // Destroys the QP first if rdma_create_qp made one on this id.
  ~CmId();
  CmId(const CmId&) = delete;
  CmId& operator=(const CmId&) = delete;

  rdma_cm_id* get() const { return id_; }
  // The device the id is bound to, once bound or resolved; else null.
  ibv_context* verbs() const { return id_->verbs; }

  Expected<void, VerbsError> bind(SocketAddress address);
  Expected<void, VerbsError> listen(int backlog);
  // The local port after bind (useful with port 0).
  std::uint16_t local_port() const;
  Expected<void, VerbsError> resolve_address(std::optional<SocketAddress> source,
                                             SocketAddress destination, int timeout_ms);
  Expected<void, VerbsError> resolve_route(int timeout_ms);
  Expected<void, VerbsError> connect(const ConnectionOptions& options);
  Expected<void, VerbsError> accept(const ConnectionOptions& options);
  Expected<void, VerbsError> reject(std::span<const std::uint8_t> private_data);
  Expected<void, VerbsError> disconnect();

 private:
  explicit CmId(rdma_cm_id* id) : id_(id) {}

  rdma_cm_id* id_;
};

}  // namespace isergw::rdma
