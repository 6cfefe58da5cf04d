// Builds disks and CDBs for the ScsiDisk tests, and reads results back.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "backend_ram/big_endian.h"
#include "backend_ram/ram_store.h"
#include "backend_ram/scsi_disk.h"
#include "iscsi/sense.h"

namespace isergw::backend_ram::disk_testing {

using Bytes = std::vector<uint8_t>;

inline RamStoreOptions store_options(uint64_t chunk_size, uint64_t memory_limit = 0) {
  RamStoreOptions options;
  options.chunk_size = chunk_size;
  options.memory_limit = memory_limit;
  return options;
}

inline DiskConfig read_only_config() {
  DiskConfig config;
  config.read_only = true;
  return config;
}

inline DiskConfig block_size_config(uint32_t block_size) {
  DiskConfig config;
  config.block_size = block_size;
  return config;
}

// A small RAM disk: 2048 blocks of 512 bytes, 64 KiB chunks, so chunk
// boundaries fall every 128 blocks.
inline ScsiDisk make_disk(DiskConfig config = {}, uint64_t blocks = 2048,
                          RamStoreOptions options = store_options(64 * 1024)) {
  auto store = RamStore::create(blocks * config.block_size, options);
  EXPECT_TRUE(store) << store.error();
  auto disk = ScsiDisk::create(config, std::move(store).value());
  EXPECT_TRUE(disk) << disk.error();
  return std::move(disk).value();
}

struct Outcome {
  ScsiResult result;
  Bytes data;  // the data-in bytes, data_in_length of them
};

// Runs one command; data-in lands in a buffer of EDTL bytes plus a guard
// that must stay untouched.
inline Outcome run(ScsiDisk& disk, const Bytes& cdb, uint32_t edtl = 0,
                   DataDirection direction = DataDirection::kRead,
                   const std::vector<Bytes>& data_out = {}, uint64_t lun = 0) {
  constexpr size_t kGuard = 64;
  Bytes in(edtl + kGuard, 0xA5);
  std::vector<std::span<const uint8_t>> spans;
  for (const Bytes& buffer : data_out)
    spans.emplace_back(buffer);
  ScsiCommand command;
  command.cdb = cdb;
  command.lun = lun;
  command.expected_data_transfer_length = edtl;
  command.direction = direction;
  command.data_out = spans;
  Outcome out;
  out.result = disk.execute(command, std::span(in).first(edtl));
  for (size_t i = edtl; i < in.size(); ++i)
    EXPECT_EQ(in[i], 0xA5) << "guard byte " << i;
  EXPECT_LE(out.result.data_in_length, edtl);
  out.data.assign(in.begin(), in.begin() + out.result.data_in_length);
  return out;
}

inline Outcome write_data(ScsiDisk& disk, const Bytes& cdb, const Bytes& data) {
  return run(disk, cdb, static_cast<uint32_t>(data.size()), DataDirection::kWrite, {data});
}

inline iscsi::Sense sense_of(const ScsiResult& result) {
  const auto sense = iscsi::parse_sense(result.sense.bytes());
  EXPECT_TRUE(sense) << sense.error();
  return sense ? *sense : iscsi::Sense{};
}

inline void expect_good(const ScsiResult& result) {
  EXPECT_EQ(result.status, iscsi::ScsiStatus::kGood);
  EXPECT_TRUE(result.sense.empty());
}

inline void expect_check(const ScsiResult& result, iscsi::SenseKey key,
                         iscsi::AdditionalSense additional,
                         std::optional<iscsi::FieldPointer> pointer = std::nullopt) {
  ASSERT_EQ(result.status, iscsi::ScsiStatus::kCheckCondition);
  EXPECT_EQ(result.data_in_length, 0u);
  const iscsi::Sense sense = sense_of(result);
  EXPECT_EQ(sense.key, key) << iscsi::to_string(sense.key);
  EXPECT_EQ(sense.additional, additional) << iscsi::describe(sense.additional);
  if (pointer) {
    ASSERT_TRUE(sense.field_pointer);
    EXPECT_EQ(*sense.field_pointer, *pointer)
        << "byte " << sense.field_pointer->byte << " bit "
        << (sense.field_pointer->bit ? int{*sense.field_pointer->bit} : -1);
  }
}

inline void expect_invalid_field(const ScsiResult& result, uint16_t byte,
                                 std::optional<uint8_t> bit = std::nullopt) {
  expect_check(result, iscsi::SenseKey::kIllegalRequest, iscsi::kInvalidFieldInCdb,
               iscsi::FieldPointer{true, byte, bit});
}

inline void expect_residual(const ScsiResult& result, Residual kind, uint32_t count) {
  EXPECT_EQ(result.residual, kind);
  EXPECT_EQ(result.residual_count, count);
}

// CDBs as an initiator builds them, padded to the 16 bytes of the BHS.
inline Bytes cdb16(std::initializer_list<uint8_t> bytes) {
  Bytes cdb(bytes);
  cdb.resize(16, 0);
  return cdb;
}

inline Bytes read6(uint32_t lba, uint8_t blocks) {
  return cdb16({0x08, static_cast<uint8_t>(lba >> 16), static_cast<uint8_t>(lba >> 8),
                static_cast<uint8_t>(lba), blocks});
}
inline Bytes write6(uint32_t lba, uint8_t blocks) {
  Bytes cdb = read6(lba, blocks);
  cdb[0] = 0x0A;
  return cdb;
}
inline Bytes rw10(uint8_t opcode, uint32_t lba, uint16_t blocks, uint8_t flags = 0) {
  Bytes cdb = cdb16({opcode, flags});
  store_be32(&cdb[2], lba);
  store_be16(&cdb[7], blocks);
  return cdb;
}
inline Bytes rw12(uint8_t opcode, uint32_t lba, uint32_t blocks) {
  Bytes cdb = cdb16({opcode});
  store_be32(&cdb[2], lba);
  store_be32(&cdb[6], blocks);
  return cdb;
}
inline Bytes rw16(uint8_t opcode, uint64_t lba, uint32_t blocks, uint8_t flags = 0) {
  Bytes cdb = cdb16({opcode, flags});
  store_be64(&cdb[2], lba);
  store_be32(&cdb[10], blocks);
  return cdb;
}
inline Bytes read10(uint32_t lba, uint16_t blocks) {
  return rw10(0x28, lba, blocks);
}
inline Bytes write10(uint32_t lba, uint16_t blocks) {
  return rw10(0x2A, lba, blocks);
}
inline Bytes read16(uint64_t lba, uint32_t blocks) {
  return rw16(0x88, lba, blocks);
}
inline Bytes write16(uint64_t lba, uint32_t blocks) {
  return rw16(0x8A, lba, blocks);
}

inline Bytes inquiry(bool evpd, uint8_t page, uint16_t allocation_length) {
  Bytes cdb = cdb16({0x12, static_cast<uint8_t>(evpd ? 1 : 0), page});
  store_be16(&cdb[3], allocation_length);
  return cdb;
}

// Distinct bytes per position so misplaced data shows.
inline Bytes pattern(size_t size, uint8_t seed) {
  Bytes data(size);
  for (size_t i = 0; i < size; ++i)
    data[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 9));
  return data;
}

}  // namespace isergw::backend_ram::disk_testing
