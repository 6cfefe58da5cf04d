// A host that misbehaves on purpose over iSER, for the VM testbed's fault
// scenario (isergw-iser-faults). It connects and logs in to an iSER portal
// as Linux ib_iser does (CM private data with both flags set, login PDUs as
// Sends, InitialR2T=Yes, no immediate data), then runs one command:
//
//   good             WRITE(10) then READ(10) of 64 KiB with its own STags; the
//                    data must come back and both must end GOOD. It proves
//                    the harness, so that the faults below are the only
//                    difference.
//   bad-read-stag    READ(10) whose read STag is not one of ours: the target's
//                    RDMA Write must fail.
//   bad-write-stag   WRITE(10) whose write STag is not one of ours: the
//                    target's RDMA Read must fail.
//   vanish           READ(10) of 1 MiB, then the process exits at once, QP
//                    and all, as a crashed host does.
//
// For the faults, the target must end the connection and must never report
// GOOD. Exit status 0 when the peer behaved so, 1 otherwise, 2 on a usage
// or set-up error; one line on stdout says what happened.
//
//   misbehaving_iser_host ADDR PORT TARGET_IQN INITIATOR_IQN MODE
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "iscsi/login_initiator.h"
#include "iscsi/pdu_decoder.h"
#include "iscsi/pdu_encoder.h"
#include "iser/cm_private_data.h"
#include "iser/iser_header.h"
#include "rdma/cm_id.h"
#include "rdma/completion_queue.h"
#include "rdma/device.h"
#include "rdma/memory_region.h"
#include "rdma/protection_domain.h"
#include "rdma/queue_pair.h"
#include "tests/support/cdb.h"

namespace isergw::testbed {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kSlotBytes = 16384;  // a login-phase PDU of 8 KiB, with headers
constexpr std::size_t kReceiveSlots = 8;
constexpr std::size_t kDataBytes = 1 << 20;
constexpr std::uint64_t kSendId = 1000;
constexpr std::uint32_t kBytes = 65536;
constexpr auto kPatience = std::chrono::seconds(30);

// What ended the wait for a PDU.
struct Outcome {
  std::optional<iscsi::Pdu> pdu;  // views into `bytes`
  std::vector<std::uint8_t> bytes;
  std::string connection_ended;  // why, when it did
};

Outcome ended(std::string why) {
  Outcome outcome;
  outcome.connection_ended = std::move(why);
  return outcome;
}

class Host {
 public:
  explicit Host(std::string target) : target_(std::move(target)) {}

  // "" once connected and logged in, else why not.
  std::string log_in(const std::string& address, std::uint16_t port, const std::string& initiator) {
    if (auto error = connect(address, port); !error.empty()) return error;
    iscsi::LoginInitiatorConfig config;
    config.initiator_name = initiator;
    config.target_name = target_;
    config.isid = {0x80, 0, 0, 0, 0x1b, 0xad};
    config.negotiation.rdma_extensions = true;
    config.negotiation.initial_r2t = true;
    config.negotiation.immediate_data = false;
    iscsi::LoginInitiator login(config);
    std::optional<iscsi::OwnedLoginRequest> request = login.start();
    while (request) {
      if (!send(request->pdu(), {})) return "the login Send failed";
      Outcome answer = receive();
      if (!answer.pdu) return "connection ended during login: " + answer.connection_ended;
      const auto* response = std::get_if<iscsi::LoginResponse>(&*answer.pdu);
      if (response == nullptr) return "a PDU other than a Login Response during login";
      request = login.on_response(*response);
    }
    if (login.state() != iscsi::LoginInitiator::State::kFullFeature)
      return "login refused: " + login.failure_reason();
    cmd_sn_ = login.result()->exp_cmd_sn;
    return "";
  }

