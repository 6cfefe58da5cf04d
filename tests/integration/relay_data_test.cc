// The relay end to end against real storage: isergw in front of tgtd, both
// started by relay_test.sh on loopback. Data written through the gateway is
// read back through it and directly from tgtd, and the other way round, in
// sizes around FirstBurstLength, MaxBurstLength and the buffer size, and in
// odd block counts. Misbehaving hosts and refusing storage end only their
// own sessions.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/eventually.h"
#include "tests/support/test_initiator.h"

namespace isergw {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using testing_support::pattern;
using testing_support::Received;
using testing_support::TestInitiator;

constexpr const char* kRelay = "iqn.2026-11.io.isergw.test:relay";
constexpr const char* kMissing = "iqn.2026-11.io.isergw.test:missing";
constexpr const char* kUnreachable = "iqn.2026-11.io.isergw.test:unreachable";
constexpr const char* kGatewayName = "iqn.2026-11.io.isergw.test:gateway-identity";
constexpr uint16_t kLun = 1;  // tgtd's LUN 0 is its controller

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

uint16_t gateway_port() {
  return static_cast<uint16_t>(std::stoi(environment("ISERGW_PORT")));
}
uint16_t storage_port() {
  return static_cast<uint16_t>(std::stoi(environment("TGTD_PORT")));
}

// A host logged in to the relayed target, or directly to tgtd's.
class Host {
 public:
  // `isid`: another host's, to reinstate its session.
  Host(uint16_t port, const std::string& target, const std::string& name, uint16_t lun = kLun,
       std::optional<iscsi::Isid> isid = std::nullopt)
      : initiator_(port) {
    if (isid) initiator_.use_isid(*isid);
    logged_in_ = initiator_.login(target, name);
    initiator_.set_lun(lun);
    if (logged_in_) initiator_.take_unit_attention(next_itt_);
  }
  bool logged_in() const { return logged_in_; }
  TestInitiator& operator*() { return initiator_; }
  TestInitiator* operator->() { return &initiator_; }

  uint8_t write(uint32_t lba, const std::vector<uint8_t>& data) {
    return initiator_.write(next_itt_++, lba, data);
  }
  std::vector<uint8_t> read(uint32_t lba, size_t length, uint8_t* status) {
    auto [data, got] = initiator_.read(next_itt_++, lba, static_cast<uint32_t>(length));
    *status = got;
    return data;
  }

