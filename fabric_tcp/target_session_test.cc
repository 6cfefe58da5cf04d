// The TCP front end to end on loopback: a test initiator built from the
// project's own login machine and codec logs in to a TargetSession backed by
// a ram:// disk, runs commands, and misbehaves.
#include "fabric_tcp/target_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <numeric>
#include <thread>
#include <tuple>

#include "gateway/dpdk_memory.h"
#include "iscsi/login_initiator.h"
#include "tests/support/eventually.h"
#include "tests/support/test_initiator.h"

namespace isergw::fabric_tcp {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using testing_support::pattern;
using testing_support::Received;
using testing_support::TestInitiator;

constexpr const char* kTarget = "iqn.2026-11.io.isergw.test:ram";

// A front session whose back leg lends memory for write data, as an iSER
// back leg lends its command buffer, and records what it was asked for.
class LendingTargetSession : public TargetSession {
 public:
  using TargetSession::TargetSession;

  std::shared_ptr<std::vector<uint8_t>> lent = std::make_shared<std::vector<uint8_t>>(1 << 20);
  std::vector<std::pair<uint32_t, uint32_t>> asked;  // (offset, length)

 protected:
  std::optional<gateway::DataLanding> landing(const gateway::Task&, uint32_t offset,
                                              uint32_t length) override {
    asked.emplace_back(offset, length);
    if (uint64_t{offset} + length > lent->size()) return std::nullopt;
    return gateway::DataLanding{std::span<uint8_t>(lent->data() + offset, length), lent};
  }
};

class TargetSessionTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = gateway::start_dpdk_memory({.no_huge_megabytes = 128, .force_no_huge = true});
    ASSERT_TRUE(started) << started.error();
  }

  void SetUp() override {
    static int pools = 0;
    auto pool = gateway::BufferPool::create(
        {.name = "session" + std::to_string(pools++), .buffer_size = 65536, .buffer_count = 64});
    ASSERT_TRUE(pool) << pool.error();
    pool_ = std::move(*pool);
    control::Config config = control::default_config();
    config.targets[0].name = kTarget;
    config.targets[0].back_end = *gateway::parse_back_end_url("ram://16M");
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
    asio::post(context_, [this] {
      acceptor_.close();
      for (auto& session : sessions_)
        session->close("test over");
    });
    // Sessions end through their own callbacks before the loop stops.
    testing_support::eventually([this] { return live_sessions_ <= 0; }, std::chrono::seconds(1));
    context_.stop();
    loop_.join();
    sessions_.clear();
  }

  void accept_next() {
    acceptor_.async_accept([this](const boost::system::error_code& error, tcp::socket socket) {
      if (error) return;
      ++live_sessions_;
      auto closed = [this](gateway::FrontSession&, const std::string& reason) {
        last_close_reason_ = reason;
        --live_sessions_;
      };
      std::shared_ptr<TargetSession> session =
          lend_ ? std::make_shared<LendingTargetSession>(std::move(socket), *pool_, targets_,
                                                         options_, closed)
                : std::make_shared<TargetSession>(std::move(socket), *pool_, targets_, options_,
                                                  closed);
      sessions_.push_back(session);
      session->start();
      accept_next();
    });
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // Runs `f` on the loop thread, which owns the sessions, and returns its result.
  template <typename F>
  auto on_loop(F f) {
    std::promise<decltype(f())> result;
    asio::post(context_, [&] { result.set_value(f()); });
    return result.get_future().get();
  }

  // Waits for the loop thread to settle a condition.
  template <typename Predicate>
  static bool eventually(Predicate predicate) {
    return testing_support::eventually(predicate, std::chrono::seconds(2));
  }

  asio::io_context context_;
  tcp::acceptor acceptor_{context_};
  std::thread loop_;
  std::unique_ptr<gateway::BufferPool> pool_;
  std::shared_ptr<const gateway::TargetMap> targets_;
  gateway::FrontSessionOptions options_;
  bool lend_ = false;  // sessions are LendingTargetSessions
  std::vector<std::shared_ptr<TargetSession>> sessions_;
  std::atomic<int> live_sessions_{0};
  std::string last_close_reason_;
};

void host_reads_back(TestInitiator& host, uint32_t itt, uint32_t lba,
                     const std::vector<uint8_t>& expected) {
  const auto [read, status] = host.read(itt, lba, static_cast<uint32_t>(expected.size()));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(read, expected);
}

