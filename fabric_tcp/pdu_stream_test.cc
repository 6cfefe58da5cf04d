#include "fabric_tcp/pdu_stream.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <numeric>
#include <optional>

#include "gateway/dpdk_memory.h"
#include "gateway/write_batch.h"
#include "iscsi/digest.h"

namespace isergw::fabric_tcp {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

struct RecordingHandler : PduStreamHandler {
  std::vector<iscsi::Pdu> pdus;
  std::vector<std::vector<uint8_t>> data;
  std::vector<const uint8_t*> data_addresses;
  std::vector<gateway::Buffer> kept;
  std::vector<bool> landed;     // per PDU: received into lent memory
  std::vector<bool> discarded;  // per PDU: its data segment found no buffer
  bool may_wait = true;         // what may_wait_for_buffer() answers
  std::optional<std::string> closed;
  bool keep_buffers = false;
  std::function<void()> answer;  // called for each PDU, after recording it
  // Lends memory for a data segment, as a back leg would (landing_for).
  std::function<std::optional<gateway::DataLanding>(const iscsi::Pdu&, uint32_t)> lend;

  void on_pdu(InboundPdu& inbound) override {
    pdus.push_back(inbound.pdu);
    const auto bytes = iscsi::pdu_data(inbound.pdu);
    data.emplace_back(bytes.begin(), bytes.end());
    data_addresses.push_back(bytes.data());
    landed.push_back(inbound.landed_in != nullptr);
    discarded.push_back(inbound.discarded);
    if (keep_buffers) kept.push_back(std::move(inbound.data));
    if (answer) answer();
  }
  std::optional<gateway::DataLanding> landing_for(const iscsi::Pdu& pdu, uint32_t length) override {
    return lend ? lend(pdu, length) : std::nullopt;
  }
  bool may_wait_for_buffer() override { return may_wait; }
  void on_closed(const std::string& reason) override { closed = reason; }
};

class PduStreamTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = gateway::start_dpdk_memory({.no_huge_megabytes = 64, .force_no_huge = true});
    ASSERT_TRUE(started) << started.error();
  }

  void SetUp() override {
    static int pools = 0;
    auto pool = gateway::BufferPool::create(
        {.name = "stream" + std::to_string(pools++), .buffer_size = 65536, .buffer_count = 4});
    ASSERT_TRUE(pool) << pool.error();
    pool_ = std::move(*pool);
    tcp::acceptor acceptor(context_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client_.connect(acceptor.local_endpoint());
    tcp::socket server(context_);
    acceptor.accept(server);
    stream_ = std::make_shared<PduStream>(std::move(server), *pool_, handler_,
                                          gateway::BufferUse::kHostData);
    stream_->start();
  }

  void TearDown() override {
    stream_->close("test over");
    context_.run_for(std::chrono::milliseconds(50));
  }

  // Runs the loop until `done` holds or a second passes.
  template <typename Predicate>
  bool run_until(Predicate done) {
    for (int i = 0; i < 200 && !done(); ++i) {
      context_.restart();  // a loop that ran out of work stays stopped until restarted
      context_.run_for(std::chrono::milliseconds(5));
    }
    return done();
  }

  std::vector<uint8_t> encode(const iscsi::Pdu& pdu, const iscsi::EncodeOptions& options = {}) {
    std::vector<uint8_t> bytes(iscsi::encoded_length(pdu, options));
    auto length = iscsi::encode_pdu(pdu, options, bytes);
    EXPECT_TRUE(length);
    return bytes;
  }

  void client_write(const std::vector<uint8_t>& bytes) {
    asio::write(client_, asio::buffer(bytes));
  }

  // The client receives exactly `expected`, in order, byte for byte.
  void expect_client_reads(const std::vector<iscsi::Pdu>& expected) {
    for (size_t i = 0; i < expected.size(); ++i) {
      const std::vector<uint8_t> want = encode(expected[i]);
      std::vector<uint8_t> got(want.size());
      asio::read(client_, asio::buffer(got));
      EXPECT_EQ(got, want) << "PDU " << i + 1;
    }
  }

  // A paused stream delivers the PDU its read in flight took, holds the
  // next one back while the loop runs, and delivers it once resumed.
  void expect_second_pdu_held_until_resumed() {
    ASSERT_TRUE(run_until([&] { return handler_.pdus.size() == 1; }));
    context_.restart();
    context_.run_for(std::chrono::milliseconds(30));
    EXPECT_EQ(handler_.pdus.size(), 1U);
    stream_->resume_reading();
    ASSERT_TRUE(run_until([&] { return handler_.pdus.size() == 2; }));
  }

  asio::io_context context_;
  tcp::socket client_{context_};
  std::unique_ptr<gateway::BufferPool> pool_;
  RecordingHandler handler_;
  std::shared_ptr<PduStream> stream_;
};