 private:
  TestInitiator initiator_;
  bool logged_in_ = false;
  uint32_t next_itt_ = 1;
};

Host through_gateway(const std::string& name = "iqn.1993-08.org.debian:01:relay-host") {
  return Host(gateway_port(), kRelay, name);
}
Host direct(const std::string& name = "iqn.1993-08.org.debian:01:direct-host") {
  return Host(storage_port(), environment("TGTD_IQN"), name);
}

// Around FirstBurstLength (64 KiB), MaxBurstLength (256 KiB), tgtd's
// MaxRecvDataSegmentLength (8 KiB) and the gateway's buffer (128 KiB), and
// odd block counts.
const std::vector<size_t> kSizes = {512,
                                    4096,
                                    8192 + 512,
                                    65536,
                                    65536 + 512,
                                    128 * 1024 + 1536,
                                    262144,
                                    262144 + 3 * 512,
                                    1048576 + 7 * 512,
                                    4 * 1048576 + 11 * 512};

TEST(RelayData, WrittenThroughTheGatewayReadsBackThroughItAndDirectly) {
  Host host = through_gateway();
  Host storage = direct();
  ASSERT_TRUE(host.logged_in());
  ASSERT_TRUE(storage.logged_in());
  uint32_t lba = 0;
  for (size_t size : kSizes) {
    SCOPED_TRACE("transfer of " + std::to_string(size) + " bytes");
    const auto written = pattern(size, static_cast<uint8_t>(size % 251));
    ASSERT_EQ(host.write(lba, written), 0);
    uint8_t status = 0xff;
    EXPECT_EQ(host.read(lba, size, &status), written);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(storage.read(lba, size, &status), written);
    EXPECT_EQ(status, 0);
    lba += static_cast<uint32_t>(size / 512) + 1;
  }
}

TEST(RelayData, WrittenDirectlyReadsBackThroughTheGateway) {
  Host host = through_gateway();
  Host storage = direct();
  ASSERT_TRUE(host.logged_in());
  ASSERT_TRUE(storage.logged_in());
  uint32_t lba = 40000;
  for (size_t size : kSizes) {
    SCOPED_TRACE("transfer of " + std::to_string(size) + " bytes");
    const auto written = pattern(size, static_cast<uint8_t>(size % 241 + 1));
    ASSERT_EQ(storage.write(lba, written), 0);
    uint8_t status = 0xff;
    EXPECT_EQ(host.read(lba, size, &status), written);
    EXPECT_EQ(status, 0);
    lba += static_cast<uint32_t>(size / 512) + 1;
  }
}

TEST(RelayData, StorageStatusAndSenseReachTheHostUnchanged) {
  Host host = through_gateway();
  ASSERT_TRUE(host.logged_in());
  // READ(10) far past the end of the 64 MiB LUN: tgtd answers CHECK
  // CONDITION, ILLEGAL REQUEST, LBA OUT OF RANGE, and so must the gateway.
  const auto cdb = testing_support::read10(0x7fffffff, 1);
  host->send(host->command(77, cdb, 512, true, false));
  while (true) {
    const Received received = host->receive();
    if (std::holds_alternative<iscsi::DataIn>(received.pdu)) continue;
    const auto& response = std::get<iscsi::ScsiResponse>(received.pdu);
    EXPECT_EQ(response.status, 0x02);
    ASSERT_GE(response.data.size(), 2 + 14u);
    const uint8_t* sense = response.data.data() + 2;
    EXPECT_EQ(sense[2] & 0x0f, 0x05);  // ILLEGAL REQUEST
    EXPECT_EQ(sense[12], 0x21);        // LOGICAL BLOCK ADDRESS OUT OF RANGE
    break;
  }
}

TEST(RelayData, DiscoveryThroughTheGatewayListsTheGatewaysPortal) {
  TestInitiator host(gateway_port());
  ASSERT_TRUE(host.login("", "iqn.1993-08.org.debian:01:discover"));
  const std::string answer = host.send_targets(3);
  EXPECT_NE(answer.find(std::string("TargetName=") + kRelay), std::string::npos) << answer;
  EXPECT_NE(answer.find("TargetAddress=127.0.0.1:" + std::to_string(gateway_port()) + ",1"),
            std::string::npos)
      << answer;
  // The storage's own address is the gateway's business, never the host's.
  EXPECT_EQ(answer.find(":" + std::to_string(storage_port())), std::string::npos) << answer;
}

TEST(RelayData, AStorageThatRefusesTheLoginRefusesTheHost) {
  TestInitiator host(gateway_port());
  EXPECT_FALSE(host.login(kMissing, "iqn.1993-08.org.debian:01:refused"));
  EXPECT_EQ(iscsi::status_class(host.login_status()), iscsi::LoginStatusClass::kTargetError);
  EXPECT_TRUE(host.closed_by_peer());
}

TEST(RelayData, TheGatewayAnswersTheStoragesChapWithItsOwnCredentials) {
  // The host logs in without CHAP; the gateway proves itself to the storage.
  Host host(gateway_port(), "iqn.2026-11.io.isergw.test:chap", "iqn.1993-08.org.debian:01:chap");
  ASSERT_TRUE(host.logged_in());
  const auto written = pattern(8192, 77);
  EXPECT_EQ(host.write(16, written), 0);
  uint8_t status = 0xff;
  EXPECT_EQ(host.read(16, written.size(), &status), written);
  // Wrong or missing credentials toward the storage refuse the host's login.
  for (const char* target :
       {"iqn.2026-11.io.isergw.test:bad-chap", "iqn.2026-11.io.isergw.test:no-chap"}) {
    TestInitiator refused(gateway_port());
    EXPECT_FALSE(refused.login(target, "iqn.1993-08.org.debian:01:chap")) << target;
    EXPECT_EQ(iscsi::status_class(refused.login_status()), iscsi::LoginStatusClass::kTargetError)
        << target;
  }
}

TEST(RelayData, UnreachableStorageIsServiceUnavailableForTheHost) {
  TestInitiator host(gateway_port());
  EXPECT_FALSE(host.login(kUnreachable, "iqn.1993-08.org.debian:01:unreachable"));
  EXPECT_EQ(host.login_status(), iscsi::LoginStatus::kServiceUnavailable);
}

// tgtd dies with commands in flight and comes back: the host's connection
// ends (its commands are not lost: they never completed, and it retries
// them), logins are refused as "service unavailable" while the storage is
// away, and once it is back the host logs in again and finds every write
// that was acknowledged. A host on the built-in back end never notices.
TEST(RelayData, StorageThatDiesAndComesBackLosesNoAcknowledgedWrite) {
  Host bystander(gateway_port(), "iqn.2026-11.io.isergw.test:ram", "iqn.1993-08.org.debian:01:by",
                 0);
  ASSERT_TRUE(bystander.logged_in());
  Host host = through_gateway("iqn.1993-08.org.debian:01:survivor");
  ASSERT_TRUE(host.logged_in());
  const auto acknowledged = pattern(262144 + 512, 91);
  ASSERT_EQ(host.write(120000, acknowledged), 0);
  // A read in flight when the storage dies.
  const auto cdb = testing_support::read10(120000, 8);
  host->send(host->command(500, cdb, 4096, true, false));
  const std::string restart = environment("TGTD_RESTART");
  ASSERT_EQ(std::system((restart + " stop").c_str()), 0);
  bool closed = false;
  try {
    while (true)
      host->receive();  // the read's data may or may not have come
  } catch (const boost::system::system_error&) {
    closed = true;
  }
  EXPECT_TRUE(closed);
  {
    TestInitiator refused(gateway_port());
    EXPECT_FALSE(refused.login(kRelay, "iqn.1993-08.org.debian:01:survivor"));
    EXPECT_EQ(refused.login_status(), iscsi::LoginStatus::kServiceUnavailable);
  }
  const auto bystander_data = pattern(65536, 92);
  EXPECT_EQ(bystander.write(2000, bystander_data), 0);
  ASSERT_EQ(std::system((restart + " start").c_str()), 0);
  Host again = through_gateway("iqn.1993-08.org.debian:01:survivor");
  ASSERT_TRUE(again.logged_in());
  uint8_t status = 0xff;
  EXPECT_EQ(again.read(120000, acknowledged.size(), &status), acknowledged);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(bystander.read(2000, bystander_data.size(), &status), bystander_data);
}

TEST(RelayData, AHostThatVanishesMidWriteLeavesTheOthersWorking) {
  Host steady = through_gateway("iqn.1993-08.org.debian:01:steady");
  ASSERT_TRUE(steady.logged_in());
  for (int round = 0; round < 3; ++round) {
    Host gone = through_gateway("iqn.1993-08.org.debian:01:gone-" + std::to_string(round));
    ASSERT_TRUE(gone.logged_in());
    // A 1 MiB write whose R2Ts are never answered, then the socket closes.
    const auto cdb = testing_support::write10(90000, 2048);
    iscsi::ScsiCommand command = gone->command(5, cdb, 1048576, false, true);
    gone->send(command);
    const auto written = pattern(65536 + 512, static_cast<uint8_t>(round + 50));
    ASSERT_EQ(steady.write(80000 + round * 200, written), 0);
    uint8_t status = 0xff;
    EXPECT_EQ(steady.read(80000 + round * 200, written.size(), &status), written);
    EXPECT_EQ(status, 0);
  }
  // New hosts still log in and see what the steady host wrote.
  Host later = through_gateway("iqn.1993-08.org.debian:01:later");
  ASSERT_TRUE(later.logged_in());
  uint8_t status = 0xff;
  EXPECT_EQ(later.read(80000, 65536 + 512, &status), pattern(65536 + 512, 50));
}

// A gateway of the test's own, which the test stops.
class OwnGateway {
 public:
  // With `identity`, the target is written to a config file with that
  // identity and the gateway name kGatewayName; otherwise --map is used.
  explicit OwnGateway(const std::string& map, const std::string& identity = "") {
    asio::io_context context;
    tcp::acceptor probe(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port_ = probe.local_endpoint().port();
    // The control API needs a port of its own: the default one may be taken
    // by the gateway of relay_test.sh.
    tcp::acceptor control_probe(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const std::string control =
        "127.0.0.1:" + std::to_string(control_probe.local_endpoint().port());
    control_probe.close();
    probe.close();
    log_ = environment("TEST_TMPDIR") + "/own-gateway.log";
    const std::string binary = environment("ISERGW_BINARY");
    const std::string listen = "tcp://127.0.0.1:" + std::to_string(port_);
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      if (identity.empty()) {
        execl(binary.c_str(), binary.c_str(), "--listen", listen.c_str(), "--control",
              control.c_str(), "--workers", "1", "--map", map.c_str(), static_cast<char*>(nullptr));
      } else {
        const std::string path = environment("TEST_TMPDIR") + "/own-gateway.json";
        const size_t equals = map.find('=');
        std::ofstream(path) << "{\"listen\": [\"" << listen << "\"], \"control\": \"" << control
                            << "\", \"workers\": 1, \"gateway_name\": \"" << kGatewayName
                            << "\", \"targets\": [{\"name\": \"" << map.substr(0, equals)
                            << "\", \"back_end\": \"" << map.substr(equals + 1)
                            << "\", \"identity\": \"" << identity << "\"}]}";
        execl(binary.c_str(), binary.c_str(), "--config", path.c_str(),
              static_cast<char*>(nullptr));
      }
      _exit(127);
    }
    for (int i = 0; i < 100; ++i) {
      boost::system::error_code error;
      tcp::socket socket(context);
      socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), error);
      if (!error) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ~OwnGateway() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // The exit status, or -1 if it does not exit within `limit`.
  int wait_exit(std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }
  std::string log() const {
    std::ifstream file(log_);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  }

 private:
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::string log_;
};

// The initiator names tgtd sees in its I_T nexuses.
std::string storage_nexuses() {
  const std::string command =
      "tgtadm -C " + environment("TGTD_CONTROL") + " --lld iscsi --mode target --op show 2>&1";
  std::string output;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, pipe)) > 0)
      output.append(chunk, got);
    pclose(pipe);
  }
  return output;
}

