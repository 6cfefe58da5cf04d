// The back leg against a scripted storage: the gateway's front sessions on
// loopback relay to a fake target that logs the gateway in with the
// project's login machine and then answers, or misbehaves, as each test
// says. Real storage (tgtd) is exercised by tests/integration.
#include "fabric_tcp/initiator_session.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <set>
#include <thread>

#include "fabric_tcp/target_session.h"
#include "gateway/dpdk_memory.h"
#include "iscsi/login_target.h"
#include "iscsi/serial_number.h"
#include "tests/support/eventually.h"
#include "tests/support/test_initiator.h"

namespace isergw::fabric_tcp {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using testing_support::pattern;
using testing_support::PduConnection;
using testing_support::Received;
using testing_support::TestInitiator;

constexpr const char* kRelay = "iqn.2026-11.io.isergw.test:relay";
// The same storage, with CHAP toward it.
constexpr const char* kChapRelay = "iqn.2026-11.io.isergw.test:chap-relay";
constexpr const char* kStorageSecret = "storage-secret-1";
constexpr const char* kRam = "iqn.2026-11.io.isergw.test:ram";
constexpr const char* kStorageTarget = "iqn.2026-11.io.isergw.test:storage";

// The storage side of one relayed session.
class FakeStorage : public iscsi::LoginPolicy {
 public:
  FakeStorage() : acceptor_(context_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // Accepts the gateway's connection and completes its login.
  bool accept_login(uint32_t command_window = 32) {
    connection_ = std::make_unique<PduConnection>(acceptor_);
    iscsi::LoginTargetConfig config;
    config.command_window = command_window;
    config.negotiation.max_recv_data_segment_length = 65536;
    config.negotiation.immediate_data = true;
    iscsi::LoginTarget login(config, *this);
    while (login.state() != iscsi::LoginTarget::State::kFullFeature) {
      const Received request = connection_->receive();
      const auto& login_request = std::get<iscsi::LoginRequest>(request.pdu);
      if (auto keys = iscsi::parse_text_keys(login_request.data)) {
        if (const std::string* offered = iscsi::find_key(*keys, "CHAP_A")) {
          chap_algorithms_offered.push_back(*offered);
          if (refuse_chap_lists && offered->find(',') != std::string::npos) {
            // As older LIO and some NAS firmware do: an authentication
            // failure, and the connection closes.
            iscsi::LoginResponse refusal = login.on_request(login_request).pdu();
            refusal.status_class = iscsi::LoginStatusClass::kInitiatorError;
            refusal.status_detail = 0x01;
            refusal.transit = false;
            refusal.data = {};
            connection_->send(refusal);
            connection_->close();
            return false;
          }
        }
      }
      const iscsi::OwnedLoginResponse response = login.on_request(login_request);
      iscsi::LoginResponse sent = response.pdu();
      if (login.state() == iscsi::LoginTarget::State::kFullFeature) {
        sent.exp_cmd_sn += login_exp_cmd_sn_skew;
        sent.max_cmd_sn += login_exp_cmd_sn_skew;
      }
      connection_->send(sent);
      if (login.state() == iscsi::LoginTarget::State::kFailed) return false;
    }
    stat_sn_ = login.result()->next_stat_sn;
    exp_cmd_sn_ = login.result()->exp_cmd_sn;
    window_ = command_window;
    return true;
  }

  PduConnection& connection() { return *connection_; }
  void hang_up() {
    if (connection_) connection_->close();
  }

  // The next PDU that is not a NOP-Out.
  Received next() {
    while (true) {
      Received received = connection_->receive();
      if (!std::holds_alternative<iscsi::NopOut>(received.pdu)) return received;
    }
  }

  iscsi::ScsiCommand next_command(Received& holder) {
    holder = next();
    const auto& command = std::get<iscsi::ScsiCommand>(holder.pdu);
    exp_cmd_sn_ = command.cmd_sn + 1;
    return command;
  }

  iscsi::DataIn data_in(uint32_t itt, uint32_t data_sn, uint32_t offset,
                        std::span<const uint8_t> data, bool last) {
    iscsi::DataIn pdu;
    pdu.itt = itt;
    pdu.data_sn = data_sn;
    pdu.buffer_offset = offset;
    pdu.data = data;
    pdu.final = last;
    pdu.status_present = last;
    if (last) pdu.stat_sn = stat_sn_++;
    pdu.exp_cmd_sn = exp_cmd_sn_;
    pdu.max_cmd_sn = exp_cmd_sn_ + window_ - 1;
    return pdu;
  }

  // Answers a task management request with "function complete".
  void complete_task_management(const iscsi::TaskManagementRequest& request) {
    iscsi::TaskManagementResponse response;
    response.itt = request.itt;
    response.stat_sn = stat_sn_++;
    response.exp_cmd_sn = exp_cmd_sn_;
    response.max_cmd_sn = exp_cmd_sn_ + window_ - 1;
    connection_->send(response);
  }

  void respond(uint32_t itt, uint8_t status) {
    iscsi::ScsiResponse response;
    response.itt = itt;
    response.status = status;
    response.stat_sn = stat_sn_++;
    response.exp_cmd_sn = exp_cmd_sn_;
    response.max_cmd_sn = exp_cmd_sn_ + window_ - 1;
    connection_->send(response);
  }

  // Added to ExpCmdSN and MaxCmdSN of the final Login Response, as tgt's
  // iSER target does (it answers one past what it expects).
  uint32_t login_exp_cmd_sn_skew = 0;
  uint32_t window_ = 32;
  uint32_t stat_sn_ = 0;
  uint32_t exp_cmd_sn_ = 0;

  std::optional<iscsi::TargetAccess> normal_session(std::string_view target,
                                                    std::string_view) const override {
    if (target != kStorageTarget) return std::nullopt;
    iscsi::TargetAccess access;
    if (chap) {
      access.auth = iscsi::AuthRequirement::kChap;
      access.initiator_chap = *chap;
    }
    return access;
  }

  // CHAP the gateway must pass; a storage that refuses any list of CHAP_A
  // values; the CHAP_A values each login offered.
  std::optional<iscsi::ChapCredentials> chap;
  bool refuse_chap_lists = false;
  std::vector<std::string> chap_algorithms_offered;
  std::optional<iscsi::TargetAccess> discovery_session(std::string_view) const override {
    return std::nullopt;
  }

 private:
  asio::io_context context_;
  tcp::acceptor acceptor_;
  std::unique_ptr<PduConnection> connection_;
};

class InitiatorSessionTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = gateway::start_dpdk_memory({.no_huge_megabytes = 128, .force_no_huge = true});
    ASSERT_TRUE(started) << started.error();
  }