TEST_F(TargetSessionTest, LogsInAndAnswersInquiry) {
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kTarget));
  const std::array<uint8_t, 6> inquiry = {0x12, 0, 0, 0, 96, 0};
  host.send(host.command(1, inquiry, 96, true, false));
  const auto [data, status] = host.collect_read(96);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(std::string(data.begin() + 8, data.begin() + 16), "ISERGW  ");
}

TEST_F(TargetSessionTest, WritesBeyondTheFirstBurstGoByR2tAndReadBackIntact) {
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kTarget));
  // 300 KiB + 512: more than FirstBurstLength, MaxBurstLength and one buffer.
  const auto written = pattern(300 * 1024 + 512, 7);
  EXPECT_EQ(host.write(10, 64, written), 0);
  host_reads_back(host, 11, 64, written);
}

// Data the host sends because an R2T asked for it is received straight into
// the memory the back leg lends, in order, and only that: immediate data,
// which arrived before there was anything to ask, stays in pool buffers.
TEST_F(TargetSessionTest, SolicitedWriteDataLandsInMemoryTheBackLegLends) {
  lend_ = true;
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kTarget));
  const auto written = pattern(300 * 1024 + 512, 9);
  EXPECT_EQ(host.write(10, 64, written), 0);
  host_reads_back(host, 11, 64, written);

  const uint32_t immediate =
      std::min({static_cast<uint32_t>(written.size()), host.parameters().session.first_burst_length,
                host.parameters().connection.max_send_data_segment_length});
  const auto [asked, lent, landed_bytes] = on_loop([&] {
    auto& session = static_cast<LendingTargetSession&>(*sessions_.at(0));
    return std::make_tuple(session.asked, session.lent, session.statistics().bytes_landed);
  });
  ASSERT_FALSE(asked.empty());
  uint32_t next = immediate;
  for (const auto& [offset, length] : asked) {
    EXPECT_EQ(offset, next);
    next = offset + length;
  }
  EXPECT_EQ(next, written.size());
  EXPECT_EQ(landed_bytes, written.size() - immediate);
  EXPECT_TRUE(std::equal(written.begin() + immediate, written.end(), lent->begin() + immediate));
  EXPECT_TRUE(
      std::all_of(lent->begin(), lent->begin() + immediate, [](uint8_t b) { return b == 0; }));
}

// A Data-Out that is not the next one its R2T waits for is not given the
// back leg's memory: it lands in a pool buffer and meets the usual checks.
TEST_F(TargetSessionTest, OnlyTheNextSolicitedBytesAreOfferedALanding) {
  lend_ = true;
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kTarget));
  const std::vector<uint8_t> data = pattern(8192, 3);
  const auto cdb = testing_support::write10(0, 16);
  iscsi::ScsiCommand command = host.command(5, cdb, 8192, false, true);
  command.final = true;  // no immediate data: all of it by R2T
  host.send(command);
  const auto r2t = std::get<iscsi::R2t>(host.receive().pdu);
  iscsi::DataOut skipping;
  skipping.itt = 5;
  skipping.ttt = r2t.ttt;
  skipping.buffer_offset = r2t.buffer_offset + 512;  // past the next byte
  skipping.data = std::span<const uint8_t>(data).subspan(512, 512);
  host.send(skipping);
  iscsi::DataOut unasked = skipping;
  unasked.ttt = r2t.ttt + 1;  // a TTT no R2T carries
  unasked.buffer_offset = r2t.buffer_offset;
  host.send(unasked);
  ASSERT_TRUE(eventually([&] { return live_sessions_ == 0; }));
  EXPECT_NE(last_close_reason_.find("no outstanding R2T"), std::string::npos) << last_close_reason_;
  const auto asked =
      on_loop([&] { return static_cast<LendingTargetSession&>(*sessions_.at(0)).asked; });
  EXPECT_TRUE(asked.empty());
}