TEST(RelayIdentity, PassthroughShowsTheHostsOwnNameToTheStorage) {
  Host host = through_gateway("iqn.1993-08.org.debian:01:seen-by-storage");
  ASSERT_TRUE(host.logged_in());
  EXPECT_NE(storage_nexuses().find("Initiator: iqn.1993-08.org.debian:01:seen-by-storage"),
            std::string::npos)
      << storage_nexuses();
}

TEST(RelayIdentity, GatewayIdentityShowsTheGatewaysNameToTheStorage) {
  OwnGateway gateway(std::string(kRelay) + "=iscsi://127.0.0.1:" + std::to_string(storage_port()) +
                         "/" + environment("TGTD_IQN"),
                     "gateway");
  Host host(gateway.port(), kRelay, "iqn.1993-08.org.debian:01:hidden-host");
  ASSERT_TRUE(host.logged_in()) << gateway.log();
  const std::string nexuses = storage_nexuses();
  EXPECT_NE(nexuses.find(std::string("Initiator: ") + kGatewayName), std::string::npos) << nexuses;
  EXPECT_EQ(nexuses.find("hidden-host"), std::string::npos) << nexuses;
}

TEST(RelayShutdown, SigtermAsksHostsToLogOutThenLogsOutOfTheStorage) {
  OwnGateway gateway(std::string(kRelay) + "=iscsi://127.0.0.1:" + std::to_string(storage_port()) +
                     "/" + environment("TGTD_IQN"));
  Host host(gateway.port(), kRelay, "iqn.1993-08.org.debian:01:drained");
  ASSERT_TRUE(host.logged_in()) << gateway.log();
  ASSERT_EQ(kill(gateway.pid(), SIGTERM), 0);
  const Received asked = host->receive();
  const auto& message = std::get<iscsi::AsyncMessage>(asked.pdu);
  EXPECT_EQ(message.async_event, iscsi::AsyncEvent::kLogoutRequested);
  EXPECT_GT(message.parameter3, 0);  // seconds the host has to log out
  iscsi::LogoutRequest logout;
  logout.immediate = true;
  logout.itt = 0x99;
  host->send(logout);
  const Received answer = host->receive();
  EXPECT_EQ(std::get<iscsi::LogoutResponse>(answer.pdu).itt, 0x99u);
  EXPECT_EQ(gateway.wait_exit(std::chrono::seconds(8)), 0) << gateway.log();
  const std::string log = gateway.log();
  EXPECT_NE(log.find("logged out of " + environment("TGTD_IQN")), std::string::npos) << log;
  EXPECT_NE(log.find("] stopped"), std::string::npos) << log;
}