  void SetUp() override {
    static int pools = 0;
    auto pool = gateway::BufferPool::create(
        {.name = "relay" + std::to_string(pools++), .buffer_size = 65536, .buffer_count = 64});
    ASSERT_TRUE(pool) << pool.error();
    pool_ = std::move(*pool);
    control::Config config = control::default_config();
    config.targets[0].name = kRam;
    config.targets[0].back_end = *gateway::parse_back_end_url("ram://16M");
    control::TargetConfig relay;
    relay.name = kRelay;
    relay.back_end = *gateway::parse_back_end_url(
        "iscsi://127.0.0.1:" + std::to_string(storage_.port()) + "/" + kStorageTarget);
    config.targets.push_back(relay);
    relay.name = kChapRelay;
    relay.back_chap = control::ChapCredentials{"gateway", kStorageSecret};
    config.targets.push_back(relay);
    auto targets = gateway::TargetMap::build(config);
    ASSERT_TRUE(targets) << targets.error();
    targets_ = *targets;
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    accept_next();
    loop_ = std::thread([this] { context_.run(); });
  }

  void TearDown() override {
    if (storage_thread_.joinable()) storage_thread_.join();
    asio::post(context_, [this] {
      acceptor_.close();
      for (auto& session : sessions_)
        session->close("test over");
    });
    // The back legs log out; a storage that hangs up ends that at once.
    // The loop then runs out of work by itself: nothing may be left behind.
    storage_.hang_up();
    loop_.join();
    sessions_.clear();
  }

