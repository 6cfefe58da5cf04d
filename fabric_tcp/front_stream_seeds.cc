// Writes the seed scripts of front_stream_fuzzer (see the format there) into
// the directory given as the argument:
//   bazel run //fabric_tcp:front_stream_seeds -- $PWD/fabric_tcp/corpus/front_stream_fuzzer
// Each script is a real host's PDUs after the fuzzer's own login, so the
// fuzzer starts from streams the session accepts.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "iscsi/pdu.h"
#include "iscsi/pdu_encoder.h"
#include "tests/support/cdb.h"

namespace {

using namespace isergw::iscsi;

// The fuzzer's login sends CmdSN 0 and the session answers ExpCmdSN 0: the
// first command carries 0. Target Transfer Tags start at 1 in each session.
constexpr uint32_t kFirstTtt = 1;

class Script {
 public:
  explicit Script(uint8_t mode) : bytes_{mode} {}

  // One chunk per PDU, or the PDU cut into chunks of `piece` bytes.
  Script& add(const Pdu& pdu, size_t piece = 0) {
    std::vector<uint8_t> encoded(encoded_length(pdu, {}));
    if (!encode_pdu(pdu, {}, encoded)) std::abort();
    if (piece == 0) piece = encoded.size();
    for (size_t offset = 0; offset < encoded.size(); offset += piece) {
      const size_t length = std::min(piece, encoded.size() - offset);
      bytes_.push_back(static_cast<uint8_t>(length >> 8));
      bytes_.push_back(static_cast<uint8_t>(length));
      bytes_.insert(bytes_.end(), encoded.begin() + offset, encoded.begin() + offset + length);
    }
    return *this;
  }

  ScsiCommand command(uint32_t itt, std::vector<uint8_t> cdb, uint32_t length, bool read,
                      bool write) {
    ScsiCommand command;
    command.itt = itt;
    command.cmd_sn = cmd_sn_++;
    command.read = read;
    command.write = write;
    command.expected_data_transfer_length = length;
    std::copy(cdb.begin(), cdb.end(), command.cdb.begin());
    return command;
  }
  uint32_t next_cmd_sn(bool immediate) { return immediate ? cmd_sn_ : cmd_sn_++; }

  void write(const std::string& directory, const std::string& name) const {
    std::ofstream out(directory + "/" + name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes_.data()),
              static_cast<std::streamsize>(bytes_.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s/%s\n", directory.c_str(), name.c_str());
      std::exit(1);
    }
  }

 private:
  std::vector<uint8_t> bytes_;
  uint32_t cmd_sn_ = 0;
};

using isergw::testing_support::read10;
using isergw::testing_support::write10;

std::vector<uint8_t> cdb_bytes(const std::array<uint8_t, 10>& cdb) {
  return {cdb.begin(), cdb.end()};
}

std::vector<uint8_t> pattern(size_t length, uint8_t seed) {
  std::vector<uint8_t> bytes(length);
  for (size_t i = 0; i < length; ++i)
    bytes[i] = static_cast<uint8_t>(i * 31 + seed);
  return bytes;
}

LogoutRequest logout(Script& script, uint32_t itt) {
  LogoutRequest request;
  request.immediate = true;
  request.itt = itt;
  request.cmd_sn = script.next_cmd_sn(true);
  return request;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
    return 2;
  }
  const std::string directory = argv[1];
  constexpr uint8_t kNormal = 0;
  constexpr uint8_t kDiscovery = 1;
  constexpr uint8_t kNoLogin = 2;
  constexpr uint8_t kInitialR2t = 4;
  constexpr uint8_t kNoImmediateData = 8;