// RFC 7143 §6.3.5: a login with the InitiatorName and ISID of a live session
// (TSIH 0) replaces it. The back leg follows: the storage is left with one
// I_T nexus for the host, and what the old session wrote reads back.
TEST(RelayReinstatement, ALoginWithTheSameIsidReplacesTheSessionAtTheStorageToo) {
  const std::string name = "iqn.1993-08.org.debian:01:reinstating";
  Host old_host(gateway_port(), kRelay, name);
  ASSERT_TRUE(old_host.logged_in());
  const std::vector<uint8_t> data = pattern(65536, 0x6d);
  ASSERT_EQ(old_host.write(4096, data), 0);

  Host again(gateway_port(), kRelay, name, kLun, old_host->isid());
  ASSERT_TRUE(again.logged_in());
  EXPECT_TRUE(old_host->closed_by_peer());
  uint8_t status = 0xff;
  EXPECT_EQ(again.read(4096, data.size(), &status), data);
  EXPECT_EQ(status, 0);
  const std::string nexus = "Initiator: " + name + " ";
  auto nexuses = [&] {
    const std::string shown = storage_nexuses();
    size_t count = 0;
    for (size_t at = shown.find(nexus); at != std::string::npos; at = shown.find(nexus, at + 1))
      ++count;
    return count;
  };
  // The old back leg logs out on its own time; tgtd shows it gone soon after.
  testing_support::eventually([&] { return nexuses() <= 1; }, std::chrono::seconds(5),
                              std::chrono::milliseconds(50));
  EXPECT_EQ(nexuses(), 1U) << storage_nexuses();
}

TEST(RelayShutdown, AHostThatIgnoresTheRequestIsClosedAfterTheDrainTime) {
  OwnGateway gateway(std::string(kRelay) + "=ram://16M");
  TestInitiator host(gateway.port());
  ASSERT_TRUE(host.login(kRelay, "iqn.1993-08.org.debian:01:stubborn")) << gateway.log();
  ASSERT_EQ(kill(gateway.pid(), SIGTERM), 0);
  EXPECT_TRUE(std::holds_alternative<iscsi::AsyncMessage>(host.receive().pdu));
  // The host stays silent; the gateway gives up on it after its drain time
  // (10 s) and still exits cleanly.
  EXPECT_EQ(gateway.wait_exit(std::chrono::seconds(20)), 0) << gateway.log();
}

}  // namespace
}  // namespace isergw
