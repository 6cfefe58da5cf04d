// A storage that stops with a write in hand (stall_proxy.py sends it
// SIGSTOP as the write passes): every answer a host needs still comes,
// within the bounds of docs/RELIABILITY.md, and what was acknowledged
// before reads back once the storage resumes. Run by stuck_storage_test.sh
// with limits.task_management_timeout_seconds 3 and login_timeout_seconds 6
// (so the gateway's own login to the storage gives up after 4 s).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/eventually.h"
#include "tests/support/test_initiator.h"

namespace isergw {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testing_support::TestInitiator;
using Code = iscsi::TaskManagementResponseCode;

constexpr const char* kTarget = "iqn.2026-11.io.isergw.test:stuck";
constexpr auto kTaskManagementTimeout = seconds(3);
constexpr auto kBackLoginTimeout = seconds(4);
// What a loaded test machine may add to a bound.
constexpr auto kSlack = seconds(2);

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

struct Host {
  explicit Host(const std::string& name) : initiator(port()) {
    initiator.set_lun(1);  // tgtd's LUN 0 is its controller
    logged_in = initiator.login(kTarget, name) && initiator.take_unit_attention(itt);
  }
  static uint16_t port() { return static_cast<uint16_t>(std::stoi(environment("ISERGW_PORT"))); }

  TestInitiator initiator;
  bool logged_in = false;
  uint32_t itt = 1;
};

steady_clock::duration since(steady_clock::time_point start) {
  return steady_clock::now() - start;
}

bool wait_for_file(const std::string& path, seconds limit) {
  return testing_support::eventually([&] { return static_cast<bool>(std::ifstream(path)); }, limit,
                                     milliseconds(20));
}

// A task management request the session's next CmdSN rides on (immediate).
iscsi::TaskManagementRequest task_management(Host& host, iscsi::TaskManagementFunction function) {
  iscsi::TaskManagementRequest request;
  request.immediate = true;
  request.function = function;
  request.lun = host.initiator.lun();
  request.itt = host.itt++;
  request.cmd_sn = host.initiator.cmd_sn();
  return request;
}

TEST(StuckStorage, HostsGetAnswersWithinBoundsAndNothingAcknowledgedIsLost) {
  Host writer("iqn.1993-08.org.debian:01:stuck-writer");
  Host resetter("iqn.1993-08.org.debian:01:stuck-resetter");
  Host leaver("iqn.1993-08.org.debian:01:stuck-leaver");
  ASSERT_TRUE(writer.logged_in && resetter.logged_in && leaver.logged_in);
  const std::vector<uint8_t> acknowledged = testing_support::pattern(65536, 0x4b);
  ASSERT_EQ(writer.initiator.write(writer.itt++, 2048, acknowledged), 0);

  // The next write stops the storage as it passes.
  std::ofstream(environment("ARM_FILE")).flush();
  const std::vector<uint8_t> held = testing_support::pattern(4096, 0x11);
  const auto cdb = testing_support::write10(8192, 8);
  const uint32_t held_itt = writer.itt++;
  iscsi::ScsiCommand write = writer.initiator.command(held_itt, cdb, 4096, false, true);
  write.data = held;
  write.final = true;
  writer.initiator.send(write);
  ASSERT_TRUE(wait_for_file(environment("STOPPED_FILE"), seconds(5)))
      << "the storage was never stopped";

  // NOP-Out: the gateway answers for itself.
  iscsi::NopOut ping;
  ping.immediate = true;
  ping.itt = writer.itt++;
  ping.cmd_sn = writer.initiator.cmd_sn();
  auto start = steady_clock::now();
  writer.initiator.send(ping);
  const auto pong = writer.initiator.receive();
  ASSERT_TRUE(std::holds_alternative<iscsi::NopIn>(pong.pdu));
  EXPECT_EQ(std::get<iscsi::NopIn>(pong.pdu).itt, ping.itt);
  EXPECT_LT(since(start), kSlack);

  // ABORT TASK of the held write: "function rejected" at the deadline, as
  // its fate at the storage is unknown, and the session ends.
  iscsi::TaskManagementRequest abort =
      task_management(writer, iscsi::TaskManagementFunction::kAbortTask);
  abort.referenced_task_tag = held_itt;
  abort.ref_cmd_sn = write.cmd_sn;
  start = steady_clock::now();
  writer.initiator.send(abort);
  const auto aborted = writer.initiator.receive();
  ASSERT_TRUE(std::holds_alternative<iscsi::TaskManagementResponse>(aborted.pdu));
  EXPECT_EQ(std::get<iscsi::TaskManagementResponse>(aborted.pdu).response, Code::kFunctionRejected);
  EXPECT_GE(since(start), kTaskManagementTimeout - milliseconds(200));
  EXPECT_LT(since(start), kTaskManagementTimeout + kSlack);
  EXPECT_TRUE(writer.initiator.closed_by_peer());

  // LOGICAL UNIT RESET on another session: the same bound.
  start = steady_clock::now();
  resetter.initiator.send(
      task_management(resetter, iscsi::TaskManagementFunction::kLogicalUnitReset));
  const auto reset = resetter.initiator.receive();
  ASSERT_TRUE(std::holds_alternative<iscsi::TaskManagementResponse>(reset.pdu));
  EXPECT_EQ(std::get<iscsi::TaskManagementResponse>(reset.pdu).response, Code::kFunctionRejected);
  EXPECT_LT(since(start), kTaskManagementTimeout + kSlack);

  // Logout is answered at once; the back leg logs out on its own time.
  iscsi::LogoutRequest logout;
  logout.immediate = true;
  logout.itt = leaver.itt++;
  logout.cmd_sn = leaver.initiator.cmd_sn();
  start = steady_clock::now();
  leaver.initiator.send(logout);
  const auto left = leaver.initiator.receive();
  ASSERT_TRUE(std::holds_alternative<iscsi::LogoutResponse>(left.pdu));
  EXPECT_LT(since(start), kSlack);

  // The writer logs in again with its ISID: its login is answered, refused
  // as a target error, once the gateway's own login to the storage gives up.
  TestInitiator again(Host::port());
  again.use_isid(*writer.initiator.isid());
  start = steady_clock::now();
  EXPECT_FALSE(again.login(kTarget, "iqn.1993-08.org.debian:01:stuck-writer"));
  EXPECT_EQ(iscsi::status_class(again.login_status()), iscsi::LoginStatusClass::kTargetError);
  EXPECT_LT(since(start), kBackLoginTimeout + kSlack);

  // The storage resumes: what was acknowledged is there.
  ASSERT_EQ(kill(std::stoi(environment("STORAGE_PID")), SIGCONT), 0);
  Host reader("iqn.1993-08.org.debian:01:stuck-reader");
  ASSERT_TRUE(reader.logged_in);
  const auto [data, status] = reader.initiator.read(reader.itt++, 2048, 65536);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(data, acknowledged);
}

}  // namespace
}  // namespace isergw