iscsi::DataOut data_out(std::span<const uint8_t> data, uint32_t offset) {
  iscsi::DataOut pdu;
  pdu.final = true;
  pdu.itt = 7;
  pdu.ttt = 0x1234;
  pdu.buffer_offset = offset;
  pdu.data = data;
  return pdu;
}

TEST_F(PduStreamTest, ReceivesPdusWithDataStraightIntoPoolBuffers) {
  std::vector<uint8_t> payload(5001);  // odd: exercises the padding
  std::iota(payload.begin(), payload.end(), 0);
  iscsi::NopOut nop;
  nop.itt = 1;
  nop.cmd_sn = 10;
  std::vector<uint8_t> wire = encode(nop);
  const auto second = encode(data_out(payload, 8192));
  wire.insert(wire.end(), second.begin(), second.end());
  handler_.keep_buffers = true;
  client_write(wire);
  ASSERT_TRUE(run_until([&] { return handler_.pdus.size() == 2; }));
  EXPECT_EQ(std::get<iscsi::NopOut>(handler_.pdus[0]).cmd_sn, 10U);
  const auto& received = std::get<iscsi::DataOut>(handler_.pdus[1]);
  EXPECT_EQ(received.buffer_offset, 8192U);
  EXPECT_EQ(handler_.data[1], payload);
  // The data segment was received into the pool buffer the handler kept.
  EXPECT_EQ(handler_.data_addresses[1], handler_.kept.back().data());
  EXPECT_EQ(pool_->in_use(), 1U);
  EXPECT_FALSE(handler_.closed);
}

iscsi::NopOut nop_out(uint32_t itt) {
  iscsi::NopOut nop;
  nop.itt = itt;
  return nop;
}

iscsi::NopIn nop_in(uint32_t itt) {
  iscsi::NopIn nop;
  nop.itt = itt;
  return nop;
}

// NOP-Ins with ITTs 1 to `count`.
std::vector<iscsi::Pdu> nop_ins(uint32_t count) {
  std::vector<iscsi::Pdu> pdus;
  for (uint32_t itt = 1; itt <= count; ++itt)
    pdus.push_back(nop_in(itt));
  return pdus;
}

TEST_F(PduStreamTest, TakesTheNextHeaderWithADataSegment) {
  std::vector<uint8_t> first(5001), second(100);
  std::iota(first.begin(), first.end(), 0);
  std::iota(second.begin(), second.end(), 7);
  std::vector<uint8_t> wire;
  for (const auto& pdu : {encode(data_out(first, 0)), encode(nop_out(1)),
                          encode(data_out(second, 5001)), encode(nop_out(2))}) {
    wire.insert(wire.end(), pdu.begin(), pdu.end());
  }
  client_write(wire);
  ASSERT_TRUE(run_until([&] { return handler_.pdus.size() == 4; }));
  EXPECT_EQ(handler_.data[0], first);
  EXPECT_EQ(std::get<iscsi::NopOut>(handler_.pdus[1]).itt, 1U);
  EXPECT_EQ(handler_.data[2], second);
  EXPECT_EQ(std::get<iscsi::NopOut>(handler_.pdus[3]).itt, 2U);
  // Both NOP-Outs came with the data before them; the second Data-Out's
  // header was read on its own, since a header-only PDU reads nothing ahead.
  EXPECT_EQ(stream_->statistics().headers_read_ahead, 2U);
  EXPECT_EQ(stream_->statistics().bytes_received, wire.size());
  EXPECT_FALSE(handler_.closed);
}

