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

  std::unique_ptr<BufferPool> make_pool(const std::string& name, size_t count) {
    auto pool = BufferPool::create({.name = name, .buffer_size = 4096, .buffer_count = count});
    EXPECT_TRUE(pool) << (pool ? "" : pool.error());
    if (!pool) return nullptr;
    // Claims are served from a queue the test runs by hand, as a worker's
    // loop would: deterministic, and never inside a buffer's release.
    (*pool)->set_deferral([this](std::function<void()> serve) { deferred_.push_back(serve); });
    return std::move(*pool);
  }
  void run_deferred() {
    while (!deferred_.empty()) {
      auto next = std::move(deferred_.front());
      deferred_.erase(deferred_.begin());
      next();
    }
  }
  static std::shared_ptr<BufferAccount> account(BufferUse use) {
    return std::make_shared<BufferAccount>(use);
  }

  std::vector<std::function<void()>> deferred_;
};

TEST_F(BufferPoolTest, HandsOutDistinctWritableBuffersAndTakesThemBack) {
  auto pool = make_pool("distinct", 16);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->budget(BufferUse::kHostData), 8U);
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

// The budgets add up to the pool, and one spent budget leaves the others
// whole: a flood of read data cannot starve write data, nor the reverse.
TEST_F(BufferPoolTest, EachBudgetIsSpentOnItsOwn) {
  auto pool = make_pool("budgets", 16);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->budget(BufferUse::kClaimed) + pool->budget(BufferUse::kHostData) +
                pool->budget(BufferUse::kStorageData),
            16U);
  std::vector<Buffer> host;
  while (Buffer buffer = pool->acquire())
    host.push_back(std::move(buffer));
  EXPECT_EQ(host.size(), pool->budget(BufferUse::kHostData));
  EXPECT_EQ(pool->exhausted_count(), 1U);
  EXPECT_TRUE(pool->acquire(account(BufferUse::kStorageData)));
  std::vector<Buffer> claimed;
  PendingClaim pending;
  EXPECT_EQ(pool->claim(2, account(BufferUse::kClaimed), claimed, pending, nullptr),
            BufferPool::ClaimOutcome::kGranted);
  EXPECT_EQ(claimed.size(), 2U);
  host.pop_back();
  EXPECT_TRUE(pool->acquire());
}

// A connection that holds its share waits, another is still served, and
// the first is served again as soon as one of its buffers comes back.
TEST_F(BufferPoolTest, AnAccountHoldingItsShareGetsNoMore) {
  auto pool = make_pool("shares", 32);  // share: 32 / 16 = 2
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->share(), 2U);
  auto stuck = account(BufferUse::kHostData);
  auto other = account(BufferUse::kHostData);
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
  // A moved handle keeps its charge; a returned one drops it.
  Buffer moved = std::move(first);
  EXPECT_EQ(stuck->held, 2U);
  moved = Buffer();
  EXPECT_EQ(stuck->held, 1U);
  EXPECT_TRUE(pool->acquire(stuck));
  // Data fetched ahead is all or nothing, within the share.
  auto ahead = account(BufferUse::kHostData);
  EXPECT_TRUE(pool->acquire_all(3, ahead).empty());
  EXPECT_EQ(pool->acquire_all(2, ahead).size(), 2U);
  EXPECT_EQ(ahead->held, 0U);
}