  void accept_next() {
    acceptor_.async_accept([this](const boost::system::error_code& error, tcp::socket socket) {
      if (error) return;
      ++live_sessions_;
      auto session = std::make_shared<TargetSession>(
          std::move(socket), *pool_, targets_, gateway::FrontSessionOptions{},
          [this](gateway::FrontSession&, const std::string&) { --live_sessions_; });
      sessions_.push_back(session);
      session->start();
      accept_next();
    });
  }

  // Runs the storage's side of the test on a thread of its own: the
  // gateway logs in to it while the host logs in to the gateway.
  template <typename Script>
  void storage(Script script, uint32_t command_window = 32) {
    storage_thread_ = std::thread([this, script, command_window] {
      ASSERT_TRUE(storage_.accept_login(command_window));
      script(storage_);
    });
  }

  // A host on the built-in target, which no storage failure may touch.
  void expect_ram_host_unaffected(uint32_t lba) {
    TestInitiator host(port());
    ASSERT_TRUE(host.login(kRam, "iqn.1993-08.org.debian:01:bystander"));
    const auto written = pattern(65536 + 512, static_cast<uint8_t>(lba));
    EXPECT_EQ(host.write(1, lba, written), 0);
    const auto [read, status] = host.read(2, lba, static_cast<uint32_t>(written.size()));
    EXPECT_EQ(status, 0);
    EXPECT_EQ(read, written);
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  FakeStorage storage_;
  std::thread storage_thread_;
  asio::io_context context_;
  tcp::acceptor acceptor_{context_};
  std::thread loop_;
  std::unique_ptr<gateway::BufferPool> pool_;
  std::shared_ptr<const gateway::TargetMap> targets_;
  std::vector<std::shared_ptr<TargetSession>> sessions_;
  std::atomic<int> live_sessions_{0};
};

const std::array<uint8_t, 10> kRead16Blocks = testing_support::read10(0, 16);

// A front leg that only records what its back leg tells it.
class RecordingFront : public gateway::FrontLeg {
 public:
  void pull(gateway::Task&, uint32_t, uint32_t, gateway::PullDone) override {}
  void push(gateway::Task&, uint32_t, std::span<const uint8_t>,
            std::shared_ptr<const void>) override {}
  std::vector<gateway::DataSlice> received(gateway::Task&, uint32_t, uint32_t) override {
    return {};
  }
  void complete(gateway::Task&, const gateway::Completion&) override {}
  void notify(const iscsi::AsyncMessage&) override {}
  void back_failed(const std::string& reason) override { failure = reason; }

  std::optional<std::string> failure;
};

TEST_F(InitiatorSessionTest, ReadDataStatusAndAsyncMessagesReachTheHost) {
  const auto data = pattern(8192, 3);
  storage([&](FakeStorage& storage) {
    Received holder;
    const iscsi::ScsiCommand command = storage.next_command(holder);
    EXPECT_EQ(command.expected_data_transfer_length, 8192u);
    auto& connection = storage.connection();
    connection.send(storage.data_in(command.itt, 0, 0, std::span(data).first(4096), false));
    connection.send(storage.data_in(command.itt, 1, 4096, std::span(data).subspan(4096), true));
    iscsi::AsyncMessage event;
    event.async_event = iscsi::AsyncEvent::kScsiAsyncEvent;
    event.lun = 0;
    event.stat_sn = storage.stat_sn_++;
    event.exp_cmd_sn = storage.exp_cmd_sn_;
    event.max_cmd_sn = storage.exp_cmd_sn_ + 31;
    const std::vector<uint8_t> sense = {0, 18, 0x70, 0, 0x06, 0, 0, 0, 0, 10,
                                        0, 0,  0,    0, 0x2a, 9, 0, 0, 0, 0};
    event.data = sense;
    connection.send(event);
  });
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kRelay));
  host.send(host.command(9, kRead16Blocks, 8192, true, false));
  const auto [read, status] = host.collect_read(8192);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(read, data);
  const Received event = host.receive();
  const auto& message = std::get<iscsi::AsyncMessage>(event.pdu);
  EXPECT_EQ(message.async_event, iscsi::AsyncEvent::kScsiAsyncEvent);
  ASSERT_EQ(message.data.size(), 20u);
  EXPECT_EQ(message.data[14], 0x2a);  // CAPACITY DATA HAS CHANGED, passed on intact
}

