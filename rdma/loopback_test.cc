// Two CM ids connect across the testbed's veth pair and move data the way an
// iSER command does, through the RAII layer only: the initiator Sends an
// iSER header naming a source buffer (write STag) and a sink buffer (read
// STag), the target RDMA Reads the source, RDMA Writes the sink and Sends a
// response, and the initiator checks every byte. All buffers come from one
// DPDK pool, registered once with each side's protection domain.
//
// It needs an RDMA device and two addresses on it, so it runs in the VM
// testbed (tests/vm/scenarios/rdma-layer.sh) and skips elsewhere:
//   ISERGW_RDMA_TEST_SERVER=192.168.77.2 ISERGW_RDMA_TEST_CLIENT=192.168.77.1
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <cstring>
#include <string>

#include "gateway/buffer_pool.h"
#include "gateway/dpdk_memory.h"
#include "iser/cm_private_data.h"
#include "iser/iser_header.h"
#include "rdma/cm_event_watcher.h"
#include "rdma/cm_id.h"
#include "rdma/completion_poller.h"
#include "rdma/device.h"
#include "rdma/memory_map.h"
#include "rdma/queue_pair.h"

namespace isergw::rdma {
namespace {

constexpr std::size_t kDataBytes = 64 * 1024;
constexpr std::uint32_t kMessageBytes = iser::kIserControlMinimumLength;
constexpr int kTimeoutMs = 20000;

enum WorkRequest : std::uint64_t { kReceive = 1, kSend, kRead, kWrite };

std::uint8_t pattern(std::size_t i, int seed) {
  return static_cast<std::uint8_t>(i * (seed * 2 + 1) + seed);
}

// One end of the connection, declared in the order it is built, so that it
// is torn down in reverse: poller, QP, CQ, channel, registrations, PD.
struct Side {
  explicit Side(const char* name) : role(name) {}
  const char* role;
  std::unique_ptr<CmId> id;
  std::unique_ptr<Device> device;
  std::unique_ptr<ProtectionDomain> pd;
  std::unique_ptr<MemoryMap> map;
  std::unique_ptr<CompletionChannel> channel;
  std::unique_ptr<CompletionQueue> cq;
  std::unique_ptr<QueuePair> qp;
  std::unique_ptr<CompletionPoller> poller;
  gateway::Buffer receive, send, data, sink;
  bool established = false;
  bool disconnected = false;
};

class Loopback {
 public:
  Loopback(gateway::BufferPool& pool, SocketAddress server, SocketAddress client)
      : pool_(pool), server_address_(server), client_address_(client), timer_(io_) {}