TEST_F(PduStreamTest, CompletesAHeaderPartlyReadAhead) {
  std::vector<uint8_t> payload(300, 0xab);
  std::vector<uint8_t> wire = encode(data_out(payload, 0));
  const auto nop = encode(nop_out(3));
  const size_t early = 20;  // of the NOP-Out's 48 header bytes
  wire.insert(wire.end(), nop.begin(), nop.begin() + early);
  client_write(wire);
  ASSERT_TRUE(run_until([&] { return handler_.pdus.size() == 1; }));
  client_write(std::vector<uint8_t>(nop.begin() + early, nop.end()));
  ASSERT_TRUE(run_until([&] { return handler_.pdus.size() == 2; }));
  EXPECT_EQ(handler_.data[0], payload);
  EXPECT_EQ(std::get<iscsi::NopOut>(handler_.pdus[1]).itt, 3U);
  EXPECT_EQ(stream_->statistics().headers_read_ahead, 0U);
  EXPECT_FALSE(handler_.closed);
}

TEST_F(PduStreamTest, AHeaderReadAheadWaitsOutAPause) {
  stream_->pause_reading();  // the read in flight still takes the Data-Out
  std::vector<uint8_t> payload(64, 1);
  std::vector<uint8_t> wire = encode(data_out(payload, 0));
  const auto nop = encode(nop_out(4));
  wire.insert(wire.end(), nop.begin(), nop.end());
  client_write(wire);
  ASSERT_NO_FATAL_FAILURE(expect_second_pdu_held_until_resumed());
  EXPECT_EQ(std::get<iscsi::NopOut>(handler_.pdus[1]).itt, 4U);
  EXPECT_EQ(stream_->statistics().headers_read_ahead, 1U);
}

TEST_F(PduStreamTest, AnEmptyPoolDelaysDataAndNeverDropsIt) {
  // Every buffer of the budget for unasked host data is taken (as by
  // commands still in flight).
  std::vector<gateway::Buffer> taken;
  for (size_t i = 0; i < pool_->budget(gateway::BufferUse::kHostData); ++i)
    taken.push_back(pool_->acquire());
  ASSERT_FALSE(pool_->acquire());
  std::vector<uint8_t> payload(3000);
  std::iota(payload.begin(), payload.end(), 5);
  client_write(encode(data_out(payload, 0)));
  run_until([] { return false; });  // a second: nothing can be delivered
  EXPECT_TRUE(handler_.pdus.empty());
  EXPECT_GE(stream_->statistics().buffer_waits, 1U);
  EXPECT_FALSE(handler_.closed);
  taken.pop_back();  // one buffer comes back
  ASSERT_TRUE(run_until([&] { return handler_.pdus.size() == 1; }));
  EXPECT_EQ(handler_.data[0], payload);
  EXPECT_FALSE(handler_.closed);
}

// A connection holding its share of the pool (here one buffer of four) of
// data it sent unasked waits, although buffers are free. Once its handler
// says it must not wait (the host owes data the gateway asked for, behind
// this PDU), the segment is read and dropped, and the PDU delivered marked
// as such; what follows arrives as ever.
TEST_F(PduStreamTest, UnaskedDataPastTheShareWaitsOrIsDroppedWhenWaitingWouldHoldBackOwedData) {
  handler_.keep_buffers = true;  // as tasks still in flight hold them
  ASSERT_EQ(pool_->share(), 1U);
  std::vector<uint8_t> payload(3000, 0x5a);
  iscsi::DataOut unsolicited = data_out(payload, 0);
  unsolicited.ttt = iscsi::kReservedTag;
  client_write(encode(unsolicited));
  ASSERT_TRUE(run_until([&] { return handler_.pdus.size() == 1; }));
  unsolicited.buffer_offset = 3000;
  client_write(encode(unsolicited));
  run_until([] { return false; });
  EXPECT_EQ(handler_.pdus.size(), 1U) << "unasked data past the share came in";
  EXPECT_EQ(pool_->in_use(), 1U);
  EXPECT_GE(stream_->statistics().buffer_waits, 1U);
  handler_.may_wait = false;
  ASSERT_TRUE(run_until([&] { return handler_.pdus.size() == 2; }));
  EXPECT_TRUE(handler_.discarded[1]);
  EXPECT_TRUE(handler_.data[1].empty());
  EXPECT_EQ(pool_->in_use(), 1U);
  handler_.kept.front() = gateway::Buffer();  // the first unasked segment is done with
  unsolicited.buffer_offset = 6000;
  client_write(encode(unsolicited));
  ASSERT_TRUE(run_until([&] { return handler_.pdus.size() == 3; }));
  EXPECT_FALSE(handler_.discarded[2]);
  EXPECT_EQ(handler_.data[2], payload);
  EXPECT_FALSE(handler_.closed);
}