TEST_F(InitiatorSessionTest, AWrongDataSnFromTheStorageEndsOnlyThatSession) {
  const auto data = pattern(8192, 4);
  storage([&](FakeStorage& storage) {
    Received holder;
    const iscsi::ScsiCommand command = storage.next_command(holder);
    storage.connection().send(storage.data_in(command.itt, 3, 0, data, true));  // must be 0
  });
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kRelay));
  host.send(host.command(9, kRead16Blocks, 8192, true, false));
  EXPECT_TRUE(host.closed_by_peer());
  expect_ram_host_unaffected(100);
  EXPECT_TRUE(testing_support::eventually([&] { return pool_->in_use() == 0; })) << pool_->in_use();
}

TEST_F(InitiatorSessionTest, AStorageThatClosesMidTransferEndsOnlyThatSession) {
  const auto data = pattern(8192, 5);
  storage([&](FakeStorage& storage) {
    Received holder;
    const iscsi::ScsiCommand command = storage.next_command(holder);
    storage.connection().send(
        storage.data_in(command.itt, 0, 0, std::span(data).first(4096), false));
    storage.connection().close();
  });
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kRelay));
  host.send(host.command(9, kRead16Blocks, 8192, true, false));
  // The first half may reach the host before the connection ends; the
  // command never completes, so the host retries it after logging in again.
  while (true) {
    try {
      const Received received = host.receive();
      const auto* data_in = std::get_if<iscsi::DataIn>(&received.pdu);
      ASSERT_NE(data_in, nullptr);
      EXPECT_FALSE(data_in->status_present);
    } catch (const boost::system::system_error& error) {
      EXPECT_EQ(error.code(), asio::error::eof) << error.what();
      break;
    }
  }
  expect_ram_host_unaffected(200);
}

// Older LIO and some NAS firmware refuse a list of CHAP_A values: the
// gateway logs in again offering MD5 alone, within the same host login.
TEST_F(InitiatorSessionTest, AStorageThatRefusesAListOfChapAlgorithmsIsOfferedMd5Alone) {
  storage_.chap = iscsi::ChapCredentials{"gateway", kStorageSecret};
  storage_.refuse_chap_lists = true;
  storage_thread_ = std::thread([this] {
    EXPECT_FALSE(storage_.accept_login()) << "the list was taken";
    EXPECT_TRUE(storage_.accept_login()) << "MD5 alone did not log in";
  });
  TestInitiator host(port());
  EXPECT_TRUE(host.login(kChapRelay));
  storage_thread_.join();
  EXPECT_EQ(storage_.chap_algorithms_offered, (std::vector<std::string>{"5,7", "5"}));
}

TEST_F(InitiatorSessionTest, GarbageFromTheStorageEndsOnlyThatSession) {
  storage([&](FakeStorage& storage) {
    Received holder;
    storage.next_command(holder);
    storage.connection().send_raw(std::vector<uint8_t>(48, 0xee));
  });
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kRelay));
  host.send(host.command(9, kRead16Blocks, 8192, true, false));
  EXPECT_TRUE(host.closed_by_peer());
  expect_ram_host_unaffected(300);
}

TEST_F(InitiatorSessionTest, StoragePingsAreAnsweredWithTheirTagAndData) {
  storage([&](FakeStorage& storage) {
    iscsi::NopIn ping;
    ping.ttt = 0x1234;
    ping.stat_sn = storage.stat_sn_;
    ping.exp_cmd_sn = storage.exp_cmd_sn_;
    ping.max_cmd_sn = storage.exp_cmd_sn_ + 31;
    const std::vector<uint8_t> data = {1, 2, 3, 4};
    ping.data = data;
    storage.connection().send(ping);
    // The answer and the host's command race each other to the storage.
    bool answered = false;
    bool commanded = false;
    while (!answered || !commanded) {
      const Received received = storage.connection().receive();
      if (const auto* nop = std::get_if<iscsi::NopOut>(&received.pdu)) {
        EXPECT_EQ(nop->ttt, 0x1234u);
        EXPECT_EQ(nop->itt, iscsi::kReservedTag);
        EXPECT_EQ(std::vector<uint8_t>(nop->data.begin(), nop->data.end()), data);
        answered = true;
      } else {
        const auto& command = std::get<iscsi::ScsiCommand>(received.pdu);
        storage.exp_cmd_sn_ = command.cmd_sn + 1;
        storage.respond(command.itt, 0);
        commanded = true;
      }
    }
  });
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kRelay));
  const std::array<uint8_t, 6> test_unit_ready{};
  host.send(host.command(9, test_unit_ready, 0, false, false));
  EXPECT_EQ(host.collect_read(0).second, 0);
}

