// Buffer admission at the pool's limits, end to end (started by
// buffer_admission_test.sh, one worker with a pool of 32 buffers of
// 128 KiB): the adversarial probe's reproducers as regression tests.
//   - Many large writes at once, several times the pool, from one session
//     and from several, to ram:// and relayed to tgtd: every one completes
//     (r3_write_deadlock.py: the pool once filled with partial write data
//     and no command could finish).
//   - A host asked for data that holds it: it pins no more than its share,
//     a bystander's I/O and a new login go on, and the host is closed once
//     data_timeout passes (r4_hog.py). A one-block WRITE declaring 128 MiB
//     is asked for one block.
//   - 64 MiB of reads from ram:// that nobody reads: resident memory stays
//     within the pool (r5_ram_read_mem.py).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "control/http_client.h"
#include "tests/support/eventually.h"
#include "tests/support/test_initiator.h"

namespace isergw {
namespace {

using testing_support::pattern;
using testing_support::Received;
using testing_support::TestInitiator;

constexpr const char* kRam = "iqn.2026-11.io.isergw.test:ram";
constexpr const char* kRelayed = "iqn.2026-11.io.isergw.test:relayed";
constexpr uint32_t kPoolBytes = 32 * 131072;
// The largest command the pool can set aside for: the ram:// target's
// MAXIMUM TRANSFER LENGTH.
constexpr uint32_t kLargest = 512 * 1024;

int environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::stoi(value) : 0;
}

long resident_kib() {
  std::ifstream status("/proc/" + std::to_string(environment("ISERGW_PID")) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// The sum of a metric's samples whose line starts with `prefix`.
double metric(const std::string& prefix) {
  const control::HttpClient client("127.0.0.1",
                                   static_cast<uint16_t>(environment("ISERGW_CONTROL_PORT")));
  auto reply = client.request("GET", "/metrics");
  if (!reply) return -1;
  double sum = 0;
  std::istringstream lines(reply->body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(prefix, 0) == 0) sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

struct Host {
  explicit Host(const char* target, const std::string& name = "iqn.1993-08.org.debian:01:host")
      : initiator(static_cast<uint16_t>(environment("ISERGW_PORT"))) {
    logged_in = initiator.login(target, name);
    // tgtd's LUN 0 is its controller; the disk is LUN 1.
    if (std::string(target) == kRelayed) initiator.set_lun(1);
    if (logged_in) ready = initiator.take_unit_attention(itt);
  }
  TestInitiator initiator;
  bool logged_in = false;
  bool ready = false;
  uint32_t itt = 1;
};

std::vector<uint8_t> data_of(uint32_t seed, uint32_t index, uint32_t bytes) {
  return pattern(bytes, static_cast<uint8_t>(seed * 29 + index));
}

// `count` WRITE(10)s of `bytes` each, all sent before any data, with no
// immediate data: every byte is asked for with R2Ts, which the host answers
// in the order they come. Returns the statuses by write.
std::vector<int> write_all_at_once(Host& host, uint32_t count, uint32_t bytes, uint32_t seed) {
  TestInitiator& initiator = host.initiator;
  std::map<uint32_t, uint32_t> index_of;  // ITT -> write
  std::vector<std::vector<uint8_t>> data;
  for (uint32_t i = 0; i < count; ++i) {
    data.push_back(data_of(seed, i, bytes));
    const auto cdb =
        testing_support::write10(i * (bytes / 512), static_cast<uint16_t>(bytes / 512));
    iscsi::ScsiCommand command = initiator.command(host.itt, cdb, bytes, false, true);
    command.final = true;
    index_of[host.itt++] = i;
    initiator.send(command);
  }
  std::vector<int> statuses(count, -1);
  for (uint32_t done = 0; done < count;) {
    const Received received = initiator.receive();
    if (const auto* r2t = std::get_if<iscsi::R2t>(&received.pdu)) {
      initiator.answer_r2t(*r2t, data[index_of.at(r2t->itt)]);
    } else if (const auto* response = std::get_if<iscsi::ScsiResponse>(&received.pdu)) {
      statuses[index_of.at(response->itt)] = response->status;
      ++done;
    } else {
      ADD_FAILURE() << "unexpected PDU " << iscsi::opcode_name(iscsi::pdu_opcode(received.pdu));
      return statuses;
    }
  }
  return statuses;
}

void expect_written(Host& host, uint32_t count, uint32_t bytes, uint32_t seed) {
  for (uint32_t i = 0; i < count; ++i) {
    auto [data, status] = host.initiator.read(host.itt++, i * (bytes / 512), bytes);
    ASSERT_EQ(status, 0) << "write " << i;
    ASSERT_EQ(data, data_of(seed, i, bytes)) << "write " << i;
  }
}

void writes_of_several_times_the_pool(const char* target) {
  Host host(target);
  ASSERT_TRUE(host.ready);
  constexpr uint32_t kWrites = 24;  // 12 MiB: three times the pool
  ASSERT_GE(host.initiator.login_window(), kWrites);
  const auto statuses = write_all_at_once(host, kWrites, kLargest, 1);
  EXPECT_EQ(statuses, std::vector<int>(kWrites, 0));
  expect_written(host, kWrites, kLargest, 1);
}

TEST(BufferAdmission, WritesOfSeveralTimesThePoolCompleteToRam) {
  const double waited = metric("isergw_buffer_claim_waits_total");
  writes_of_several_times_the_pool(kRam);
  // They did not fit at once: commands waited for buffers, in order.
  EXPECT_GT(metric("isergw_buffer_claim_waits_total"), waited);
}

TEST(BufferAdmission, WritesOfSeveralTimesThePoolCompleteRelayedToTgtd) {
  writes_of_several_times_the_pool(kRelayed);
}

TEST(BufferAdmission, SeveralSessionsWritingAtOnceAllComplete) {
  std::vector<std::thread> hosts;
  std::vector<std::vector<int>> statuses(4);
  constexpr uint32_t kWrites = 16;
  for (int i = 0; i < 4; ++i) {
    hosts.emplace_back([&, i] {
      Host host(i % 2 == 0 ? kRam : kRelayed,
                "iqn.1993-08.org.debian:01:writer-" + std::to_string(i));
      if (!host.ready) return;
      // Each host writes its own region of the disk it shares.
      statuses[i] = write_all_at_once(host, kWrites, kLargest / 2, 10 + i);
    });
  }
  for (auto& host : hosts)
    host.join();
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(statuses[i], std::vector<int>(kWrites, 0)) << "host " << i;
}

TEST(BufferAdmission, AOneBlockWriteDeclaringMoreIsAskedForOneBlock) {
  Host host(kRam, "iqn.1993-08.org.debian:01:declares-128m");
  ASSERT_TRUE(host.ready);
  const auto cdb = testing_support::write10(0, 1);
  iscsi::ScsiCommand command = host.initiator.command(host.itt, cdb, 128u << 20, false, true);
  command.final = true;
  host.initiator.send(command);
  const Received received = host.initiator.receive();
  const auto* r2t = std::get_if<iscsi::R2t>(&received.pdu);
  ASSERT_NE(r2t, nullptr);
  EXPECT_EQ(r2t->desired_data_transfer_length, 512U);
  const std::vector<uint8_t> block = pattern(512, 7);
  iscsi::DataOut data_out;
  data_out.lun = host.initiator.lun();
  data_out.itt = host.itt;
  data_out.ttt = r2t->ttt;
  data_out.final = true;
  data_out.data = block;
  host.initiator.send(data_out);
  const Received response_pdu = host.initiator.receive();
  const auto& response = std::get<iscsi::ScsiResponse>(response_pdu.pdu);
  EXPECT_EQ(response.status, 0);
  EXPECT_TRUE(response.residual_underflow);
  EXPECT_EQ(response.residual_count, (128u << 20) - 512);
}

// A host that was asked for data and holds it pins its share of the claims
// and no more; another host's I/O and a new login go on; data_timeout
// (3 s here) closes it, and its buffers return.
TEST(BufferAdmission, AHostHoldingWhatItWasAskedForHoldsItsShareAndIsClosed) {
  const std::string claimed = "isergw_buffer_pool_budget_used_buffers{use=\"claimed\"";
  Host hog(kRam, "iqn.1993-08.org.debian:01:hog");
  ASSERT_TRUE(hog.ready);
  const double timeouts = metric("isergw_errors_total{fabric=\"tcp\",kind=\"timeout\"");
  // Two commands of the largest size: the second waits for the first,
  // which waits for its data forever.
  for (int i = 0; i < 2; ++i) {
    const auto cdb = testing_support::write10(0, kLargest / 512);
    iscsi::ScsiCommand command = hog.initiator.command(hog.itt++, cdb, kLargest, false, true);
    command.final = true;
    hog.initiator.send(command);
  }
  const Received first_r2t = hog.initiator.receive();
  ASSERT_TRUE(std::holds_alternative<iscsi::R2t>(first_r2t.pdu));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_LE(metric(claimed), kLargest / 131072) << "the hog holds more than its share";

  Host bystander(kRam, "iqn.1993-08.org.debian:01:bystander");
  ASSERT_TRUE(bystander.ready) << "a new login failed while the hog held its buffers";
  for (uint32_t i = 0; i < 8; ++i) {
    const std::vector<uint8_t> data = data_of(99, i, 256 * 1024);
    ASSERT_EQ(bystander.initiator.write(bystander.itt++, 4096 + i * 512, data), 0);
    auto [read, status] = bystander.initiator.read(bystander.itt++, 4096 + i * 512, 256 * 1024);
    ASSERT_EQ(status, 0);
    ASSERT_EQ(read, data);
  }
  const bool closed =
      testing_support::eventually([&] { return hog.initiator.closed_by_peer(); },
                                  std::chrono::seconds(10), std::chrono::milliseconds(100));
  EXPECT_TRUE(closed) << "the hog kept its connection past data_timeout";
  EXPECT_GT(metric("isergw_errors_total{fabric=\"tcp\",kind=\"timeout\""), timeouts);
  EXPECT_EQ(metric(claimed), 0) << "the hog's buffers did not return";
}

TEST(BufferAdmission, ReadsNobodyReadsStayWithinThePool) {
  Host host(kRam, "iqn.1993-08.org.debian:01:not-reading");
  ASSERT_TRUE(host.ready);
  constexpr uint32_t kReads = 120;  // 60 MiB, fifteen times the pool
  ASSERT_GE(host.initiator.login_window(), kReads);
  const long before = resident_kib();
  for (uint32_t i = 0; i < kReads; ++i) {
    const auto cdb = testing_support::read10(0, kLargest / 512);
    host.initiator.send(host.initiator.command(host.itt++, cdb, kLargest, true, false));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const long during = resident_kib();
  EXPECT_GT(metric("isergw_buffer_claims_waiting"), 0) << "every read was staged at once";
  std::cout << "reads nobody reads: resident " << before << " -> " << during << " KiB\n";
#if !defined(__SANITIZE_ADDRESS__)
  // The pool, plus room for what a session's bookkeeping takes.
  EXPECT_LE(during - before, static_cast<long>(kPoolBytes / 1024 + 8 * 1024));
#endif
  for (uint32_t i = 0; i < kReads; ++i) {
    auto [data, status] = host.initiator.collect_read(kLargest);
    ASSERT_EQ(status, 0) << "read " << i;
  }
}

}  // namespace
}  // namespace isergw