TEST_F(TargetSessionTest, AGoodReadCarriesItsStatusInTheLastDataIn) {
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kTarget));
  const auto cdb = testing_support::read10(0, 16);
  host.send(host.command(3, cdb, 8192, true, false));
  const Received last = host.receive();
  const auto& data_in = std::get<iscsi::DataIn>(last.pdu);
  EXPECT_TRUE(data_in.final);
  EXPECT_TRUE(data_in.status_present);
  EXPECT_EQ(data_in.status, 0);
  // A read that fails has its sense data, which only a SCSI Response carries.
  const auto beyond = testing_support::read10(0x7fffff00, 1);
  host.send(host.command(4, beyond, 512, true, false));
  const Received failed = host.receive();
  const auto& response = std::get<iscsi::ScsiResponse>(failed.pdu);
  EXPECT_EQ(response.status, 0x02);
  EXPECT_FALSE(response.data.empty());
}

TEST_F(TargetSessionTest, AnswersNopOutWithItsPingData) {
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kTarget));
  const auto ping = pattern(100, 3);
  iscsi::NopOut nop;
  nop.itt = 77;
  nop.immediate = true;
  nop.data = ping;
  host.send(nop);
  const Received reply = host.receive();
  const auto& nop_in = std::get<iscsi::NopIn>(reply.pdu);
  EXPECT_EQ(nop_in.itt, 77U);
  EXPECT_EQ(std::vector<uint8_t>(nop_in.data.begin(), nop_in.data.end()), ping);
}

TEST_F(TargetSessionTest, AWrongDataSnEndsThatConnectionOnly) {
  TestInitiator good(port());
  ASSERT_TRUE(good.login(kTarget, "iqn.1993-08.org.debian:01:good"));
  TestInitiator bad(port());
  ASSERT_TRUE(bad.login(kTarget, "iqn.1993-08.org.debian:01:bad"));

  const auto data = pattern(128 * 1024, 1);
  const auto cdb = testing_support::write10(0, static_cast<uint16_t>(data.size() / 512));
  iscsi::ScsiCommand command = bad.command(5, cdb, static_cast<uint32_t>(data.size()), false, true);
  command.final = true;
  bad.send(command);
  const Received r2t_pdu = bad.receive();
  const auto& r2t = std::get<iscsi::R2t>(r2t_pdu.pdu);
  iscsi::DataOut data_out;
  data_out.itt = 5;
  data_out.ttt = r2t.ttt;
  data_out.data_sn = 3;  // must be 0
  data_out.buffer_offset = r2t.buffer_offset;
  data_out.data = std::span<const uint8_t>(data).first(4096);
  bad.send(data_out);
  EXPECT_TRUE(bad.closed_by_peer());
  EXPECT_TRUE(eventually([&] { return last_close_reason_.find("DataSN") != std::string::npos; }))
      << last_close_reason_;

  // The other host's session goes on as before.
  const auto written = pattern(8192, 9);
  EXPECT_EQ(good.write(20, 2048, written), 0);
  host_reads_back(good, 21, 2048, written);
  // Every buffer of the dropped connection went back to the pool.
  EXPECT_TRUE(eventually([&] { return pool_->in_use() == 0; })) << pool_->in_use();
}

TEST_F(TargetSessionTest, GarbageAndTruncatedPdusEndOnlyTheirConnection) {
  TestInitiator good(port());
  ASSERT_TRUE(good.login(kTarget));

  TestInitiator garbage(port());
  garbage.send_raw(std::vector<uint8_t>(64, 0xee));  // opcode 0x2e is reserved
  EXPECT_TRUE(garbage.closed_by_peer());

  TestInitiator truncated(port());
  ASSERT_TRUE(truncated.login(kTarget, "iqn.1993-08.org.debian:01:truncated"));
  std::vector<uint8_t> half_a_header(30, 0);
  half_a_header[0] = 0x01;  // a SCSI Command's first bytes, then nothing
  truncated.send_raw(half_a_header);
  truncated.shutdown_sending();
  EXPECT_TRUE(truncated.closed_by_peer());

  const auto written = pattern(4096, 5);
  EXPECT_EQ(good.write(30, 100, written), 0);
  host_reads_back(good, 31, 100, written);
}

