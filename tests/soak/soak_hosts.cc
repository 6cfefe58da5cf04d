// The soak's hosts: for SOAK_SECONDS, threads play the hosts a gateway
// meets in a long day, all at once, through ISERGW_PORT:
//   - writers, two per target, each on a region of its own: log in, write
//     and read back, ping, abort a read in flight, flush the cache, log out,
//     and again; every read is compared with what was last written there;
//   - a discovery host that asks for the targets over and over;
//   - a vanishing host that starts a read or a write and drops its
//     connection in the middle;
//   - a deep writer, as Linux at its defaults: 32 WRITEs of 1280 KiB in
//     flight at once (immediate data, the rest by R2T), every one read
//     back, again and again: more than a worker's claims can hold at once.
// At the end every writer reads its whole region in a fresh session. The
// test fails on any byte that differs (a lost or misplaced write) and on any
// error the gateway gave a well-behaved host. soak.sh samples the gateway's
// memory, descriptors and buffers meanwhile.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_initiator.h"

namespace isergw {
namespace {

using testing_support::Received;
using testing_support::TestInitiator;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kRegionBlocks = 8192;  // 4 MiB a writer
constexpr uint32_t kMaxTransferBlocks = 512;
constexpr int kWritersPerTarget = 2;

struct Target {
  std::string name;
  uint16_t lun;
};

// What the hosts did, and what went wrong for them.
struct Tally {
  std::atomic<uint64_t> sessions{0};
  std::atomic<uint64_t> writes{0};
  std::atomic<uint64_t> verified_reads{0};
  std::atomic<uint64_t> pings{0};
  std::atomic<uint64_t> aborts{0};
  std::atomic<uint64_t> flushes{0};
  std::atomic<uint64_t> discoveries{0};
  std::atomic<uint64_t> vanished{0};
  std::atomic<uint64_t> deep_writes{0};
  std::atomic<uint64_t> mismatched_blocks{0};
  std::atomic<uint64_t> errors{0};

  std::mutex first_errors_mutex;
  std::vector<std::string> first_errors;

  void error(const std::string& what) {
    ++errors;
    std::lock_guard lock(first_errors_mutex);
    if (first_errors.size() < 10) first_errors.push_back(what);
  }
};

std::string environment(const char* name, const char* otherwise = "") {
  const char* value = std::getenv(name);
  return value ? value : otherwise;
}

uint16_t gateway_port() {
  return static_cast<uint16_t>(std::stoi(environment("ISERGW_PORT")));
}

// "iqn...:a/0,iqn...:b/1": the targets and the LUN of each to write on.
std::vector<Target> targets() {
  std::vector<Target> parsed;
  std::string list = environment("SOAK_TARGETS");
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    const std::string item = list.substr(start, end - start);
    const size_t slash = item.rfind('/');
    parsed.push_back(
        {item.substr(0, slash), static_cast<uint16_t>(std::stoi(item.substr(slash + 1)))});
    start = end + 1;
  }
  return parsed;
}

// One logged-in session of a soak host. Anything the gateway answers that a
// well-behaved host would not expect throws, and the host counts an error.
class Session {
 public:
  Session(const Target& target, const std::string& initiator) : initiator_(gateway_port()) {
    if (!initiator_.login(target.name, initiator)) throw std::runtime_error("login refused");
    initiator_.set_lun(target.lun);
    if (!initiator_.take_unit_attention(next_itt_))
      throw std::runtime_error("TEST UNIT READY keeps failing");
  }

  void write(uint32_t lba, std::span<const uint8_t> data) {
    const uint8_t status = initiator_.write(next_itt_++, lba, data);
    if (status != 0) throw std::runtime_error("WRITE status " + std::to_string(status));
  }

  std::vector<uint8_t> read(uint32_t lba, uint32_t length) {
    auto [data, status] = initiator_.read(next_itt_++, lba, length);
    if (status != 0) throw std::runtime_error("READ status " + std::to_string(status));
    return data;
  }

  void ping() {
    const std::vector<uint8_t> payload = testing_support::pattern(64, 7);
    iscsi::NopOut nop;
    nop.immediate = true;
    nop.itt = next_itt_++;
    nop.cmd_sn = initiator_.cmd_sn();
    nop.data = payload;
    initiator_.send(nop);
    const Received answer = initiator_.receive();
    const auto* nop_in = std::get_if<iscsi::NopIn>(&answer.pdu);
    if (!nop_in || nop_in->itt != nop.itt ||
        !std::equal(nop_in->data.begin(), nop_in->data.end(), payload.begin(), payload.end()))
      throw std::runtime_error("the ping was not echoed");
  }

