#include "backend_ram/backend_url.h"

#include <gtest/gtest.h>

#include "backend_ram/ram_store.h"

namespace isergw::backend_ram {
namespace {

BackendUrl ram(uint64_t size) {
  return {BackendKind::kRam, size};
}
BackendUrl null(uint64_t size) {
  return {BackendKind::kNull, size};
}

TEST(BackendUrl, SizesInBytesAndWithSuffixes) {
  EXPECT_EQ(*parse_backend_url("ram://1048576"), ram(1 << 20));
  EXPECT_EQ(*parse_backend_url("ram://64K"), ram(64 << 10));
  EXPECT_EQ(*parse_backend_url("ram://512M"), ram(512 << 20));
  EXPECT_EQ(*parse_backend_url("ram://1G"), ram(uint64_t{1} << 30));
  EXPECT_EQ(*parse_backend_url("null://2T"), null(uint64_t{2} << 40));
  EXPECT_EQ(*parse_backend_url("ram://1GiB"), ram(uint64_t{1} << 30));
  EXPECT_EQ(*parse_backend_url("ram://4MiB"), ram(4 << 20));
  EXPECT_EQ(*parse_backend_url("ram://8KiB"), ram(8 << 10));
  EXPECT_EQ(*parse_backend_url("null://1TiB"), null(uint64_t{1} << 40));
  EXPECT_EQ(*parse_backend_url("ram://1g"), ram(uint64_t{1} << 30));
  EXPECT_EQ(*parse_backend_url("ram://1gib"), ram(uint64_t{1} << 30));
  EXPECT_EQ(*parse_backend_url("null://512"), null(512));
  EXPECT_EQ(*parse_backend_url("ram://4096", 4096), ram(4096));
}

TEST(BackendUrl, IsBuiltin) {
  EXPECT_TRUE(is_builtin_url("ram://"));
  EXPECT_TRUE(is_builtin_url("null://x"));
  EXPECT_FALSE(is_builtin_url("iscsi://10.0.0.1/iqn.x/0"));
  EXPECT_FALSE(is_builtin_url("RAM://1G"));
}

void expect_error(std::string_view url, std::string_view message, uint32_t block_size = 512) {
  const auto parsed = parse_backend_url(url, block_size);
  ASSERT_FALSE(parsed) << url;
  EXPECT_EQ(parsed.error(), message);
}

TEST(BackendUrl, Errors) {
  expect_error("iscsi://host/iqn",
               "'iscsi://host/iqn' is not a built-in back end; use ram://SIZE "
               "or null://SIZE");
  expect_error("ram:/1G", "'ram:/1G' is not a built-in back end; use ram://SIZE or null://SIZE");
  expect_error("ram://", "ram:// needs a size, e.g. ram://1G");
  expect_error("null://", "null:// needs a size, e.g. null://1G");
  expect_error("ram://12Q", "ram:// size '12Q' has an unknown suffix 'Q'; use K, M, G or T");
  expect_error("ram://1GB", "ram:// size '1GB' has an unknown suffix 'GB'; use K, M, G or T");
  expect_error("ram://1G ", "ram:// size '1G ' has an unknown suffix 'G '; use K, M, G or T");
  expect_error("ram://1.5G", "ram:// size '1.5G' has an unknown suffix '.5G'; use K, M, G or T");
  expect_error("ram://G",
               "ram:// size 'G' is not a number; use bytes or a number with K, M, G or T");
  expect_error("ram://-1",
               "ram:// size '-1' is not a number; use bytes or a number with K, M, G or T");
  expect_error("ram://0", "ram:// size must not be zero");
  expect_error("null://0G", "null:// size must not be zero");
  expect_error("ram://1000",
               "ram:// size '1000' (1000 bytes) is not a multiple of the 512-byte "
               "block size");
  expect_error("ram://2K",
               "ram:// size '2K' (2048 bytes) is not a multiple of the 4096-byte "
               "block size",
               4096);
  expect_error("ram://18446744073709551616", "ram:// size '18446744073709551616' is too large");
  expect_error("ram://99999999999999999999999",
               "ram:// size '99999999999999999999999' is too large");
  expect_error("ram://16777216T", "ram:// size '16777216T' is too large");
  expect_error("ram://1G", "block size 520 is not supported; use 512 or 4096", 520);
  expect_error("ram://1G", "block size 0 is not supported; use 512 or 4096", 0);
}

TEST(BackendUrl, LargestRepresentableSizeParses) {
  EXPECT_EQ(*parse_backend_url("null://16777215T"), null(uint64_t{16777215} << 40));
}

TEST(OpenBackend, RamAndNullDisks) {
  DiskConfig config;
  auto ram_disk = open_backend(*parse_backend_url("ram://1G"), config);
  ASSERT_TRUE(ram_disk) << ram_disk.error();
  EXPECT_EQ(ram_disk->block_count(), (uint64_t{1} << 30) / 512);
  EXPECT_NE(dynamic_cast<RamStore*>(&ram_disk->store()), nullptr);
  EXPECT_EQ(ram_disk->config().product, "RAM DISK");
  auto null_disk = open_backend(*parse_backend_url("null://1T"), config);
  ASSERT_TRUE(null_disk) << null_disk.error();
  EXPECT_EQ(null_disk->block_count(), (uint64_t{1} << 40) / 512);
  EXPECT_EQ(null_disk->config().product, "NULL DISK");
}

TEST(OpenBackend, PassesDiskErrorsOn) {
  DiskConfig config;
  config.block_size = 4096;
  // Parsed for 512-byte blocks, opened with 4096-byte ones.
  const auto disk = open_backend(*parse_backend_url("ram://512"), config);
  ASSERT_FALSE(disk);
  EXPECT_EQ(disk.error(), "store size 512 is not a positive multiple of the block size 4096");
}

}  // namespace
}  // namespace isergw::backend_ram