TEST_F(TargetSessionTest, AHostThatVanishesWithCommandsInFlightLeavesNothingBehind) {
  TestInitiator good(port());
  ASSERT_TRUE(good.login(kTarget));
  {
    TestInitiator gone(port());
    ASSERT_TRUE(gone.login(kTarget, "iqn.1993-08.org.debian:01:gone"));
    const auto data = pattern(256 * 1024, 2);
    const auto cdb = testing_support::write10(0, static_cast<uint16_t>(data.size() / 512));
    iscsi::ScsiCommand command =
        gone.command(1, cdb, static_cast<uint32_t>(data.size()), false, true);
    command.data = std::span<const uint8_t>(data).first(
        gone.parameters().connection.max_send_data_segment_length);
    command.final = true;
    gone.send(command);
    (void)gone.receive();  // an R2T: the command waits for data that never comes
    EXPECT_GT(pool_->in_use(), 0U);
  }  // the socket closes with the command in flight
  EXPECT_TRUE(eventually([&] { return live_sessions_ == 1; }));
  EXPECT_TRUE(eventually([&] { return pool_->in_use() == 0; })) << pool_->in_use();
  const auto written = pattern(4096, 6);
  EXPECT_EQ(good.write(40, 200, written), 0);
  host_reads_back(good, 41, 200, written);
}

TEST_F(TargetSessionTest, DiscoveryListsTargetsAtTheAddressTheHostReached) {
  options_.portals = {iscsi::TargetPortal{"", 0, 1}, iscsi::TargetPortal{"192.0.2.7", 3260, 2}};
  TestInitiator host(port());
  ASSERT_TRUE(host.login("", "iqn.1993-08.org.debian:01:discover"));
  const std::string answer = host.send_targets(3);
  EXPECT_NE(answer.find(std::string("TargetName=") + kTarget), std::string::npos) << answer;
  EXPECT_NE(answer.find("TargetAddress=127.0.0.1:" + std::to_string(port()) + ",1"),
            std::string::npos)
      << answer;
  EXPECT_NE(answer.find("TargetAddress=192.0.2.7:3260,2"), std::string::npos) << answer;
}

TEST_F(TargetSessionTest, ALoginThatNeverCompletesIsClosed) {
  options_.login_timeout = std::chrono::seconds(1);
  TestInitiator silent(port());  // connects, and never sends a Login Request
  EXPECT_TRUE(silent.closed_by_peer());
  EXPECT_TRUE(eventually([&] { return last_close_reason_ == "login timed out"; }))
      << last_close_reason_;
}

// A connection that sends nothing is closed well before the login timeout,
// so that idle connections cannot hold the portal's logins in progress; a
// host that logs in is not hurried.
TEST_F(TargetSessionTest, AConnectionThatSendsNoLoginPduIsClosedEarly) {
  options_.first_pdu_timeout = std::chrono::seconds(1);
  const auto start = std::chrono::steady_clock::now();
  TestInitiator silent(port());
  EXPECT_TRUE(silent.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(eventually([&] { return last_close_reason_ == "login timed out: no Login PDU"; }))
      << last_close_reason_;
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kTarget));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const std::array<uint8_t, 6> test_unit_ready{};
  host.send(host.command(1, test_unit_ready, 0, false, false));
  EXPECT_TRUE(std::holds_alternative<iscsi::ScsiResponse>(host.receive().pdu));
}

TEST_F(TargetSessionTest, RefusesAnUnknownTarget) {
  TestInitiator host(port());
  EXPECT_FALSE(host.login("iqn.2026-11.io.isergw.test:nothing", "iqn.1993-08.org.debian:01:x"));
  EXPECT_TRUE(host.closed_by_peer());
}

// MaxRecvDataSegmentLength is declarative and usable in full feature
// phase (RFC 7143 §13.12): a host that declares 4096 gets its read data in
// pieces of 4096 from then on, and no answer to the key.
TEST_F(TargetSessionTest, AMaxRecvDataSegmentLengthDeclaredAfterLoginSizesTheDataIns) {
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kTarget));
  const std::string keys = std::string("MaxRecvDataSegmentLength=4096") + '\0';
  const std::vector<uint8_t> data(keys.begin(), keys.end());
  iscsi::TextRequest text;
  text.itt = 5;
  text.immediate = true;
  text.cmd_sn = host.cmd_sn();
  text.data = data;
  host.send(text);
  const Received answer_pdu = host.receive();
  const auto& answer = std::get<iscsi::TextResponse>(answer_pdu.pdu);
  EXPECT_TRUE(answer.data.empty()) << std::string(answer.data.begin(), answer.data.end());
  const auto cdb = testing_support::read10(0, 64);
  host.send(host.command(6, cdb, 32768, true, false));
  size_t data_ins = 0;
  while (true) {
    const Received received = host.receive();
    const auto& data_in = std::get<iscsi::DataIn>(received.pdu);
    EXPECT_LE(data_in.data.size(), 4096U);
    ++data_ins;
    if (data_in.status_present) break;
  }
  EXPECT_EQ(data_ins, 8U);
}