  // A READ and, right behind it, an ABORT TASK for it: the abort either
  // catches the read (function complete) or finds it already answered (task
  // does not exist), and either way the session goes on.
  void abort_a_read(uint32_t lba, uint32_t length) {
    const uint32_t read_itt = next_itt_++;
    const uint32_t read_cmd_sn = initiator_.cmd_sn();
    const auto cdb = testing_support::read10(lba, static_cast<uint16_t>(length / 512));
    initiator_.send(initiator_.command(read_itt, cdb, length, true, false));
    iscsi::TaskManagementRequest abort;
    abort.immediate = true;
    abort.function = iscsi::TaskManagementFunction::kAbortTask;
    abort.lun = initiator_.lun();
    abort.itt = next_itt_++;
    abort.referenced_task_tag = read_itt;
    abort.cmd_sn = initiator_.cmd_sn();
    abort.ref_cmd_sn = read_cmd_sn;
    initiator_.send(abort);
    bool read_answered = false;
    std::optional<iscsi::TaskManagementResponseCode> outcome;
    while (!outcome ||
           (!read_answered && *outcome == iscsi::TaskManagementResponseCode::kTaskDoesNotExist)) {
      const Received received = initiator_.receive();
      if (const auto* data_in = std::get_if<iscsi::DataIn>(&received.pdu)) {
        read_answered = data_in->status_present;
      } else if (std::holds_alternative<iscsi::ScsiResponse>(received.pdu)) {
        read_answered = true;
      } else if (const auto* answer = std::get_if<iscsi::TaskManagementResponse>(&received.pdu)) {
        outcome = answer->response;
        if (*outcome != iscsi::TaskManagementResponseCode::kFunctionComplete &&
            *outcome != iscsi::TaskManagementResponseCode::kTaskDoesNotExist)
          throw std::runtime_error("ABORT TASK answered " +
                                   std::to_string(static_cast<int>(*outcome)));
      } else {
        throw std::runtime_error("unexpected PDU while aborting a read");
      }
    }
  }

  void synchronize_cache() {
    const std::array<uint8_t, 10> cdb{0x35};
    initiator_.send(initiator_.command(next_itt_++, cdb, 0, false, false));
    const uint8_t status = initiator_.collect_read(0).second;
    if (status != 0) throw std::runtime_error("SYNCHRONIZE CACHE status " + std::to_string(status));
  }

  void logout() {
    iscsi::LogoutRequest request;
    request.immediate = true;
    request.itt = next_itt_++;
    request.cmd_sn = initiator_.cmd_sn();
    initiator_.send(request);
    if (!std::holds_alternative<iscsi::LogoutResponse>(initiator_.receive().pdu))
      throw std::runtime_error("no Logout Response");
  }

  TestInitiator& initiator() { return initiator_; }

 private:
  TestInitiator initiator_;
  uint32_t next_itt_ = 1;
};

class Writer {
 public:
  Writer(Target target, int index, uint32_t first_lba, Tally& tally)
      : target_(std::move(target)),
        name_("iqn.1993-08.org.debian:01:soak-writer-" + std::to_string(index)),
        first_lba_(first_lba),
        shadow_(size_t{kRegionBlocks} * 512),
        random_(static_cast<uint32_t>(index)),
        tally_(tally) {}

