// 4 KiB READ(10) and WRITE(10) against the built-in disks: the per-command
// cost of the SCSI layer and the store, without any fabric. See
// docs/PERFORMANCE.md for how to run it and the figures.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "backend_ram/big_endian.h"
#include "backend_ram/null_store.h"
#include "backend_ram/ram_store.h"
#include "backend_ram/scsi_disk.h"

namespace isergw::backend_ram {
namespace {

constexpr uint32_t kBlockSize = 512;
constexpr uint32_t kIoBytes = 4096;
constexpr uint16_t kIoBlocks = kIoBytes / kBlockSize;
// 64 MiB of a 1 GiB disk: larger than the caches, so reads are not served
// from L2 alone, and committed once before timing.
constexpr uint64_t kWorkingSetIos = (uint64_t{64} << 20) / kIoBytes;

ScsiDisk make_ram_disk() {
  auto store = RamStore::create(uint64_t{1} << 30);
  auto disk = ScsiDisk::create({}, std::move(store).value());
  return std::move(disk).value();
}

ScsiDisk make_null_disk() {
  auto disk = ScsiDisk::create({}, std::make_unique<NullStore>(uint64_t{1} << 30));
  return std::move(disk).value();
}

// Scattered 4 KiB-aligned LBAs over the working set, the same sequence every
// run (a multiplicative step coprime with the working set size).
uint32_t lba_of(uint64_t i) {
  return static_cast<uint32_t>((i * 40503) % kWorkingSetIos) * kIoBlocks;
}

std::vector<uint8_t> cdb10(uint8_t opcode, uint32_t lba) {
  std::vector<uint8_t> cdb(16, 0);
  cdb[0] = opcode;
  store_be32(&cdb[2], lba);
  store_be16(&cdb[7], kIoBlocks);
  return cdb;
}

void fill(ScsiDisk& disk) {
  std::vector<uint8_t> data(kIoBytes, 0x5A);
  const std::span<const uint8_t> buffer(data);
  ScsiCommand command;
  command.expected_data_transfer_length = kIoBytes;
  command.direction = DataDirection::kWrite;
  command.data_out = std::span(&buffer, 1);
  for (uint64_t i = 0; i < kWorkingSetIos; ++i) {
    const std::vector<uint8_t> cdb = cdb10(0x2A, static_cast<uint32_t>(i * kIoBlocks));
    command.cdb = cdb;
    (void)disk.execute(command, std::span<uint8_t>());
  }
}

void read_loop(benchmark::State& state, ScsiDisk& disk) {
  std::vector<uint8_t> data_in(kIoBytes);
  std::vector<uint8_t> cdb = cdb10(0x28, 0);
  ScsiCommand command;
  command.cdb = cdb;
  command.expected_data_transfer_length = kIoBytes;
  command.direction = DataDirection::kRead;
  uint64_t i = 0;
  for (auto _ : state) {
    store_be32(&cdb[2], lba_of(i++));
    const ScsiResult result = disk.execute(command, data_in);
    benchmark::DoNotOptimize(result);
    benchmark::DoNotOptimize(data_in.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kIoBytes);
}

void write_loop(benchmark::State& state, ScsiDisk& disk) {
  std::vector<uint8_t> data(kIoBytes, 0xA5);
  const std::span<const uint8_t> buffer(data);
  std::vector<uint8_t> cdb = cdb10(0x2A, 0);
  ScsiCommand command;
  command.cdb = cdb;
  command.expected_data_transfer_length = kIoBytes;
  command.direction = DataDirection::kWrite;
  command.data_out = std::span(&buffer, 1);
  uint64_t i = 0;
  for (auto _ : state) {
    store_be32(&cdb[2], lba_of(i++));
    const ScsiResult result = disk.execute(command, std::span<uint8_t>());
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kIoBytes);
}

void BM_RamRead10_4K(benchmark::State& state) {
  ScsiDisk disk = make_ram_disk();
  fill(disk);
  read_loop(state, disk);
}
BENCHMARK(BM_RamRead10_4K);

void BM_RamWrite10_4K(benchmark::State& state) {
  ScsiDisk disk = make_ram_disk();
  fill(disk);
  write_loop(state, disk);
}
BENCHMARK(BM_RamWrite10_4K);

void BM_NullRead10_4K(benchmark::State& state) {
  ScsiDisk disk = make_null_disk();
  read_loop(state, disk);
}
BENCHMARK(BM_NullRead10_4K);

void BM_NullWrite10_4K(benchmark::State& state) {
  ScsiDisk disk = make_null_disk();
  write_loop(state, disk);
}
BENCHMARK(BM_NullWrite10_4K);

}  // namespace
}  // namespace isergw::backend_ram
