#include "gateway/buffer_pool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <vector>

#include "gateway/dpdk_memory.h"

namespace isergw::gateway {
namespace {

class BufferPoolTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = start_dpdk_memory({.no_huge_megabytes = 64, .force_no_huge = true});
    ASSERT_TRUE(started) << started.error();
  }

  std::unique_ptr<BufferPool> make_pool(const std::string& name, size_t count, size_t high = 0,
                                        size_t low = 0) {
    auto pool = BufferPool::create({.name = name,
                                    .buffer_size = 4096,
                                    .buffer_count = count,
                                    .high_watermark = high,
                                    .low_watermark = low});
    EXPECT_TRUE(pool) << (pool ? "" : pool.error());
    return pool ? std::move(*pool) : nullptr;
  }
};

TEST_F(BufferPoolTest, HandsOutDistinctWritableBuffersAndTakesThemBack) {
  auto pool = make_pool("distinct", 8);
  ASSERT_NE(pool, nullptr);
  std::vector<Buffer> held;
  std::set<uint8_t*> addresses;
  for (int i = 0; i < 8; ++i) {
    Buffer buffer = pool->acquire();
    ASSERT_TRUE(buffer);
    EXPECT_EQ(buffer.size(), 4096U);
    std::memset(buffer.data(), i, buffer.size());
    addresses.insert(buffer.data());
    held.push_back(std::move(buffer));
  }
  EXPECT_EQ(addresses.size(), 8U);
  EXPECT_EQ(pool->in_use(), 8U);
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(held[i].data()[4095], i);
  held.clear();
  EXPECT_EQ(pool->in_use(), 0U);
}

TEST_F(BufferPoolTest, ExhaustionReturnsAnEmptyBufferAndCountsIt) {
  auto pool = make_pool("exhaust", 2);
  ASSERT_NE(pool, nullptr);
  Buffer a = pool->acquire();
  Buffer b = pool->acquire();
  Buffer c = pool->acquire();
  EXPECT_TRUE(a && b);
  EXPECT_FALSE(c);
  EXPECT_EQ(pool->exhausted_count(), 1U);
  a = Buffer();
  EXPECT_TRUE(pool->acquire());
}

TEST_F(BufferPoolTest, PressureHasHysteresisBetweenTheWatermarks) {
  auto pool = make_pool("pressure", 8, /*high=*/6, /*low=*/3);
  ASSERT_NE(pool, nullptr);
  std::vector<Buffer> held;
  for (int i = 0; i < 5; ++i)
    held.push_back(pool->acquire());
  EXPECT_FALSE(pool->under_pressure());
  held.push_back(pool->acquire());
  EXPECT_TRUE(pool->under_pressure());
  held.pop_back();
  held.pop_back();  // 4 in use: between the marks, still under pressure
  EXPECT_TRUE(pool->under_pressure());
  held.pop_back();  // 3 in use: the low mark
  EXPECT_FALSE(pool->under_pressure());
}

// A connection that holds its share waits, another is still served, and
// the first is served again as soon as one of its buffers comes back.
TEST_F(BufferPoolTest, AnAccountHoldingItsShareGetsNoMore) {
  auto pool = make_pool("shares", 16);  // share: 16 / 8 = 2
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->share(), 2U);
  auto stuck = std::make_shared<BufferAccount>();
  auto other = std::make_shared<BufferAccount>();
  Buffer first = pool->acquire(stuck);
  Buffer second = pool->acquire(stuck);
  EXPECT_TRUE(first && second);
  EXPECT_EQ(stuck->held, 2U);
  EXPECT_FALSE(pool->acquire(stuck));
  EXPECT_EQ(pool->share_refusals(), 1U);
  EXPECT_EQ(pool->exhausted_count(), 0U);
  EXPECT_TRUE(pool->acquire(other));  // returned at once
  Buffer kept = pool->acquire(other);
  EXPECT_TRUE(kept);
  EXPECT_EQ(other->held, 1U);
  // Work that is no connection's (the built-in disk's reads) is not held
  // to a share.
  std::vector<Buffer> unaccounted;
  for (int i = 0; i < 4; ++i)
    unaccounted.push_back(pool->acquire());
  EXPECT_EQ(pool->in_use(), 7U);
  // A moved handle keeps its charge; a returned one drops it.
  Buffer moved = std::move(first);
  EXPECT_EQ(stuck->held, 2U);
  moved = Buffer();
  EXPECT_EQ(stuck->held, 1U);
  EXPECT_TRUE(pool->acquire(stuck));
}

TEST_F(BufferPoolTest, MovedHandlesReturnTheirBufferOnce) {
  auto pool = make_pool("moves", 4);
  ASSERT_NE(pool, nullptr);
  Buffer first = pool->acquire();
  Buffer second = std::move(first);
  EXPECT_FALSE(first);  // NOLINT: checking the moved-from state on purpose
  EXPECT_EQ(pool->in_use(), 1U);
  Buffer third = pool->acquire();
  third = std::move(second);
  EXPECT_EQ(pool->in_use(), 1U);
}

TEST_F(BufferPoolTest, MemoryChunksCoverEveryBuffer) {
  auto pool = make_pool("chunks", 16);
  ASSERT_NE(pool, nullptr);
  std::vector<std::pair<uint8_t*, size_t>> chunks;
  pool->for_each_memory_chunk([&](void* address, size_t length) {
    chunks.emplace_back(static_cast<uint8_t*>(address), length);
  });
  ASSERT_FALSE(chunks.empty());
  std::vector<Buffer> held;
  for (int i = 0; i < 16; ++i)
    held.push_back(pool->acquire());
  for (const Buffer& buffer : held) {
    bool covered = false;
    for (const auto& [start, length] : chunks) {
      covered |= buffer.data() >= start && buffer.data() + buffer.size() <= start + length;
    }
    EXPECT_TRUE(covered);
  }
}

TEST_F(BufferPoolTest, RejectsBadWatermarks) {
  auto pool = BufferPool::create({.name = "bad",
                                  .buffer_size = 4096,
                                  .buffer_count = 8,
                                  .high_watermark = 3,
                                  .low_watermark = 5});
  ASSERT_FALSE(pool);
  EXPECT_NE(pool.error().find("low watermark"), std::string::npos);
}

}  // namespace
}  // namespace isergw::gateway