// Claims are served in the order they were made, each whole, when buffers
// come back in any order; a claim that fits never jumps the line.
TEST_F(BufferPoolTest, ClaimsAreGrantedWholeAndInOrder) {
  auto pool = make_pool("order", 64);  // claims: 16 buffers, at most 8 at once
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(pool->budget(BufferUse::kClaimed), 16U);
  ASSERT_EQ(pool->max_claim(), 8U);
  std::vector<std::shared_ptr<BufferAccount>> sessions;
  for (int i = 0; i < 4; ++i)
    sessions.push_back(account(BufferUse::kClaimed));
  std::vector<Buffer> a, b;
  PendingClaim none;
  ASSERT_EQ(pool->claim(8, sessions[0], a, none, nullptr), BufferPool::ClaimOutcome::kGranted);
  ASSERT_EQ(pool->claim(6, sessions[1], b, none, nullptr), BufferPool::ClaimOutcome::kGranted);
  std::vector<int> granted;
  std::vector<std::vector<Buffer>> holdings(4);
  auto record = [&](int who) {
    return [&, who](std::vector<Buffer> buffers) {
      granted.push_back(who);
      holdings[who] = std::move(buffers);
    };
  };
  std::vector<Buffer> unused;
  PendingClaim big, small;
  EXPECT_EQ(pool->claim(5, sessions[2], unused, big, record(2)),
            BufferPool::ClaimOutcome::kWaiting);
  EXPECT_EQ(pool->claim(2, sessions[3], unused, small, record(3)),
            BufferPool::ClaimOutcome::kWaiting);  // 2 would fit, but 5 came first
  run_deferred();
  EXPECT_TRUE(granted.empty());
  EXPECT_EQ(pool->claims_waiting(), 2U);
  b.pop_back();
  b.pop_back();  // 4 free: not yet enough for the first in line
  run_deferred();
  EXPECT_TRUE(granted.empty());
  a.clear();  // the other session's buffers come back first
  run_deferred();
  ASSERT_EQ(granted, (std::vector<int>{2, 3}));
  EXPECT_EQ(holdings[2].size(), 5U);
  EXPECT_EQ(holdings[3].size(), 2U);
  EXPECT_EQ(pool->claims_waiting(), 0U);
  EXPECT_EQ(pool->claims_waited(), 2U);
}

// An aborted command withdraws its claim: it is never granted, and the
// claims behind it move up.
TEST_F(BufferPoolTest, AWithdrawnClaimLetsTheNextOneThrough) {
  auto pool = make_pool("withdraw", 64);
  ASSERT_NE(pool, nullptr);
  auto first = account(BufferUse::kClaimed);
  auto second = account(BufferUse::kClaimed);
  std::vector<Buffer> held;
  PendingClaim none;
  ASSERT_EQ(pool->claim(8, first, held, none, nullptr), BufferPool::ClaimOutcome::kGranted);
  std::vector<Buffer> more;
  ASSERT_EQ(pool->claim(4, second, more, none, nullptr), BufferPool::ClaimOutcome::kGranted);
  bool aborted_granted = false;
  size_t next_granted = 0;
  std::vector<Buffer> unused, kept;
  auto aborted = std::make_unique<PendingClaim>();
  PendingClaim next;
  ASSERT_EQ(pool->claim(8, account(BufferUse::kClaimed), unused, *aborted,
                        [&](std::vector<Buffer>) { aborted_granted = true; }),
            BufferPool::ClaimOutcome::kWaiting);
  ASSERT_EQ(pool->claim(4, second, unused, next,
                        [&](std::vector<Buffer> buffers) {
                          next_granted = buffers.size();
                          kept = std::move(buffers);
                        }),
            BufferPool::ClaimOutcome::kWaiting);
  aborted.reset();  // the command ends while it waits
  run_deferred();
  EXPECT_FALSE(aborted_granted);
  EXPECT_EQ(next_granted, 4U);
  EXPECT_EQ(second->held, 8U);
  held.clear();
  run_deferred();
  EXPECT_FALSE(aborted_granted);
}

// A session that holds its share of claims waits for its own buffers; a
// claim of another session behind it is served meanwhile. A claim larger
// than any claim may be is refused at once, as it could never be granted.
TEST_F(BufferPoolTest, ASessionAtItsShareLetsOthersPassAndOversizedClaimsAreRefused) {
  auto pool = make_pool("claim-shares", 128);  // claims: 32, at most 16 each
  ASSERT_NE(pool, nullptr);
  auto hog = account(BufferUse::kClaimed);
  auto bystander = account(BufferUse::kClaimed);
  std::vector<Buffer> hog_holds, unused;
  PendingClaim none;
  EXPECT_EQ(pool->claim(17, hog, unused, none, nullptr), BufferPool::ClaimOutcome::kRefused);
  ASSERT_EQ(pool->claim(16, hog, hog_holds, none, nullptr), BufferPool::ClaimOutcome::kGranted);
  PendingClaim hog_waits, bystander_waits;
  bool hog_granted = false;
  std::vector<Buffer> bystander_holds;
  ASSERT_EQ(
      pool->claim(4, hog, unused, hog_waits, [&](std::vector<Buffer>) { hog_granted = true; }),
      BufferPool::ClaimOutcome::kWaiting);
  ASSERT_EQ(pool->claim(4, bystander, unused, bystander_waits,
                        [&](std::vector<Buffer> buffers) { bystander_holds = std::move(buffers); }),
            BufferPool::ClaimOutcome::kWaiting);
  run_deferred();
  EXPECT_FALSE(hog_granted);
  EXPECT_EQ(bystander_holds.size(), 4U);
  EXPECT_EQ(hog->held, 16U);
  // The hog's connection ends: its buffers come back, and its waiting claim
  // goes with it.
  hog_waits = PendingClaim();
  hog_holds.clear();
  run_deferred();
  EXPECT_FALSE(hog_granted);
  EXPECT_EQ(pool->in_use(BufferUse::kClaimed), 4U);
}