  void run(Clock::time_point until) {
    // The whole region first: every later read has a known answer, and the
    // storage's pages are all touched before the sampling that matters.
    while (!fill() && Clock::now() < until) {
    }
    while (Clock::now() < until) {
      try {
        Session session(target_, name_);
        ++tally_.sessions;
        const int commands = std::uniform_int_distribution<int>(10, 60)(random_);
        for (int i = 0; i < commands && Clock::now() < until; ++i)
          one_command(session);
        session.logout();
      } catch (const std::exception& error) {
        tally_.error(name_ + ": " + error.what());
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }

  // The whole region, read in a session of its own, against what was last
  // written to it.
  void verify_all() {
    try {
      Session session(target_, name_);
      for (uint32_t block = 0; block < kRegionBlocks; block += kMaxTransferBlocks)
        compare(block, session.read(first_lba_ + block, kMaxTransferBlocks * 512));
      session.logout();
    } catch (const std::exception& error) {
      tally_.error(name_ + " (final read): " + error.what());
    }
  }

 private:
  bool fill() {
    try {
      Session session(target_, name_);
      for (uint32_t block = 0; block < kRegionBlocks; block += kMaxTransferBlocks)
        write(session, block, kMaxTransferBlocks);
      session.logout();
      return true;
    } catch (const std::exception& error) {
      tally_.error(name_ + " (fill): " + error.what());
      return false;
    }
  }

  void one_command(Session& session) {
    const uint32_t blocks = std::uniform_int_distribution<uint32_t>(1, kMaxTransferBlocks)(random_);
    const uint32_t block =
        std::uniform_int_distribution<uint32_t>(0, kRegionBlocks - blocks)(random_);
    const int choice = std::uniform_int_distribution<int>(0, 99)(random_);
    if (choice < 45) {
      write(session, block, blocks);
      compare(block, session.read(first_lba_ + block, blocks * 512));
      ++tally_.verified_reads;
    } else if (choice < 75) {
      compare(block, session.read(first_lba_ + block, blocks * 512));
      ++tally_.verified_reads;
    } else if (choice < 85) {
      session.ping();
      ++tally_.pings;
    } else if (choice < 95) {
      session.abort_a_read(first_lba_ + block, blocks * 512);
      ++tally_.aborts;
    } else {
      session.synchronize_cache();
      ++tally_.flushes;
    }
  }

  void write(Session& session, uint32_t block, uint32_t blocks) {
    const auto data = testing_support::pattern(size_t{blocks} * 512, static_cast<uint8_t>(++seed_));
    session.write(first_lba_ + block, data);
    // Only a write the gateway acknowledged counts as written.
    std::copy(data.begin(), data.end(), shadow_.begin() + size_t{block} * 512);
    ++tally_.writes;
  }

  void compare(uint32_t block, const std::vector<uint8_t>& data) {
    for (size_t offset = 0; offset < data.size(); offset += 512) {
      if (!std::equal(data.begin() + offset, data.begin() + offset + 512,
                      shadow_.begin() + size_t{block} * 512 + offset))
        ++tally_.mismatched_blocks;
    }
  }

  const Target target_;
  const std::string name_;
  const uint32_t first_lba_;
  std::vector<uint8_t> shadow_;
  std::mt19937 random_;
  uint8_t seed_ = 0;
  Tally& tally_;
};

// SendTargets in a discovery session, again and again.
void discover(Clock::time_point until, const std::vector<Target>& expected, Tally& tally) {
  while (Clock::now() < until) {
    try {
      TestInitiator host(gateway_port());
      if (!host.login("", "iqn.1993-08.org.debian:01:soak-discovery"))
        throw std::runtime_error("discovery login refused");
      const std::string answer = host.send_targets(1);
      for (const Target& target : expected) {
        if (answer.find("TargetName=" + target.name) == std::string::npos)
          throw std::runtime_error(target.name + " missing from SendTargets");
      }
      ++tally.discoveries;
    } catch (const std::exception& error) {
      tally.error(std::string("discovery: ") + error.what());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// A host that goes away with a command in flight: the read's data is never
// taken, the write's R2T never answered. Its region is nobody else's.
void vanish(Clock::time_point until, const Target& target, uint32_t first_lba, Tally& tally) {
  std::mt19937 random(99);
  const auto data = testing_support::pattern(kMaxTransferBlocks * 512, 1);
  uint32_t itt = 100;
  while (Clock::now() < until) {
    try {
      Session session(target, "iqn.1993-08.org.debian:01:soak-vanishing");
      TestInitiator& host = session.initiator();
      const uint32_t lba =
          first_lba + std::uniform_int_distribution<uint32_t>(0, 15)(random) * kMaxTransferBlocks;
      const bool reads = std::uniform_int_distribution<int>(0, 1)(random) != 0;
      const auto cdb = reads ? testing_support::read10(lba, kMaxTransferBlocks)
                             : testing_support::write10(lba, kMaxTransferBlocks);
      iscsi::ScsiCommand command =
          host.command(itt++, cdb, kMaxTransferBlocks * 512, reads, !reads);
      if (!reads) command.data = std::span<const uint8_t>(data).first(4096);
      host.send(command);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      host.close();
      ++tally.vanished;
    } catch (const std::exception& error) {
      tally.error(std::string("vanishing host: ") + error.what());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
}

// Rounds of kDeepWrites WRITEs of kDeepBytes sent at once on one session,
// their R2Ts answered as they come, then every one read back.
constexpr uint32_t kDeepWrites = 32;
constexpr uint32_t kDeepBytes = 1280 * 1024;

void write_deep(Clock::time_point until, const Target& target, uint32_t first_lba, Tally& tally) {
  uint8_t seed = 0;
  while (Clock::now() < until) {
    try {
      Session session(target, "iqn.1993-08.org.debian:01:soak-deep-writer");
      TestInitiator& host = session.initiator();
      const uint32_t first_itt = 1000;
      std::vector<std::vector<uint8_t>> data;
      for (uint32_t i = 0; i < kDeepWrites; ++i) {
        data.push_back(testing_support::pattern(kDeepBytes, ++seed));
        const auto cdb = testing_support::write10(first_lba + i * (kDeepBytes / 512),
                                                  static_cast<uint16_t>(kDeepBytes / 512));
        iscsi::ScsiCommand command = host.command(first_itt + i, cdb, kDeepBytes, false, true);
        const uint32_t immediate =
            std::min(host.parameters().session.first_burst_length,
                     host.parameters().connection.max_send_data_segment_length);
        command.data = std::span<const uint8_t>(data.back()).first(immediate);
        command.final = true;
        host.send(command);
      }
      for (uint32_t done = 0; done < kDeepWrites;) {
        const Received received = host.receive();
        if (const auto* r2t = std::get_if<iscsi::R2t>(&received.pdu)) {
          host.answer_r2t(*r2t, data.at(r2t->itt - first_itt));
        } else if (const auto* response = std::get_if<iscsi::ScsiResponse>(&received.pdu)) {
          if (response->status != 0)
            throw std::runtime_error("deep WRITE status " + std::to_string(response->status));
          ++done;
          ++tally.deep_writes;
        } else {
          throw std::runtime_error("unexpected PDU among deep writes");
        }
      }
      for (uint32_t i = 0; i < kDeepWrites; ++i) {
        if (session.read(first_lba + i * (kDeepBytes / 512), kDeepBytes) != data[i])
          ++tally.mismatched_blocks;
        ++tally.verified_reads;
      }
      session.logout();
      ++tally.sessions;
    } catch (const std::exception& error) {
      tally.error(std::string("deep writer: ") + error.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

TEST(Soak, MixedHostsLoseNoWriteAndMeetNoError) {
  const int seconds = std::stoi(environment("SOAK_SECONDS", "60"));
  const std::vector<Target> soaked = targets();
  ASSERT_FALSE(soaked.empty()) << "SOAK_TARGETS names no target";
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  Tally tally;

  std::vector<std::unique_ptr<Writer>> writers;
  for (const Target& target : soaked) {
    for (int i = 0; i < kWritersPerTarget; ++i)
      writers.push_back(std::make_unique<Writer>(target, static_cast<int>(writers.size()),
                                                 static_cast<uint32_t>(i) * kRegionBlocks, tally));
  }
  std::vector<std::thread> hosts;
  for (auto& writer : writers)
    hosts.emplace_back([&writer, until] { writer->run(until); });
  hosts.emplace_back([&] { discover(until, soaked, tally); });
  hosts.emplace_back(
      [&] { vanish(until, soaked.front(), kWritersPerTarget * kRegionBlocks, tally); });
  // On the first target, past the writers' and the vanishing host's
  // regions: 40 MiB, which soak.sh's tgtd disk holds.
  hosts.emplace_back(
      [&] { write_deep(until, soaked.front(), (kWritersPerTarget + 1) * kRegionBlocks, tally); });
  for (auto& host : hosts)
    host.join();
  for (auto& writer : writers)
    writer->verify_all();

  std::cout << "soak hosts: " << tally.sessions << " sessions, " << tally.writes << " writes, "
            << tally.verified_reads << " verified reads, " << tally.pings << " pings, "
            << tally.aborts << " aborts, " << tally.flushes << " cache flushes, "
            << tally.discoveries << " discoveries, " << tally.vanished << " vanished hosts, "
            << tally.deep_writes << " deep writes, " << tally.mismatched_blocks
            << " blocks lost or corrupt, " << tally.errors << " errors\n";
  for (const auto& error : tally.first_errors)
    std::cout << "soak hosts: error: " << error << "\n";
  EXPECT_EQ(tally.mismatched_blocks, 0U);
  EXPECT_EQ(tally.errors, 0U);
  EXPECT_GT(tally.writes, 0U);
  EXPECT_GT(tally.aborts, 0U);
  EXPECT_GT(tally.vanished, 0U);
  EXPECT_GE(tally.deep_writes, kDeepWrites);
}

}  // namespace
}  // namespace isergw