// The host's ABORT TASK, with tag `itt`, for `command`.
iscsi::TaskManagementRequest abort_task(uint32_t itt, const iscsi::ScsiCommand& command) {
  iscsi::TaskManagementRequest abort;
  abort.immediate = true;
  abort.function = iscsi::TaskManagementFunction::kAbortTask;
  abort.itt = itt;
  abort.referenced_task_tag = command.itt;
  abort.ref_cmd_sn = command.cmd_sn;
  abort.cmd_sn = command.cmd_sn + 1;
  return abort;
}

TEST_F(InitiatorSessionTest, AbortTaskReachesTheStorageAndEndsTheCommand) {
  storage([&](FakeStorage& storage) {
    Received holder;
    const iscsi::ScsiCommand command = storage.next_command(holder);
    const Received tmf_holder = storage.next();
    const auto& tmf = std::get<iscsi::TaskManagementRequest>(tmf_holder.pdu);
    EXPECT_EQ(tmf.function, iscsi::TaskManagementFunction::kAbortTask);
    // The storage's own tag and CmdSN for the command, not the host's.
    EXPECT_EQ(tmf.referenced_task_tag, command.itt);
    EXPECT_EQ(tmf.ref_cmd_sn, command.cmd_sn);
    storage.complete_task_management(tmf);
    const iscsi::ScsiCommand next = storage.next_command(holder);
    storage.respond(next.itt, 0);
  });
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kRelay));
  iscsi::ScsiCommand read = host.command(0x77, kRead16Blocks, 8192, true, false);
  host.send(read);
  host.send(abort_task(0x78, read));
  const Received answer = host.receive();
  const auto& response = std::get<iscsi::TaskManagementResponse>(answer.pdu);
  EXPECT_EQ(response.itt, 0x78u);
  EXPECT_EQ(response.response, iscsi::TaskManagementResponseCode::kFunctionComplete);
  // The aborted read never answers; the next command does.
  const std::array<uint8_t, 6> test_unit_ready{};
  host.send(host.command(0x79, test_unit_ready, 0, false, false));
  const Received next = host.receive();
  EXPECT_EQ(std::get<iscsi::ScsiResponse>(next.pdu).itt, 0x79u);
}

// tgt answers an aborted command after its "function complete" when the
// command was already on its way out. That answer must be dropped, not
// passed to the host or taken for a protocol error that ends the session.
TEST_F(InitiatorSessionTest, AnAnswerAfterAbortTaskEndedTheCommandIsDropped) {
  const auto data = pattern(8192, 6);
  storage([&](FakeStorage& storage) {
    Received holder;
    const iscsi::ScsiCommand command = storage.next_command(holder);
    const Received tmf_holder = storage.next();
    const auto& tmf = std::get<iscsi::TaskManagementRequest>(tmf_holder.pdu);
    storage.complete_task_management(tmf);
    storage.connection().send(storage.data_in(command.itt, 0, 0, data, false));
    storage.respond(command.itt, 0);
    const iscsi::ScsiCommand next = storage.next_command(holder);
    storage.respond(next.itt, 0);
  });
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kRelay));
  iscsi::ScsiCommand read = host.command(0x77, kRead16Blocks, 8192, true, false);
  host.send(read);
  host.send(abort_task(0x78, read));
  const Received answer = host.receive();
  EXPECT_EQ(std::get<iscsi::TaskManagementResponse>(answer.pdu).response,
            iscsi::TaskManagementResponseCode::kFunctionComplete);
  const std::array<uint8_t, 6> test_unit_ready{};
  host.send(host.command(0x79, test_unit_ready, 0, false, false));
  const Received next = host.receive();
  ASSERT_TRUE(std::holds_alternative<iscsi::ScsiResponse>(next.pdu));
  EXPECT_EQ(std::get<iscsi::ScsiResponse>(next.pdu).itt, 0x79u);
}

