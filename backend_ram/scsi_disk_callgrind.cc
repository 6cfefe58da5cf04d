// A fixed loop of 4 KiB READ(10) or WRITE(10) commands for valgrind's
// callgrind: instructions per command, counted only inside run_commands.
//   scsi_disk_callgrind read|write COUNT
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backend_ram/big_endian.h"
#include "backend_ram/ram_store.h"
#include "backend_ram/scsi_disk.h"

namespace isergw::backend_ram {
namespace {

constexpr uint32_t kIoBytes = 4096;
constexpr uint16_t kIoBlocks = kIoBytes / 512;
constexpr uint64_t kWorkingSetIos = (uint64_t{64} << 20) / kIoBytes;

ScsiCommand make_command(std::vector<uint8_t>& cdb, uint8_t opcode, DataDirection direction,
                         std::span<const std::span<const uint8_t>> data_out) {
  cdb.assign(16, 0);
  cdb[0] = opcode;
  store_be16(&cdb[7], kIoBlocks);
  ScsiCommand command;
  command.cdb = cdb;
  command.expected_data_transfer_length = kIoBytes;
  command.direction = direction;
  command.data_out = data_out;
  return command;
}

// The only function callgrind collects in (--toggle-collect).
[[gnu::noinline]] uint64_t run_commands(ScsiDisk& disk, std::vector<uint8_t>& cdb,
                                        const ScsiCommand& command, std::span<uint8_t> data_in,
                                        uint64_t count) {
  uint64_t good = 0;
  for (uint64_t i = 0; i < count; ++i) {
    store_be32(&cdb[2], static_cast<uint32_t>((i * 40503) % kWorkingSetIos) * kIoBlocks);
    good += disk.execute(command, data_in).status == iscsi::ScsiStatus::kGood;
  }
  return good;
}

}  // namespace
}  // namespace isergw::backend_ram

int main(int argc, char** argv) {
  using namespace isergw::backend_ram;  // NOLINT: a tiny driver
  if (argc != 3 || (std::strcmp(argv[1], "read") != 0 && std::strcmp(argv[1], "write") != 0)) {
    std::fprintf(stderr, "usage: %s read|write COUNT\n", argv[0]);
    return 2;
  }
  const bool reads = std::strcmp(argv[1], "read") == 0;
  const uint64_t count = std::strtoull(argv[2], nullptr, 10);
  auto disk = ScsiDisk::create({}, RamStore::create(uint64_t{1} << 30).value());
  if (!disk) return 1;

  // Commit the working set first so both loops run against allocated chunks.
  std::vector<uint8_t> data(kIoBytes, 0x5A);
  const std::span<const uint8_t> buffer(data);
  std::vector<uint8_t> cdb;
  ScsiCommand fill = make_command(cdb, 0x2A, DataDirection::kWrite, std::span(&buffer, 1));
  run_commands(*disk, cdb, fill, {}, kWorkingSetIos);

  std::vector<uint8_t> data_in(kIoBytes);
  const ScsiCommand command =
      reads ? make_command(cdb, 0x28, DataDirection::kRead, {})
            : make_command(cdb, 0x2A, DataDirection::kWrite, std::span(&buffer, 1));
  const uint64_t good = run_commands(*disk, cdb, command, data_in, count);
  std::printf("%s: %llu of %llu commands GOOD\n", argv[1], static_cast<unsigned long long>(good),
              static_cast<unsigned long long>(count));
  return good == count ? 0 : 1;
}
