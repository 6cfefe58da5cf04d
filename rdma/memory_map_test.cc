#include "rdma/memory_map.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdio>
#include <vector>

#include "rdma/device.h"

namespace isergw::rdma {
namespace {

TEST(RegionIndex, FindsTheKeysOfARangeInsideOneRegion) {
  RegionIndex index;
  ASSERT_TRUE(index.add(0x10000, 0x1000, {1, 2}));
  ASSERT_TRUE(index.add(0x20000, 0x2000, {3, 4}));
  EXPECT_EQ(index.find(reinterpret_cast<void*>(0x10000), 0x1000), (MemoryKeys{1, 2}));
  EXPECT_EQ(index.find(reinterpret_cast<void*>(0x10800), 0x800), (MemoryKeys{1, 2}));
  EXPECT_EQ(index.find(reinterpret_cast<void*>(0x21fff), 1), (MemoryKeys{3, 4}));
}

TEST(RegionIndex, MissesRangesOutsideOrAcrossRegions) {
  RegionIndex index;
  ASSERT_TRUE(index.add(0x10000, 0x1000, {1, 2}));
  ASSERT_TRUE(index.add(0x11000, 0x1000, {3, 4}));
  EXPECT_FALSE(index.find(reinterpret_cast<void*>(0xffff), 1));
  EXPECT_FALSE(index.find(reinterpret_cast<void*>(0x12000), 1));
  // Adjacent registrations are still two regions with two keys.
  EXPECT_FALSE(index.find(reinterpret_cast<void*>(0x10800), 0x1000));
  EXPECT_FALSE(index.find(reinterpret_cast<void*>(0x10fff), 2));
}

TEST(RegionIndex, RefusesOverlapsAndEmptyRanges) {
  RegionIndex index;
  ASSERT_TRUE(index.add(0x10000, 0x1000, {1, 2}));
  EXPECT_FALSE(index.add(0x10fff, 0x10, {}));
  EXPECT_FALSE(index.add(0xf000, 0x1001, {}));
  EXPECT_FALSE(index.add(0x8000, 0x10000, {}));
  EXPECT_FALSE(index.add(0x30000, 0, {}));
  EXPECT_TRUE(index.add(0xf000, 0x1000, {}));
  EXPECT_EQ(index.size(), 2u);
}

// Registers real memory where an RDMA device exists (the VM testbed).
TEST(MemoryMap, RegistersChunksOnceAndLooksThemUp) {
  if (Device::list_names().empty()) GTEST_SKIP() << "no RDMA device on this machine";
  auto device = Device::open();
  ASSERT_TRUE(device) << device.error().describe();
  auto pd = ProtectionDomain::allocate(**device);
  ASSERT_TRUE(pd) << pd.error().describe();
  std::vector<std::uint8_t> first(1 << 16), second(1 << 12);
  MemoryMap map(**pd, kRemoteAccess);
  auto added = map.add_chunks([&](const MemoryMap::ChunkVisitor& visit) {
    visit(first.data(), first.size());
    visit(second.data(), second.size());
  });
  ASSERT_TRUE(added) << added.error().describe();
  EXPECT_EQ(map.region_count(), 2u);
  EXPECT_EQ(map.registered_bytes(), first.size() + second.size());
  auto sge = map.sge(first.data() + 100, 200);
  ASSERT_TRUE(sge);
  EXPECT_EQ(sge->addr, reinterpret_cast<std::uint64_t>(first.data() + 100));
  EXPECT_EQ(sge->length, 200u);
  EXPECT_NE(map.find(second.data(), second.size())->lkey, map.find(first.data(), 1)->lkey);
  EXPECT_FALSE(map.sge(second.data(), second.size() + 1));
  auto again = map.add(first.data(), 4096);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().error_number, EEXIST);
}

// siw counts registrations against RLIMIT_MEMLOCK even for root; rxe does not
// for a process with CAP_IPC_LOCK, so there the registration may succeed.
TEST(MemoryMap, AFailureUnderALowMemlockLimitNamesTheLimit) {
  if (Device::list_names().empty()) GTEST_SKIP() << "no RDMA device on this machine";
  auto device = Device::open();
  ASSERT_TRUE(device) << device.error().describe();
  auto pd = ProtectionDomain::allocate(**device);
  ASSERT_TRUE(pd) << pd.error().describe();
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_MEMLOCK, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = 64 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_MEMLOCK, &low), 0);
  std::vector<std::uint8_t> memory(8 << 20);
  MemoryMap map(**pd, kRemoteAccess);
  auto added = map.add(memory.data(), memory.size());
  ASSERT_EQ(setrlimit(RLIMIT_MEMLOCK, &saved), 0);
  if (added) {
    std::printf("%s registered 8 MiB under a 64 KiB RLIMIT_MEMLOCK (CAP_IPC_LOCK)\n",
                (*device)->name().c_str());
    return;
  }
  const std::string text = added.error().describe();
  std::printf("%s\n", text.c_str());
  EXPECT_NE(text.find("ibv_reg_mr"), std::string::npos) << text;
  EXPECT_NE(text.find("RLIMIT_MEMLOCK is 64 KiB"), std::string::npos) << text;
}

}  // namespace
}  // namespace isergw::rdma