  // WRITE(10) or READ(10) of `length` bytes at LBA 0, with the given STags.
  bool command(bool write, std::uint32_t length, const iser::ControlHeader& stags) {
    const std::uint16_t blocks = static_cast<std::uint16_t>(length / 512);
    iscsi::ScsiCommand command;
    command.itt = next_itt_++;
    command.cmd_sn = cmd_sn_++;
    command.final = true;
    command.read = !write;
    command.write = write;
    command.expected_data_transfer_length = length;
    const auto cdb =
        write ? testing_support::write10(0, blocks) : testing_support::read10(0, blocks);
    std::copy(cdb.begin(), cdb.end(), command.cdb.begin());
    return send(command, stags);
  }

  Outcome receive() {
    const auto until = Clock::now() + kPatience;
    ibv_wc completion{};
    while (Clock::now() < until) {
      if (auto why = cm_ended(); !why.empty()) return ended(why);
      auto polled = cq_->poll(std::span(&completion, 1));
      if (!polled) return ended(polled.error().describe());
      if (*polled == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      if (completion.status != IBV_WC_SUCCESS) {
        return ended(std::string("completion ") + ibv_wc_status_str(completion.status));
      }
      if (completion.wr_id == kSendId) continue;
      return take(completion.wr_id, completion.byte_len);
    }
    return ended("nothing for 30 s");
  }

  // The connection as the target leaves it after a fault: true once it is
  // ended, after draining whatever still arrives (a PDU then is only
  // acceptable if it is not a GOOD answer to the faulty command).
  std::string wait_for_the_end(bool* reported_good) {
    while (true) {
      Outcome outcome = receive();
      if (!outcome.pdu) return outcome.connection_ended;
      if (const auto* response = std::get_if<iscsi::ScsiResponse>(&*outcome.pdu)) {
        if (response->status == 0) *reported_good = true;
      }
    }
  }

  std::uint8_t* data() { return memory_.get() + kReceiveSlots * kSlotBytes + kSlotBytes; }
  iser::ControlHeader read_into(std::uint8_t* address, std::uint32_t rkey) const {
    return {.read_stag_valid = true,
            .read_stag = rkey,
            .read_va = reinterpret_cast<std::uint64_t>(address)};
  }
  iser::ControlHeader write_from(std::uint8_t* address, std::uint32_t rkey) const {
    return {.write_stag_valid = true,
            .write_stag = rkey,
            .write_va = reinterpret_cast<std::uint64_t>(address)};
  }
  std::uint32_t rkey() const { return region_->rkey(); }

 private:
  struct FreeDeleter {
    void operator()(std::uint8_t* p) const { std::free(p); }
  };

  std::string connect(const std::string& address, std::uint16_t port) {
    auto channel = rdma::EventChannel::create();
    if (!channel) return channel.error().describe();
    channel_ = std::move(*channel);
    auto id = rdma::CmId::create(*channel_);
    if (!id) return id.error().describe();
    id_ = std::move(*id);
    auto destination = rdma::SocketAddress::parse(address, port);
    if (!destination) return destination.error().describe();
    if (auto ok = id_->resolve_address(std::nullopt, *destination, 5000); !ok)
      return ok.error().describe();
    if (auto error = expect_event(RDMA_CM_EVENT_ADDR_RESOLVED); !error.empty()) return error;
    if (auto ok = id_->resolve_route(5000); !ok) return ok.error().describe();
    if (auto error = expect_event(RDMA_CM_EVENT_ROUTE_RESOLVED); !error.empty()) return error;

    auto device = rdma::Device::borrow(id_->verbs());
    if (!device) return device.error().describe();
    device_ = std::move(*device);
    auto pd = rdma::ProtectionDomain::allocate(*device_);
    if (!pd) return pd.error().describe();
    pd_ = std::move(*pd);
    auto cq = rdma::CompletionQueue::create(*device_, nullptr, 64);
    if (!cq) return cq.error().describe();
    cq_ = std::move(*cq);
    auto qp = rdma::QueuePair::create(
        *id_, *pd_,
        {.send_cq = cq_.get(), .receive_cq = cq_.get(), .max_send_wr = 16, .max_receive_wr = 16});
    if (!qp) return qp.error().describe();
    qp_ = std::move(*qp);
    const std::size_t bytes = (kReceiveSlots + 1) * kSlotBytes + 2 * kDataBytes;
    memory_.reset(static_cast<std::uint8_t*>(std::aligned_alloc(4096, bytes)));
    std::memset(memory_.get(), 0, bytes);
    auto region =
        rdma::MemoryRegion::register_memory(*pd_, memory_.get(), bytes, rdma::kRemoteAccess);
    if (!region) return region.error().describe();
    region_ = std::make_unique<rdma::MemoryRegion>(std::move(*region));
    for (std::uint64_t slot = 0; slot < kReceiveSlots; ++slot) {
      if (!post_receive(slot)) return "posting a receive failed";
    }
    // As Linux ib_iser without per-command registration: no ZBVA, and no
    // Send with Invalidate toward it.
    const auto private_data = iser::encode_cm_private_data(
        {.zbva_not_supported = true, .send_with_invalidate_not_supported = true});
    if (auto ok = id_->connect(
            {.private_data = private_data, .initiator_depth = 1, .responder_resources = 16});
        !ok)
      return ok.error().describe();
    return expect_event(RDMA_CM_EVENT_ESTABLISHED);
  }

  std::string expect_event(rdma_cm_event_type wanted) {
    pollfd fd{.fd = channel_->fd(), .events = POLLIN, .revents = 0};
    if (::poll(&fd, 1, 10000) <= 0) return std::string("no ") + rdma_event_str(wanted);
    auto event = channel_->next();
    if (!event || !*event) return std::string("no ") + rdma_event_str(wanted);
    if ((*event)->type != wanted) {
      return std::string((*event)->name()) + " (status " + std::to_string((*event)->status) +
             ") where " + rdma_event_str(wanted) + " was due";
    }
    return "";
  }

  // A pending DISCONNECTED (or any CM event that ends the connection).
  std::string cm_ended() {
    auto event = channel_->next();
    if (!event || !*event) return "";
    return std::string((*event)->name());
  }

  bool post_receive(std::uint64_t slot) {
    const ibv_sge sge{.addr = reinterpret_cast<std::uint64_t>(memory_.get() + slot * kSlotBytes),
                      .length = kSlotBytes,
                      .lkey = region_->lkey()};
    return static_cast<bool>(qp_->post_receive(slot, std::span(&sge, 1)));
  }

  bool send(const iscsi::Pdu& pdu, const iser::ControlHeader& header) {
    std::uint8_t* slot = memory_.get() + kReceiveSlots * kSlotBytes;
    if (!iser::encode_control_header(header, std::span(slot, iser::kIserHeaderLength)))
      return false;
    const std::size_t length = iscsi::encoded_length(pdu, {});
    if (!iscsi::encode_pdu(pdu, {}, std::span(slot + iser::kIserHeaderLength, length)))
      return false;
    const ibv_sge sge{.addr = reinterpret_cast<std::uint64_t>(slot),
                      .length = static_cast<std::uint32_t>(iser::kIserHeaderLength + length),
                      .lkey = region_->lkey()};
    return static_cast<bool>(qp_->post_send(kSendId, std::span(&sge, 1)));
  }

  Outcome take(std::uint64_t slot, std::uint32_t length) {
    Outcome outcome;
    const std::uint8_t* bytes = memory_.get() + slot * kSlotBytes;
    auto message = iser::decode_control_message(std::span(bytes, length));
    if (!message) return ended("undecodable iSER message");
    outcome.bytes.assign(message->iscsi_pdu.begin(), message->iscsi_pdu.end());
    post_receive(slot);
    auto decoded = iscsi::decode_pdu(
        outcome.bytes, {.max_recv_data_segment_length = static_cast<std::uint32_t>(kSlotBytes)});
    if (!decoded) return ended("undecodable PDU: " + decoded.error().describe());
    outcome.pdu = decoded->pdu;
    return outcome;
  }

  std::string target_;
  std::unique_ptr<rdma::EventChannel> channel_;
  std::unique_ptr<rdma::CmId> id_;
  std::unique_ptr<rdma::Device> device_;
  std::unique_ptr<rdma::ProtectionDomain> pd_;
  std::unique_ptr<rdma::CompletionQueue> cq_;
  std::unique_ptr<rdma::QueuePair> qp_;
  std::unique_ptr<std::uint8_t, FreeDeleter> memory_;
  std::unique_ptr<rdma::MemoryRegion> region_;
  std::uint32_t cmd_sn_ = 0;
  std::uint32_t next_itt_ = 1;
};

// An rkey of no region of ours: rxe and siw keys are an index and a key
// byte; another index is nobody's.
std::uint32_t foreign(std::uint32_t rkey) {
  return rkey ^ 0x00ffff00;
}

int run(Host& host, const std::string& mode) {
  std::uint8_t* data = host.data();
  if (mode == "good") {
    for (std::uint32_t i = 0; i < kBytes; ++i)
      data[i] = static_cast<std::uint8_t>(i * 7 + 3);
    host.command(true, kBytes, host.write_from(data, host.rkey()));
    Outcome written = host.receive();
    const auto* write_status =
        written.pdu ? std::get_if<iscsi::ScsiResponse>(&*written.pdu) : nullptr;
    if (write_status == nullptr || write_status->status != 0) {
      std::cout << "good: the WRITE did not end GOOD (" << written.connection_ended << ")\n";
      return 1;
    }
    host.command(false, kBytes, host.read_into(data + kDataBytes, host.rkey()));
    Outcome read = host.receive();
    const auto* read_status = read.pdu ? std::get_if<iscsi::ScsiResponse>(&*read.pdu) : nullptr;
    if (read_status == nullptr || read_status->status != 0) {
      std::cout << "good: the READ did not end GOOD (" << read.connection_ended << ")\n";
      return 1;
    }
    if (std::memcmp(data, data + kDataBytes, kBytes) != 0) {
      std::cout << "good: the data read back differs from what was written\n";
      return 1;
    }
    std::cout << "good: 64 KiB written by RDMA Read and read back by RDMA Write, both GOOD\n";
    return 0;
  }
  if (mode == "vanish") {
    host.command(false, kDataBytes, host.read_into(data, host.rkey()));
    std::cout << "vanish: a 1 MiB READ sent, and the host is gone" << std::endl;
    // No destructor, no disconnect of our own: the kernel tears the QP and
    // the CM id down as it does for a process that crashed.
    std::_Exit(0);
  }
  bool reported_good = false;
  if (mode == "bad-read-stag") {
    host.command(false, kBytes, host.read_into(data, foreign(host.rkey())));
  } else if (mode == "bad-write-stag") {
    host.command(true, kBytes, host.write_from(data, foreign(host.rkey())));
  } else {
    std::cerr << "unknown mode " << mode << "\n";
    return 2;
  }
  const std::string ended = host.wait_for_the_end(&reported_good);
  if (reported_good) {
    std::cout << mode << ": the target reported GOOD for a command whose STag is not ours\n";
    return 1;
  }
  if (ended == "nothing for 30 s") {
    std::cout << mode << ": the connection was still up 30 s after the fault\n";
    return 1;
  }
  std::cout << mode << ": the target ended the connection (" << ended << "), no GOOD\n";
  return 0;
}

}  // namespace
}  // namespace isergw::testbed

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: " << argv[0] << " ADDR PORT TARGET_IQN INITIATOR_IQN "
              << "good|bad-read-stag|bad-write-stag|vanish\n";
    return 2;
  }
  isergw::testbed::Host host(argv[3]);
  const std::string error =
      host.log_in(argv[1], static_cast<std::uint16_t>(std::atoi(argv[2])), argv[4]);
  if (!error.empty()) {
    std::cout << argv[5] << ": could not log in: " << error << "\n";
    return 2;
  }
  return isergw::testbed::run(host, argv[5]);
}