  {
    Script s(kNormal);
    s.add(s.command(1, {0x12, 0, 0, 0, 96, 0}, 96, true, false));            // INQUIRY
    s.add(s.command(2, {0x00, 0, 0, 0, 0, 0}, 0, false, false));             // TEST UNIT READY
    s.add(s.command(3, {0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 8, true, false));  // READ CAPACITY(10)
    s.add(s.command(4, cdb_bytes(read10(0, 8)), 4096, true, false));
    s.add(logout(s, 5));
    s.write(directory, "read10");
  }
  {
    // WRITE(10) of 8 KiB: 4 KiB immediate, 4 KiB unsolicited Data-Out.
    Script s(kNormal);
    const auto data = pattern(8192, 3);
    ScsiCommand write = s.command(1, cdb_bytes(write10(8, 16)), 8192, false, true);
    write.final = false;
    write.data = std::span(data).first(4096);
    s.add(write);
    DataOut out;
    out.final = true;
    out.itt = 1;
    out.buffer_offset = 4096;
    out.data = std::span(data).subspan(4096);
    s.add(out);
    s.add(s.command(2, cdb_bytes(read10(8, 16)), 8192, true, false));
    s.add(logout(s, 3));
    s.write(directory, "write10_immediate_and_data_out");
  }
  {
    // With InitialR2T=Yes and no immediate data, the session solicits it all.
    Script s(kInitialR2t | kNoImmediateData);
    const auto data = pattern(4096, 9);
    s.add(s.command(1, cdb_bytes(write10(0, 8)), 4096, false, true));
    DataOut out;
    out.final = true;
    out.itt = 1;
    out.ttt = kFirstTtt;
    out.data = data;
    s.add(out);
    s.add(logout(s, 2));
    s.write(directory, "write10_r2t");
  }
  {
    Script s(kNormal);
    NopOut ping;
    ping.immediate = true;
    ping.itt = 1;
    ping.cmd_sn = s.next_cmd_sn(true);
    const auto data = pattern(100, 1);
    ping.data = data;
    s.add(ping);
    NopOut quiet;
    quiet.immediate = true;
    quiet.itt = kReservedTag;
    quiet.cmd_sn = s.next_cmd_sn(true);
    s.add(quiet);
    s.write(directory, "nop_out");
  }
  for (const uint8_t mode : {kNormal, kDiscovery}) {
    Script s(mode);
    TextRequest text;
    text.itt = 1;
    text.cmd_sn = s.next_cmd_sn(false);
    static constexpr char kKeys[] = "SendTargets=All";
    // The terminating NUL is part of the key=value pair (RFC 7143 §6.1).
    text.data = std::span(reinterpret_cast<const uint8_t*>(kKeys), sizeof kKeys);
    s.add(text);
    s.add(logout(s, 2));
    s.write(directory, mode == kDiscovery ? "send_targets_discovery" : "send_targets_normal");
  }
  {
    // A write waiting for its data, aborted; then a LUN reset.
    Script s(kInitialR2t | kNoImmediateData);
    s.add(s.command(1, cdb_bytes(write10(0, 64)), 32768, false, true));
    TaskManagementRequest abort;
    abort.immediate = true;
    abort.function = TaskManagementFunction::kAbortTask;
    abort.itt = 2;
    abort.referenced_task_tag = 1;
    abort.ref_cmd_sn = 0;
    abort.cmd_sn = s.next_cmd_sn(true);
    s.add(abort);
    TaskManagementRequest reset;
    reset.immediate = true;
    reset.function = TaskManagementFunction::kLogicalUnitReset;
    reset.itt = 3;
    reset.cmd_sn = s.next_cmd_sn(true);
    s.add(reset);
    s.write(directory, "task_management");
  }
  {
    // The same commands cut into pieces across PDU boundaries.
    Script s(kNormal);
    s.add(s.command(1, cdb_bytes(read10(0, 1)), 512, true, false), 1);
    s.add(s.command(2, cdb_bytes(read10(1, 1)), 512, true, false), 47);
    s.add(s.command(3, cdb_bytes(read10(2, 1)), 512, true, false), 20);
    s.write(directory, "split_reads");
  }
  {
    // No login by the fuzzer: the whole login is in the script, in one
    // operational-stage request straight to full feature phase.
    Script s(kNoLogin);
    LoginRequest login;
    login.transit = true;
    login.csg = LoginStage::kLoginOperationalNegotiation;
    login.nsg = LoginStage::kFullFeaturePhase;
    login.isid = {0x80, 0, 0, 0, 0, 2};
    static constexpr char kKeys[] =
        "InitiatorName=iqn.1993-08.org.debian:01:fuzz\0"
        "TargetName=iqn.2026-11.io.isergw.fuzz:ram\0SessionType=Normal\0"
        "HeaderDigest=None\0DataDigest=None\0ImmediateData=Yes\0InitialR2T=No\0";
    login.data = std::span(reinterpret_cast<const uint8_t*>(kKeys), sizeof kKeys - 1);
    s.add(login);
    s.add(s.command(1, {0x12, 0, 0, 0, 36, 0}, 36, true, false));
    s.write(directory, "raw_login_then_inquiry");
  }
  {
    // Found by this fuzzer: the ram:// back leg sized its read buffer by
    // EDTL alone, so a 4 GiB EDTL on a 96-byte INQUIRY allocated 4 GiB.
    Script s(kNormal);
    s.add(s.command(1, {0x12, 0, 0, 0, 96, 0}, 0xfffffff0, true, false));
    s.add(s.command(2, cdb_bytes(read10(0, 1)), 0xffffff00, true, false));
    s.write(directory, "found_read_edtl_4gib");
  }
  return 0;
}