TEST_F(InitiatorSessionTest, TheStoragesWindowHoldsCommandsBackWithoutLosingAny) {
  constexpr int kCommands = 5;
  std::atomic<bool> beyond_window{false};
  storage(
      [&](FakeStorage& storage) {
        // Window of one: each command must wait for the previous status,
        // so nothing may follow a command before its answer. The pause
        // gives a gateway that sends too early the time to show it.
        for (int i = 0; i < kCommands; ++i) {
          Received holder;
          storage.next_command(holder);
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          if (storage.connection().unread_bytes() > 0) beyond_window = true;
          storage.respond(std::get<iscsi::ScsiCommand>(holder.pdu).itt, 0);
        }
      },
      1);
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kRelay));
  const std::array<uint8_t, 6> test_unit_ready{};
  // The host is offered the gateway's window, wider than the storage's, and
  // sends every command at once; the gateway must hold back all but one and
  // lose none.
  for (int i = 0; i < kCommands; ++i)
    host.send(host.command(100 + i, test_unit_ready, 0, false, false));
  std::set<uint32_t> answered;
  for (int i = 0; i < kCommands; ++i) {
    const Received received = host.receive();
    const auto& response = std::get<iscsi::ScsiResponse>(received.pdu);
    EXPECT_EQ(response.status, 0);
    answered.insert(response.itt);
  }
  EXPECT_EQ(answered.size(), static_cast<size_t>(kCommands));
  storage_thread_.join();
  EXPECT_FALSE(beyond_window);
}

TEST_F(InitiatorSessionTest, AWriteTheStorageFailsIsNeverReportedGood) {
  // MEDIUM ERROR, WRITE ERROR (03/0C00) in fixed format.
  const std::vector<uint8_t> sense = {0x70, 0, 0x03, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x0c, 0x00};
  storage([&](FakeStorage& storage) {
    Received holder;
    const iscsi::ScsiCommand command = storage.next_command(holder);
    EXPECT_TRUE(command.write);
    // Take the rest of the data the storage asks for, then fail the write.
    iscsi::R2t r2t;
    r2t.itt = command.itt;
    r2t.ttt = 0x51;
    r2t.buffer_offset = static_cast<uint32_t>(command.data.size());
    r2t.desired_data_transfer_length = command.expected_data_transfer_length - r2t.buffer_offset;
    r2t.stat_sn = storage.stat_sn_;
    r2t.exp_cmd_sn = storage.exp_cmd_sn_;
    r2t.max_cmd_sn = storage.exp_cmd_sn_ + 31;
    storage.connection().send(r2t);
    uint32_t received = r2t.buffer_offset;
    while (received < command.expected_data_transfer_length) {
      const Received data = storage.next();
      received += static_cast<uint32_t>(std::get<iscsi::DataOut>(data.pdu).data.size());
    }
    std::vector<uint8_t> segment = {0, static_cast<uint8_t>(sense.size())};
    segment.insert(segment.end(), sense.begin(), sense.end());
    iscsi::ScsiResponse response;
    response.itt = command.itt;
    response.status = 0x02;  // CHECK CONDITION
    response.stat_sn = storage.stat_sn_++;
    response.exp_cmd_sn = storage.exp_cmd_sn_;
    response.max_cmd_sn = storage.exp_cmd_sn_ + 31;
    response.data = segment;
    storage.connection().send(response);
  });
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kRelay));
  const auto data = pattern(65536, 8);
  const auto cdb = testing_support::write10(0, 128);
  iscsi::ScsiCommand command = host.command(9, cdb, 65536, false, true);
  command.data = std::span<const uint8_t>(data).first(8192);
  host.send(command);
  while (true) {
    const Received received = host.receive();
    if (const auto* r2t = std::get_if<iscsi::R2t>(&received.pdu)) {
      iscsi::DataOut data_out;
      data_out.itt = 9;
      data_out.ttt = r2t->ttt;
      data_out.buffer_offset = r2t->buffer_offset;
      data_out.data = std::span<const uint8_t>(data).subspan(r2t->buffer_offset,
                                                             r2t->desired_data_transfer_length);
      data_out.final = true;
      host.send(data_out);
      continue;
    }
    const auto& response = std::get<iscsi::ScsiResponse>(received.pdu);
    EXPECT_EQ(response.status, 0x02);
    ASSERT_EQ(response.data.size(), sense.size() + 2);
    EXPECT_EQ(std::vector<uint8_t>(response.data.begin() + 2, response.data.end()), sense);
    break;
  }
}

