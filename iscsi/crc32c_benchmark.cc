// CRC32C throughput per core for the buffer sizes digests cover: a small
// SCSI transfer, a typical data segment, a large burst.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "iscsi/crc32c.h"

namespace isergw::iscsi {
namespace {

void BM_Crc32c(benchmark::State& state) {
  std::vector<std::uint8_t> buffer(static_cast<std::size_t>(state.range(0)));
  for (std::size_t i = 0; i < buffer.size(); ++i)
    buffer[i] = static_cast<std::uint8_t>(i * 31);
  for (auto _ : state)
    benchmark::DoNotOptimize(crc32c(buffer));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32c)->Arg(512)->Arg(8 << 10)->Arg(256 << 10);

// A 48-byte header digest: the per-PDU cost when HeaderDigest=CRC32C.
void BM_Crc32cHeader(benchmark::State& state) {
  std::vector<std::uint8_t> bhs(48, 0x5a);
  for (auto _ : state)
    benchmark::DoNotOptimize(crc32c(bhs));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 48);
}
BENCHMARK(BM_Crc32cHeader);

}  // namespace
}  // namespace isergw::iscsi