  // "" on success, else what went wrong first.
  std::string run() {
    auto channel = EventChannel::create();
    if (!channel) return channel.error().describe();
    events_ = std::move(*channel);
    watcher_ = std::make_unique<CmEventWatcher>(
        io_, *events_, [this](CmEvent&& event) { on_event(std::move(event)); },
        [this](const VerbsError& error) { fail(error.describe()); });

    auto listener = CmId::create(*events_);
    if (!listener) return listener.error().describe();
    listener_ = std::move(*listener);
    if (auto ok = listener_->bind(server_address_); !ok) return ok.error().describe();
    if (auto ok = listener_->listen(4); !ok) return ok.error().describe();
    auto port = SocketAddress(server_address_);
    reinterpret_cast<sockaddr_in*>(&port.storage)->sin_port = htons(listener_->local_port());

    auto client = CmId::create(*events_);
    if (!client) return client.error().describe();
    client_.id = std::move(*client);
    if (auto ok = client_.id->resolve_address(client_address_, port, kTimeoutMs); !ok) {
      return ok.error().describe();
    }
    watcher_->start();
    timer_.expires_after(std::chrono::seconds(60));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) fail("no result after 60 s: " + progress_);
    });
    io_.run();
    return failure_;
  }

  const std::string& progress() const { return progress_; }
  const iser::CmPrivateData& received_private_data() const { return private_data_; }

 private:
  void note(const std::string& step) { progress_ += progress_.empty() ? step : ", " + step; }

  void fail(const std::string& why) {
    if (failure_.empty()) failure_ = why + " (after: " + progress_ + ")";
    finish();
  }

  void finish() {
    timer_.cancel();
    watcher_->stop();
    for (Side* side : {&client_, &server_}) {
      if (side->poller) side->poller->stop();
    }
    io_.stop();
  }

  Side* side_of(rdma_cm_id* id) {
    if (client_.id && client_.id->get() == id) return &client_;
    if (server_.id && server_.id->get() == id) return &server_;
    return nullptr;
  }

  void on_event(CmEvent&& event) {
    note(std::string(event.name()));
    switch (event.type) {
      case RDMA_CM_EVENT_ADDR_RESOLVED:
        if (auto ok = client_.id->resolve_route(kTimeoutMs); !ok) fail(ok.error().describe());
        return;
      case RDMA_CM_EVENT_ROUTE_RESOLVED:
        return connect_client();
      case RDMA_CM_EVENT_CONNECT_REQUEST:
        return accept_server(std::move(event));
      case RDMA_CM_EVENT_ESTABLISHED:
        if (Side* side = side_of(event.id)) {
          side->established = true;
          if (side == &client_) send_command();
        }
        return;
      case RDMA_CM_EVENT_DISCONNECTED:
        if (Side* side = side_of(event.id)) {
          side->disconnected = true;
          if (side == &server_ && server_.id) (void)server_.id->disconnect();
        }
        if (client_.disconnected && server_.disconnected) finish();
        return;
      case RDMA_CM_EVENT_TIMEWAIT_EXIT:
      case RDMA_CM_EVENT_ADDR_CHANGE:
        return;
      default:
        return fail(std::string("CM event ") + std::string(event.name()) + " status " +
                    std::to_string(event.status));
    }
  }

  Expected<void, VerbsError> prepare(Side& side, int access) {
    auto device = Device::borrow(side.id->verbs());
    if (!device) return Unexpected{device.error()};
    side.device = std::move(*device);
    auto pd = ProtectionDomain::allocate(*side.device);
    if (!pd) return Unexpected{pd.error()};
    side.pd = std::move(*pd);
    side.map = std::make_unique<MemoryMap>(*side.pd, access);
    if (auto ok = side.map->add_chunks(
            [this](const MemoryMap::ChunkVisitor& visit) { pool_.for_each_memory_chunk(visit); });
        !ok) {
      return ok;
    }
    auto channel = CompletionChannel::create(*side.device);
    if (!channel) return Unexpected{channel.error()};
    side.channel = std::move(*channel);
    auto cq = CompletionQueue::create(*side.device, side.channel.get(), 32);
    if (!cq) return Unexpected{cq.error()};
    side.cq = std::move(*cq);
    auto qp = QueuePair::create(*side.id, *side.pd,
                                {.send_cq = side.cq.get(), .receive_cq = side.cq.get()});
    if (!qp) return Unexpected{qp.error()};
    side.qp = std::move(*qp);
    side.poller = std::make_unique<CompletionPoller>(
        io_, *side.channel, *side.cq,
        [this, &side](std::span<const ibv_wc> batch) {
          for (const ibv_wc& wc : batch)
            on_completion(side, wc);
        },
        [this](const VerbsError& error) { fail(error.describe()); });
    if (auto ok = side.poller->start(); !ok) return ok;
    side.receive = pool_.acquire();
    side.send = pool_.acquire();
    side.data = pool_.acquire();
    side.sink = pool_.acquire();
    if (!side.receive || !side.send || !side.data || !side.sink) {
      return Unexpected{verbs_error("BufferPool::acquire", ENOBUFS, side.role)};
    }
    return post_receive(side);
  }

  Expected<void, VerbsError> post_receive(Side& side) {
    auto sge = side.map->sge(side.receive.data(), 1024);
    if (!sge) return Unexpected{verbs_error("MemoryMap::sge", ENOENT, "receive buffer")};
    return side.qp->post_receive(kReceive, std::span(&*sge, 1));
  }

  ConnectionOptions depths(const Device& device, std::span<const std::uint8_t> private_data,
                           std::uint8_t peer_ord = 255, std::uint8_t peer_ird = 255) {
    const auto limits = device.limits();
    return ConnectionOptions{
        .private_data = private_data,
        .initiator_depth = static_cast<std::uint8_t>(
            std::min<std::uint32_t>({limits.max_qp_init_rd_atom, peer_ird, 16})),
        .responder_resources = static_cast<std::uint8_t>(
            std::min<std::uint32_t>({limits.max_qp_rd_atom, peer_ord, 16})),
    };
  }

  void connect_client() {
    client_.role = "initiator";
    if (auto ok = prepare(client_, kRemoteAccess); !ok) return fail(ok.error().describe());
    note("initiator on " + client_.device->name());
    for (std::size_t i = 0; i < kDataBytes; ++i)
      client_.data.data()[i] = pattern(i, 1);
    std::memset(client_.sink.data(), 0, kDataBytes);
    // A Linux initiator that does not register per command sends both flags.
    cm_request_ = iser::encode_cm_private_data(
        {.zbva_not_supported = true, .send_with_invalidate_not_supported = true});
    if (auto ok = client_.id->connect(depths(*client_.device, cm_request_)); !ok) {
      fail(ok.error().describe());
    }
  }

  void accept_server(CmEvent&& event) {
    server_.id = CmId::adopt(event.id);
    server_.role = "target";
    auto data = iser::decode_cm_private_data(event.private_data);
    if (!data) return fail("CM private data: " + data.error().describe());
    private_data_ = *data;
    auto device = Device::borrow(server_.id->verbs());
    if (!device) return fail(device.error().describe());
    if (auto ok = prepare(server_, read_sink_access(**device)); !ok) {
      return fail(ok.error().describe());
    }
    note("target on " + server_.device->name());
    cm_reply_ = iser::encode_cm_private_data(*data);
    auto options =
        depths(*server_.device, cm_reply_, event.initiator_depth, event.responder_resources);
    if (auto ok = server_.id->accept(options); !ok) fail(ok.error().describe());
  }

  void send_command() {
    iser::ControlHeader header{
        .write_stag_valid = true,
        .read_stag_valid = true,
        .write_stag = client_.map->find(client_.data.data(), kDataBytes)->rkey,
        .write_va = reinterpret_cast<std::uint64_t>(client_.data.data()),
        .read_stag = client_.map->find(client_.sink.data(), kDataBytes)->rkey,
        .read_va = reinterpret_cast<std::uint64_t>(client_.sink.data())};
    send_message(client_, header, 0x01);  // SCSI Command
  }

  void send_message(Side& side, const iser::ControlHeader& header, std::uint8_t iscsi_opcode) {
    std::memset(side.send.data(), 0, kMessageBytes);
    (void)iser::encode_control_header(header, side.send.bytes());
    side.send.data()[iser::kIserHeaderLength] = iscsi_opcode;
    auto sge = side.map->sge(side.send.data(), kMessageBytes);
    if (!sge) return fail("send buffer not in the memory map");
    if (auto ok = side.qp->post_send(kSend, std::span(&*sge, 1)); !ok) {
      fail(ok.error().describe());
    }
  }

  void on_completion(Side& side, const ibv_wc& wc) {
    if (wc.status != IBV_WC_SUCCESS) {
      return fail(std::string(side.role) + " work request " + std::to_string(wc.wr_id) + ": " +
                  ibv_wc_status_str(wc.status));
    }
    if (&side == &server_) return on_target_completion(wc);
    if (wc.wr_id == kReceive) return on_response(wc);
  }

  void on_target_completion(const ibv_wc& wc) {
    if (wc.wr_id == kReceive) {
      note("command received");
      auto message = iser::decode_control_message(
          std::span<const std::uint8_t>(server_.receive.data(), wc.byte_len));
      if (!message) return fail("command: " + message.error().describe());
      command_ = message->header;
      auto sge = server_.map->sge(server_.data.data(), kDataBytes);
      auto address = iser::write_source_address(command_, 0, 0);
      if (!sge || !address) return fail("no source for the RDMA Read");
      if (auto ok =
              server_.qp->post_rdma_read(kRead, std::span(&*sge, 1), *address, command_.write_stag);
          !ok) {
        fail(ok.error().describe());
      }
      return;
    }
    if (wc.wr_id == kRead) {
      note("RDMA Read done");
      for (std::size_t i = 0; i < kDataBytes; ++i) {
        if (server_.data.data()[i] != pattern(i, 1)) {
          return fail("RDMA Read: byte " + std::to_string(i) + " differs");
        }
      }
      for (std::size_t i = 0; i < kDataBytes; ++i)
        server_.data.data()[i] = pattern(i, 2);
      auto sge = server_.map->sge(server_.data.data(), kDataBytes);
      // Unsignaled: the Send behind it on the same QP completes only after it.
      if (auto ok = server_.qp->post_rdma_write(kWrite, std::span(&*sge, 1), command_.read_va,
                                                command_.read_stag);
          !ok) {
        return fail(ok.error().describe());
      }
      send_message(server_, {}, 0x21);  // SCSI Response
    }
  }

  void on_response(const ibv_wc& wc) {
    note("response received");
    auto message = iser::decode_control_message(
        std::span<const std::uint8_t>(client_.receive.data(), wc.byte_len));
    if (!message) return fail("response: " + message.error().describe());
    if (message->iscsi_pdu[0] != 0x21) return fail("response is not a SCSI Response");
    for (std::size_t i = 0; i < kDataBytes; ++i) {
      if (client_.sink.data()[i] != pattern(i, 2)) {
        return fail("RDMA Write: byte " + std::to_string(i) + " differs");
      }
    }
    note("all bytes checked");
    verified_ = true;
    if (auto ok = client_.id->disconnect(); !ok) fail(ok.error().describe());
  }

 public:
  bool verified() const { return verified_; }

 private:
  boost::asio::io_context io_;
  gateway::BufferPool& pool_;
  SocketAddress server_address_;
  SocketAddress client_address_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<EventChannel> events_;
  std::unique_ptr<CmEventWatcher> watcher_;
  std::unique_ptr<CmId> listener_;
  Side server_{"target"};
  Side client_{"initiator"};
  std::array<std::uint8_t, iser::kCmPrivateDataLength> cm_request_{};
  std::array<std::uint8_t, iser::kCmPrivateDataLength> cm_reply_{};
  iser::CmPrivateData private_data_;
  iser::ControlHeader command_;
  std::string failure_;
  std::string progress_;
  bool verified_ = false;
};