// FUA and SYNCHRONIZE CACHE reach the storage byte for byte, and the host
// hears GOOD only after the storage said it: the gateway caches nothing, so
// a write it acknowledges is one the storage made durable as asked.
TEST_F(InitiatorSessionTest, TheFirstCommandTakesTheLoginsCmdSnWhateverTheStorageAnswers) {
  storage_.login_exp_cmd_sn_skew = 1;
  storage([&](FakeStorage& storage) {
    Received holder;
    const iscsi::ScsiCommand command = storage.next_command(holder);
    // The Login Request had CmdSN 1 and was immediate (RFC 7143 §11.12.8).
    EXPECT_EQ(command.cmd_sn, 1u);
    storage.respond(command.itt, 0);
  });
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kRelay));
  host.send(host.command(1, testing_support::read10(0, 0), 0, false, false));
  EXPECT_EQ(host.collect_read(0).second, 0);
  storage_thread_.join();
}

TEST_F(InitiatorSessionTest, FuaAndSynchronizeCacheReachTheStorageUnchanged) {
  std::array<uint8_t, 10> write_fua = testing_support::write10(64, 8);
  write_fua[1] |= 0x08;  // FUA (SBC-4 §5.42)
  const std::array<uint8_t, 10> synchronize_cache = {0x35, 0, 0, 0, 0, 64, 0, 0, 8, 0};
  std::atomic<bool> storage_answered{false};
  storage([&](FakeStorage& storage) {
    for (const auto& expected : {write_fua, synchronize_cache}) {
      Received holder;
      const iscsi::ScsiCommand command = storage.next_command(holder);
      EXPECT_TRUE(std::equal(expected.begin(), expected.end(), command.cdb.begin()))
          << "CDB 0x" << std::hex << int(command.cdb[0]) << " changed on its way";
      // The storage takes its time to make the data durable.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      storage_answered = true;
      storage.respond(command.itt, 0);
    }
  });
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kRelay));
  const auto data = pattern(4096, 3);
  iscsi::ScsiCommand write = host.command(1, write_fua, 4096, false, true);
  write.data = data;
  host.send(write);
  EXPECT_EQ(host.collect_read(0).second, 0);
  EXPECT_TRUE(storage_answered.exchange(false)) << "GOOD before the storage answered";
  host.send(host.command(2, synchronize_cache, 0, false, false));
  EXPECT_EQ(host.collect_read(0).second, 0);
  EXPECT_TRUE(storage_answered) << "GOOD before the storage answered";
  storage_thread_.join();
}