// Only a command's or a Data-Out's segment is ever dropped: any other PDU's
// data (a NOP-Out's ping data, which must be echoed) is kept in memory of
// its own when the pool has none to give and waiting is not allowed.
TEST_F(PduStreamTest, APingsDataIsKeptWhenNoBufferMayBeWaitedFor) {
  std::vector<gateway::Buffer> taken;
  while (gateway::Buffer buffer = pool_->acquire())
    taken.push_back(std::move(buffer));
  handler_.may_wait = false;
  const std::vector<uint8_t> ping(300, 0x6b);
  iscsi::NopOut nop;
  nop.itt = 3;
  nop.immediate = true;
  nop.data = ping;
  client_write(encode(nop));
  ASSERT_TRUE(run_until([&] { return handler_.pdus.size() == 1; }));
  EXPECT_FALSE(handler_.discarded[0]);
  EXPECT_TRUE(handler_.landed[0]);
  EXPECT_EQ(handler_.data[0], ping);
}

TEST_F(PduStreamTest, ChecksDigestsOnceNegotiated) {
  const iscsi::EncodeOptions digests{.header_digest = true, .data_digest = true};
  stream_->set_decode_options(
      {.header_digest = true, .data_digest = true, .max_recv_data_segment_length = 65536});
  std::vector<uint8_t> payload(4096, 0xab);
  client_write(encode(data_out(payload, 0), digests));
  ASSERT_TRUE(run_until([&] { return handler_.pdus.size() == 1; }));
  EXPECT_EQ(handler_.data[0], payload);

  std::vector<uint8_t> corrupt = encode(data_out(payload, 4096), digests);
  corrupt[48 + 4 + 100] ^= 1;  // a data byte, after BHS and HeaderDigest
  client_write(corrupt);
  ASSERT_TRUE(run_until([&] { return handler_.closed.has_value(); }));
  EXPECT_NE(handler_.closed->find("DataDigest mismatch"), std::string::npos) << *handler_.closed;
  EXPECT_EQ(stream_->statistics().digest_errors, 1U);
  EXPECT_EQ(handler_.pdus.size(), 1U);
}