// Connection recovery needs ErrorRecoveryLevel 2: a Logout asking to
// remove a connection for recovery hears "not supported" (RFC 7143
// §11.15.1), and the session goes on.
TEST_F(TargetSessionTest, ALogoutForConnectionRecoveryIsAnsweredNotSupported) {
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kTarget));
  iscsi::LogoutRequest logout;
  logout.immediate = true;
  logout.reason = iscsi::LogoutReason::kRemoveConnectionForRecovery;
  logout.itt = 9;
  logout.cmd_sn = host.cmd_sn();
  host.send(logout);
  const Received response_pdu = host.receive();
  const auto& response = std::get<iscsi::LogoutResponse>(response_pdu.pdu);
  EXPECT_EQ(response.response, iscsi::LogoutResponseCode::kRecoveryNotSupported);
  const std::array<uint8_t, 6> test_unit_ready{};
  host.send(host.command(10, test_unit_ready, 0, false, false));
  EXPECT_TRUE(std::holds_alternative<iscsi::ScsiResponse>(host.receive().pdu));
}

// A data digest error (here on a command's immediate data) is answered with
// a Reject naming it and carrying the PDU's header (RFC 7143 §7.8); at
// error recovery level 0 the connection then closes, and it is counted.
TEST_F(TargetSessionTest, ADataDigestErrorIsRejectedBeforeTheConnectionCloses) {
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kTarget, testing_support::kTestInitiatorName, /*digests=*/true));
  ASSERT_EQ(host.parameters().connection.data_digest, iscsi::DigestType::kCrc32c);
  const auto data = pattern(4096, 9);
  const auto cdb = testing_support::write10(0, 8);
  iscsi::ScsiCommand command = host.command(11, cdb, 4096, false, true);
  command.data = data;
  std::vector<uint8_t> bytes = host.encode(command);
  bytes[48 + 4 + 100] ^= 1;  // a data byte, after the BHS and its HeaderDigest
  host.send_raw(bytes);
  const Received received = host.receive();
  const auto* reject = std::get_if<iscsi::Reject>(&received.pdu);
  ASSERT_NE(reject, nullptr);
  EXPECT_EQ(reject->reason, iscsi::RejectReason::kDataDigestError);
  ASSERT_EQ(reject->data.size(), iscsi::kBhsLength);
  EXPECT_TRUE(std::equal(reject->data.begin(), reject->data.end(), bytes.begin()));
  bool closed = false;
  for (int i = 0; i < 50 && !closed; ++i)
    closed = host.closed_by_peer();
  EXPECT_TRUE(closed);
  EXPECT_TRUE(eventually([&] {
    return on_loop([&] { return sessions_.back()->connection_statistics().data_digest_errors; }) ==
           1U;
  }));
}

// The same for a NOP-Out's ping data: any PDU's data.
TEST_F(TargetSessionTest, ADataDigestErrorOnPingDataIsRejectedToo) {
  TestInitiator host(port());
  ASSERT_TRUE(host.login(kTarget, testing_support::kTestInitiatorName, /*digests=*/true));
  const auto ping = pattern(200, 4);
  iscsi::NopOut nop;
  nop.itt = 12;
  nop.immediate = true;
  nop.cmd_sn = host.cmd_sn();
  nop.data = ping;
  std::vector<uint8_t> bytes = host.encode(nop);
  bytes.back() ^= 1;  // the DataDigest itself
  host.send_raw(bytes);
  const Received reject_pdu = host.receive();
  const auto& reject = std::get<iscsi::Reject>(reject_pdu.pdu);
  EXPECT_EQ(reject.reason, iscsi::RejectReason::kDataDigestError);
  bool closed = false;
  for (int i = 0; i < 50 && !closed; ++i)
    closed = host.closed_by_peer();
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace isergw::fabric_tcp