// Linux keeps the highest MaxCmdSN it has seen when it logs in again after
// a failure (iscsi_update_cmdsn only raises it), so a new session that
// promised less than the old one would see commands beyond its window,
// drop them and end the connection. Every login promises the gateway's own
// window; within a session the window widens no further than the storage's.
TEST_F(InitiatorSessionTest, ALoginAgainIsPromisedNoLessThanTheSessionBefore) {
  constexpr uint32_t kStorageWindow = 2;
  constexpr int kCommands = 6;
  std::atomic<bool> beyond_window{false};
  storage(
      [&](FakeStorage& storage) {
        uint32_t storage_max_cmd_sn = storage.exp_cmd_sn_ + kStorageWindow - 1;
        for (int i = 0; i < kCommands; ++i) {
          Received holder;
          const iscsi::ScsiCommand command = storage.next_command(holder);
          if (iscsi::sn_gt(command.cmd_sn, storage_max_cmd_sn)) beyond_window = true;
          storage.respond(command.itt, 0);
          storage_max_cmd_sn = storage.exp_cmd_sn_ + kStorageWindow - 1;
        }
        // The host's second session reaches the storage as a login of its own.
        ASSERT_TRUE(storage.accept_login(kStorageWindow));
        Received holder;
        storage.respond(storage.next_command(holder).itt, 0);
      },
      kStorageWindow);
  const uint32_t gateway_window = gateway::FrontSessionOptions{}.command_window;
  const std::array<uint8_t, 6> test_unit_ready{};
  uint32_t highest_max_cmd_sn = 0;
  uint32_t next_cmd_sn = 0;
  {
    TestInitiator host(port());
    ASSERT_TRUE(host.login(kRelay));
    EXPECT_EQ(host.login_window(), gateway_window);
    highest_max_cmd_sn = host.cmd_sn() + host.login_window() - 1;
    for (int i = 0; i < kCommands; ++i)
      host.send(host.command(200 + i, test_unit_ready, 0, false, false));
    for (int i = 0; i < kCommands; ++i) {
      const Received received = host.receive();
      const auto& response = std::get<iscsi::ScsiResponse>(received.pdu);
      EXPECT_EQ(response.status, 0);
      EXPECT_FALSE(iscsi::sn_lt(response.max_cmd_sn, highest_max_cmd_sn))
          << "MaxCmdSN went down within the session";
      highest_max_cmd_sn = response.max_cmd_sn;
    }
    next_cmd_sn = host.cmd_sn();
  }  // the connection drops, as after a NOP-Out timeout
  TestInitiator again(port());
  again.continue_cmd_sn_from(next_cmd_sn);
  ASSERT_TRUE(again.login(kRelay));
  EXPECT_FALSE(iscsi::sn_lt(again.cmd_sn() + again.login_window() - 1, highest_max_cmd_sn))
      << "the new session's window ends before the old one's";
  again.send(again.command(300, test_unit_ready, 0, false, false));
  EXPECT_EQ(std::get<iscsi::ScsiResponse>(again.receive().pdu).status, 0);
  storage_thread_.join();
  EXPECT_FALSE(beyond_window) << "the storage was sent a command beyond its window";
}

// A storage that goes quiet without closing (a dead host, a pulled cable)
// is found by the gateway's own ping: a NOP-Out after nop_interval of
// silence, and the back leg fails when nop_timeout passes unanswered, so
// the host's connection ends and it logs in again.
TEST_F(InitiatorSessionTest, AQuietStorageIsFoundByItsUnansweredPing) {
  std::atomic<bool> pinged{false};
  std::atomic<bool> closed{false};
  storage([&](FakeStorage& s) {
    const Received ping = s.connection().receive();
    pinged = std::holds_alternative<iscsi::NopOut>(ping.pdu) &&
             std::get<iscsi::NopOut>(ping.pdu).itt != iscsi::kReservedTag;
    // No answer; the gateway must hang up by itself.
    closed = s.connection().closed_by_peer();
  });
  asio::io_context io;
  InitiatorSessionOptions options;
  options.portal = *gateway::parse_host_port("127.0.0.1:" + std::to_string(storage_.port()),
                                             gateway::Transport::kTcp);
  options.target_name = kStorageTarget;
  options.back_end = "iscsi://127.0.0.1/" + std::string(kStorageTarget);
  options.nop_interval = std::chrono::seconds(1);
  options.nop_timeout = std::chrono::seconds(1);
  auto back = std::make_shared<InitiatorSession>(io.get_executor(), *pool_, options);
  RecordingFront front;
  std::optional<gateway::BackOpenResult> opened;
  back->open(front, {"iqn.1993-08.org.debian:01:quiet-test", "", {}},
             [&](const gateway::BackOpenResult& result) { opened = result; });
  const auto started = std::chrono::steady_clock::now();
  io.run_for(std::chrono::seconds(6));
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(opened && opened->ok());
  ASSERT_TRUE(front.failure.has_value()) << "the back leg never gave up on the quiet storage";
  EXPECT_NE(front.failure->find("NOP-Out"), std::string::npos) << *front.failure;
  storage_thread_.join();
  EXPECT_TRUE(pinged);
  EXPECT_TRUE(closed);
  // Found by the ping: within interval + timeout (and a timer tick), not
  // by the 6 s bound of this test.
  EXPECT_LT(waited, std::chrono::seconds(6));
  back->close();
  io.run_for(std::chrono::seconds(1));
}

}  // namespace
}  // namespace isergw::fabric_tcp
