#include "backend_ram/null_store.h"

#include <gtest/gtest.h>

#include <vector>

namespace isergw::backend_ram {
namespace {

TEST(NullStore, ReadsZerosWhateverWasWritten) {
  NullStore store(1 << 20);
  EXPECT_EQ(store.size(), 1u << 20);
  const std::vector<uint8_t> data(4096, 0x5A);
  EXPECT_TRUE(store.write(4096, data));
  std::vector<uint8_t> out(4096, 0xEE);
  store.read(4096, out);
  EXPECT_EQ(out, std::vector<uint8_t>(4096, 0));
  store.discard(0, 1 << 20);
  store.read(0, {});
}

}  // namespace
}  // namespace isergw::backend_ram
