#include "backend_ram/ram_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

// Under AddressSanitizer a failed allocation must come back as null, as it
// does from glibc, rather than abort: the table test below relies on it.
extern "C" const char* __asan_default_options() {
  return "allocator_may_return_null=1";
}

namespace isergw::backend_ram {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint64_t kChunk = 64 * 1024;

std::unique_ptr<RamStore> make_store(uint64_t size, uint64_t limit = 0) {
  RamStoreOptions options;
  options.chunk_size = kChunk;
  options.memory_limit = limit;
  auto store = RamStore::create(size, options);
  EXPECT_TRUE(store) << store.error();
  return std::move(store).value();
}

Bytes pattern(size_t size) {
  Bytes data(size);
  for (size_t i = 0; i < size; ++i)
    data[i] = static_cast<uint8_t>(i % 251 + 1);
  return data;
}

Bytes read(const RamStore& store, uint64_t offset, size_t size) {
  Bytes out(size, 0xEE);
  store.read(offset, out);
  return out;
}

TEST(RamStore, CreateRejectsBadArguments) {
  EXPECT_EQ(RamStore::create(0).error(), "ram:// store size must not be zero");
  RamStoreOptions odd;
  odd.chunk_size = 3 * 4096;
  EXPECT_EQ(RamStore::create(1 << 20, odd).error(),
            "ram:// chunk size 12288 must be a power of two of at least 4096");
  RamStoreOptions tiny;
  tiny.chunk_size = 2048;
  EXPECT_FALSE(RamStore::create(1 << 20, tiny));
}

TEST(RamStore, CreateFailsCleanlyWhenTheTableCannotBeReserved) {
  // 2^63 bytes in 4 KiB chunks: a 2^54-byte table no allocator gives.
  RamStoreOptions options;
  options.chunk_size = 4096;
  const auto store = RamStore::create(uint64_t{1} << 63, options);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error(), "ram:// cannot reserve the chunk table for 2251799813685248 chunks");
}

TEST(RamStore, UnwrittenReadsZerosAndCommitsNothing) {
  auto store = make_store(1 << 20);
  EXPECT_EQ(read(*store, 0, 4096), Bytes(4096, 0));
  EXPECT_EQ(store->committed_bytes(), 0u);
}

TEST(RamStore, WritesAcrossChunksReadBack) {
  auto store = make_store(1 << 20);
  const Bytes data = pattern(3 * kChunk);
  const uint64_t offset = kChunk - 100;
  ASSERT_TRUE(store->write(offset, data));
  EXPECT_EQ(store->committed_bytes(), 4 * kChunk);
  EXPECT_EQ(read(*store, offset, data.size()), data);
  EXPECT_EQ(read(*store, offset - 10, 10), Bytes(10, 0));
  EXPECT_EQ(read(*store, offset + data.size(), 10), Bytes(10, 0));
}

TEST(RamStore, ZerosIntoUnwrittenChunksStaySparse) {
  auto store = make_store(1 << 20);
  ASSERT_TRUE(store->write(0, Bytes(3 * kChunk, 0)));
  EXPECT_EQ(store->committed_bytes(), 0u);
  // Zeros over written data still land.
  ASSERT_TRUE(store->write(0, pattern(100)));
  ASSERT_TRUE(store->write(10, Bytes(20, 0)));
  Bytes expected = pattern(100);
  std::fill(expected.begin() + 10, expected.begin() + 30, 0);
  EXPECT_EQ(read(*store, 0, 100), expected);
}

TEST(RamStore, SizeNotAMultipleOfTheChunkHasAShortLastChunk) {
  auto store = make_store(kChunk + 512);
  const Bytes data = pattern(1024);
  ASSERT_TRUE(store->write(kChunk - 512, data));
  EXPECT_EQ(read(*store, kChunk - 512, 1024), data);
  store->discard(kChunk, 512);
  EXPECT_EQ(store->committed_bytes(), kChunk);  // the tail chunk went whole
  EXPECT_EQ(read(*store, kChunk, 512), Bytes(512, 0));
}

TEST(RamStore, MemoryLimitFailsWritesToNewChunks) {
  auto store = make_store(1 << 20, 2 * kChunk);
  ASSERT_TRUE(store->write(0, pattern(10)));
  ASSERT_TRUE(store->write(kChunk, pattern(10)));
  const auto failed = store->write(2 * kChunk, pattern(10));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error(), StoreError::kOutOfMemory);
  // Written chunks stay writable; discarding one frees budget.
  EXPECT_TRUE(store->write(5, pattern(10)));
  store->discard(0, kChunk);
  EXPECT_TRUE(store->write(2 * kChunk, pattern(10)));
}

TEST(RamStore, DiscardFreesWholeChunksAndZerosPartOnes) {
  auto store = make_store(1 << 20);
  ASSERT_TRUE(store->write(0, pattern(4 * kChunk)));
  store->discard(100, 2 * kChunk);  // part of chunk 0, all of chunk 1, part of 2
  EXPECT_EQ(store->committed_bytes(), 3 * kChunk);
  EXPECT_EQ(read(*store, 100, 2 * kChunk), Bytes(2 * kChunk, 0));
  EXPECT_EQ(read(*store, 0, 100), Bytes(pattern(100)));
  const Bytes all = pattern(4 * kChunk);
  EXPECT_EQ(read(*store, 2 * kChunk + 100, 50),
            Bytes(all.begin() + 2 * kChunk + 100, all.begin() + 2 * kChunk + 150));
  store->discard(0, 1 << 20);
  EXPECT_EQ(store->committed_bytes(), 0u);
  store->discard(0, 1 << 20);  // discarding nothing is harmless
}

// Resident set size in bytes, from /proc/self/statm.
uint64_t resident_bytes() {
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  unsigned long size = 0;
  unsigned long resident = 0;
  const int read_count = std::fscanf(statm, "%lu %lu", &size, &resident);
  std::fclose(statm);
  return read_count == 2 ? uint64_t{resident} * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

TEST(RamStore, OneGibibyteCostsNothingUntilWritten) {
  const uint64_t before = resident_bytes();
  ASSERT_GT(before, 0u);
  auto store = RamStore::create(uint64_t{1} << 30);  // default 1 MiB chunks
  ASSERT_TRUE(store);
  // A few scattered 4 KiB writes and a full read of two chunks.
  for (uint64_t offset : {uint64_t{0}, uint64_t{300} << 20, uint64_t{1023} << 20}) {
    ASSERT_TRUE((*store)->write(offset, pattern(4096)));
  }
  Bytes out(2 << 20);
  (*store)->read(uint64_t{500} << 20, out);
  const uint64_t growth = resident_bytes() - before;
  EXPECT_EQ((*store)->committed_bytes(), uint64_t{3} << 20);
  // The 2 MiB read buffer, the written pages and the table: far below 1 GiB.
  EXPECT_LT(growth, uint64_t{16} << 20) << "RSS grew by " << growth << " bytes";
}

}  // namespace
}  // namespace isergw::backend_ram