// A data segment the handler lends memory for is received there, digest
// checked, with no pool buffer taken; one it lends the wrong length for
// goes to a pool buffer as ever.
TEST_F(PduStreamTest, ReceivesADataSegmentIntoMemoryTheHandlerLends) {
  const iscsi::EncodeOptions digests{.header_digest = true, .data_digest = true};
  stream_->set_decode_options(
      {.header_digest = true, .data_digest = true, .max_recv_data_segment_length = 65536});
  auto lent = std::make_shared<std::vector<uint8_t>>(16384);
  std::vector<std::pair<uint32_t, uint32_t>> asked;  // (offset, length)
  handler_.lend = [&](const iscsi::Pdu& pdu,
                      uint32_t length) -> std::optional<gateway::DataLanding> {
    const uint32_t offset = std::get<iscsi::DataOut>(pdu).buffer_offset;
    asked.emplace_back(offset, length);
    const uint32_t lent_length = offset == 0 ? length : length - 1;  // the second one is wrong
    return gateway::DataLanding{std::span<uint8_t>(lent->data() + 4096 + offset, lent_length),
                                lent};
  };
  std::vector<size_t> pool_in_use;
  handler_.answer = [&] { pool_in_use.push_back(pool_->in_use()); };
  std::vector<uint8_t> first(5001);  // odd: the padding is read past the landing
  std::iota(first.begin(), first.end(), 1);
  std::vector<uint8_t> second(3000, 0x77);
  std::vector<uint8_t> wire = encode(data_out(first, 0), digests);
  const auto more = encode(data_out(second, 8192), digests);
  wire.insert(wire.end(), more.begin(), more.end());
  client_write(wire);
  ASSERT_TRUE(run_until([&] { return handler_.pdus.size() == 2; }));

  const std::vector<std::pair<uint32_t, uint32_t>> expected_asks = {{0, 5001}, {8192, 3000}};
  EXPECT_EQ(asked, expected_asks);
  EXPECT_EQ(handler_.landed, (std::vector<bool>{true, false}));
  EXPECT_EQ(handler_.data_addresses[0], lent->data() + 4096);
  EXPECT_TRUE(std::equal(first.begin(), first.end(), lent->begin() + 4096));
  EXPECT_EQ(lent->at(4096 + 5001), 0);  // nothing past the segment
  EXPECT_EQ(pool_in_use, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(handler_.data[1], second);
  EXPECT_FALSE(handler_.closed);
  // The stream lets go of the landing once the PDU is delivered.
  EXPECT_EQ(lent.use_count(), 1);
}

TEST_F(PduStreamTest, ClosesOnGarbageNamingTheRule) {
  std::vector<uint8_t> garbage(48, 0);
  garbage[0] = 0x1f;  // a reserved opcode
  client_write(garbage);
  ASSERT_TRUE(run_until([&] { return handler_.closed.has_value(); }));
  EXPECT_NE(handler_.closed->find("bad PDU header"), std::string::npos) << *handler_.closed;
  EXPECT_TRUE(handler_.pdus.empty());
  EXPECT_FALSE(stream_->is_open());
}

TEST_F(PduStreamTest, RefusesADataSegmentBeyondTheDeclaredLimit) {
  std::vector<uint8_t> payload(9000);  // the login-time limit is 8192
  client_write(encode(data_out(payload, 0)));
  ASSERT_TRUE(run_until([&] { return handler_.closed.has_value(); }));
  EXPECT_NE(handler_.closed->find("DataSegmentLength"), std::string::npos) << *handler_.closed;
}

TEST_F(PduStreamTest, ReportsAPeerThatClosesMidPdu) {
  std::vector<uint8_t> payload(4000, 1);
  auto wire = encode(data_out(payload, 0));
  wire.resize(1000);  // truncated inside the data segment
  client_write(wire);
  client_.close();
  ASSERT_TRUE(run_until([&] { return handler_.closed.has_value(); }));
  EXPECT_NE(handler_.closed->find("inside a data segment"), std::string::npos) << *handler_.closed;
  EXPECT_EQ(pool_->in_use(), 0U);
}

TEST_F(PduStreamTest, SendsQueuedPdusInOrderWithTheirData) {
  std::vector<uint8_t> payload(3001, 0x5a);
  stream_->set_encode_options({.header_digest = true, .data_digest = true});
  for (uint32_t i = 0; i < 3; ++i) {
    iscsi::DataIn pdu;
    pdu.itt = i;
    pdu.data_sn = i;
    pdu.buffer_offset = i * 3001;
    pdu.data = payload;
    stream_->send(pdu, std::vector<uint8_t>());  // payload outlives the test's loop
  }
  ASSERT_TRUE(run_until([&] { return stream_->queued_pdus() == 0; }));
  const iscsi::DecodeOptions options{
      .header_digest = true, .data_digest = true, .max_recv_data_segment_length = 65536};
  const size_t one = 48 + 4 + 3004 + 4;
  std::vector<uint8_t> wire(3 * one);
  asio::read(client_, asio::buffer(wire));
  for (uint32_t i = 0; i < 3; ++i) {
    auto decoded = iscsi::decode_pdu(std::span(wire).subspan(i * one), options);
    ASSERT_TRUE(decoded) << decoded.error().describe();
    const auto& data_in = std::get<iscsi::DataIn>(decoded->pdu);
    EXPECT_EQ(data_in.data_sn, i);
    EXPECT_EQ(std::vector<uint8_t>(data_in.data.begin(), data_in.data.end()), payload);
  }
  EXPECT_EQ(stream_->statistics().pdus_sent, 3U);
}

TEST_F(PduStreamTest, LetsGoOfSentDataAndReusesQueueEntriesCleanly) {
  // Queue entries are kept for the next PDUs: what a sent PDU held must go
  // back at once, and nothing of it may leak into the next PDU's framing.
  std::vector<uint8_t> payload(3001, 0x5a);
  auto owner = std::make_shared<std::vector<uint8_t>>(payload);
  const std::weak_ptr<std::vector<uint8_t>> watched = owner;
  stream_->set_encode_options({.header_digest = true, .data_digest = true});
  iscsi::DataIn with_data;
  with_data.data = *owner;
  stream_->send(with_data, std::shared_ptr<const void>(std::move(owner)));
  ASSERT_TRUE(run_until([&] { return stream_->queued_pdus() == 0; }));
  EXPECT_TRUE(watched.expired());
  std::vector<uint8_t> first(48 + 4 + 3004 + 4);
  asio::read(client_, asio::buffer(first));

  stream_->set_encode_options({});
  stream_->send(nop_in(9));
  ASSERT_TRUE(run_until([&] { return stream_->queued_pdus() == 0; }));
  std::vector<uint8_t> second(48);
  asio::read(client_, asio::buffer(second));
  EXPECT_EQ(second, encode(nop_in(9)));
  EXPECT_EQ(client_.available(), 0U);  // no stale data segment or digest after it
}

TEST_F(PduStreamTest, PdusQueuedInAWriteBatchLeaveInOneWrite) {
  {
    gateway::WriteBatch batch;
    for (uint32_t itt = 1; itt <= 3; ++itt)
      stream_->send(nop_in(itt));
    EXPECT_EQ(stream_->statistics().writes, 0U);
    EXPECT_EQ(stream_->queued_pdus(), 3U);
  }
  ASSERT_TRUE(run_until([&] { return stream_->queued_pdus() == 0; }));
  EXPECT_EQ(stream_->statistics().writes, 1U);
  EXPECT_EQ(stream_->statistics().pdus_sent, 3U);
  // Outside a batch, each PDU is written as it comes.
  stream_->send(nop_in(4));
  stream_->send(nop_in(5));
  ASSERT_TRUE(run_until([&] { return stream_->queued_pdus() == 0; }));
  EXPECT_EQ(stream_->statistics().writes, 3U);
  expect_client_reads(nop_ins(5));
}

TEST_F(PduStreamTest, AnswersToPdusReceivedTogetherLeaveInOneWrite) {
  // As an R2T's Data-Outs do: every PDU received is answered with three.
  uint32_t next_itt = 1;
  handler_.answer = [&] {
    for (int i = 0; i < 3; ++i)
      stream_->send(nop_in(next_itt++));
  };
  // The NOP-Out's header comes in the Data-Out's receive, so both are
  // handled in one turn of the loop.
  const std::vector<uint8_t> payload(4096, 0x5a);
  std::vector<uint8_t> both = encode(data_out(payload, 0));
  const std::vector<uint8_t> second = encode(nop_out(1));
  both.insert(both.end(), second.begin(), second.end());
  client_write(both);
  ASSERT_TRUE(run_until([&] { return handler_.pdus.size() == 2 && stream_->queued_pdus() == 0; }));
  EXPECT_EQ(stream_->statistics().headers_read_ahead, 1U);
  EXPECT_EQ(stream_->statistics().pdus_sent, 6U);
  EXPECT_EQ(stream_->statistics().writes, 1U);
  expect_client_reads(nop_ins(6));
}

TEST_F(PduStreamTest, PausedStreamsReadNothingUntilResumed) {
  stream_->pause_reading();
  iscsi::NopOut nop;
  nop.itt = 9;
  client_write(encode(nop));  // the read already in flight takes this one
  client_write(encode(nop));
  ASSERT_NO_FATAL_FAILURE(expect_second_pdu_held_until_resumed());
}

}  // namespace
}  // namespace isergw::fabric_tcp