TEST(Loopback, SendRdmaReadRdmaWriteAndSendAcrossTwoCmIds) {
  const char* server = std::getenv("ISERGW_RDMA_TEST_SERVER");
  const char* client = std::getenv("ISERGW_RDMA_TEST_CLIENT");
  if (server == nullptr || client == nullptr) {
    GTEST_SKIP() << "set ISERGW_RDMA_TEST_SERVER and ISERGW_RDMA_TEST_CLIENT to two addresses "
                    "with RDMA devices";
  }
  if (Device::list_names().empty()) GTEST_SKIP() << "no RDMA device on this machine";
  auto started = gateway::start_dpdk_memory({.no_huge_megabytes = 64, .force_no_huge = true});
  ASSERT_TRUE(started) << started.error();
  auto pool = gateway::BufferPool::create(
      {.name = "rdma-loopback", .buffer_size = kDataBytes, .buffer_count = 16});
  ASSERT_TRUE(pool) << pool.error();
  auto server_address = SocketAddress::parse(server, 0);
  auto client_address = SocketAddress::parse(client, 0);
  ASSERT_TRUE(server_address && client_address);

  auto loopback = std::make_unique<Loopback>(**pool, *server_address, *client_address);
  const std::string failure = loopback->run();
  EXPECT_EQ(failure, "");
  EXPECT_TRUE(loopback->verified()) << loopback->progress();
  EXPECT_TRUE(loopback->received_private_data().present);
  EXPECT_TRUE(loopback->received_private_data().send_with_invalidate_not_supported);
  std::printf("loopback: %s\n", loopback->progress().c_str());
}

}  // namespace
}  // namespace isergw::rdma