// A pool of one use (an iSER back leg's command buffers) lends all of it.
// A session's claims keep their order: a small one that would fit its
// account does not overtake a large one of the same account held back, or
// a stream of small writes could starve a large one for ever.
TEST_F(BufferPoolTest, ASessionsClaimsKeepTheirOrder) {
  auto pool = make_pool("session-order", 64);  // at most 8 per account
  ASSERT_NE(pool, nullptr);
  auto session = account(BufferUse::kClaimed);
  std::vector<Buffer> held;
  PendingClaim none;
  ASSERT_EQ(pool->claim(8, session, held, none, nullptr), BufferPool::ClaimOutcome::kGranted);
  std::vector<int> order;
  std::vector<Buffer> unused, large_holds, small_holds;
  PendingClaim large, small;
  ASSERT_EQ(pool->claim(6, session, unused, large,
                        [&](std::vector<Buffer> buffers) {
                          order.push_back(6);
                          large_holds = std::move(buffers);
                        }),
            BufferPool::ClaimOutcome::kWaiting);
  ASSERT_EQ(pool->claim(1, session, unused, small,
                        [&](std::vector<Buffer> buffers) {
                          order.push_back(1);
                          small_holds = std::move(buffers);
                        }),
            BufferPool::ClaimOutcome::kWaiting);
  held.resize(6);  // 6 held: the small claim would fit, the large not yet
  run_deferred();
  EXPECT_TRUE(order.empty());
  held.clear();
  run_deferred();
  EXPECT_EQ(order, (std::vector<int>{6, 1}));
}

TEST_F(BufferPoolTest, APoolWithoutBudgetsLendsAllOfIt) {
  auto pool = BufferPool::create(
      {.name = "whole", .buffer_size = 4096, .buffer_count = 8, .budgets = false});
  ASSERT_TRUE(pool) << pool.error();
  std::vector<Buffer> held;
  while (Buffer buffer = (*pool)->acquire())
    held.push_back(std::move(buffer));
  EXPECT_EQ(held.size(), 8U);
  std::vector<Buffer> claimed;
  PendingClaim none;
  EXPECT_EQ((*pool)->claim(1, account(BufferUse::kClaimed), claimed, none, nullptr),
            BufferPool::ClaimOutcome::kRefused);
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
  while (Buffer buffer = pool->acquire())
    held.push_back(std::move(buffer));
  for (int i = 0; i < 4; ++i)
    held.push_back(pool->acquire(account(BufferUse::kStorageData)));
  PendingClaim none;
  ASSERT_EQ(pool->claim(2, account(BufferUse::kClaimed), held, none, nullptr),
            BufferPool::ClaimOutcome::kGranted);
  ASSERT_EQ(pool->claim(2, account(BufferUse::kClaimed), held, none, nullptr),
            BufferPool::ClaimOutcome::kGranted);
  ASSERT_EQ(held.size(), 16U);
  for (const Buffer& buffer : held) {
    bool covered = false;
    for (const auto& [start, length] : chunks) {
      covered |= buffer.data() >= start && buffer.data() + buffer.size() <= start + length;
    }
    EXPECT_TRUE(covered);
  }
}

TEST_F(BufferPoolTest, RejectsAPoolTooSmallToSplit) {
  auto pool = BufferPool::create({.name = "bad", .buffer_size = 4096, .buffer_count = 3});
  ASSERT_FALSE(pool);
  EXPECT_NE(pool.error().find("at least 4 buffers"), std::string::npos);
}

}  // namespace
}  // namespace isergw::gateway
