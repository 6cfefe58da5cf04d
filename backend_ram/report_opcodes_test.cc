#include <gtest/gtest.h>

#include <set>

#include "backend_ram/command_table.h"
#include "backend_ram/disk_test_util.h"

namespace isergw::backend_ram {
namespace {

using namespace disk_testing;  // NOLINT: the helpers of this test

Bytes rsoc(uint8_t options, uint8_t opcode, uint16_t service_action, uint32_t allocation_length) {
  Bytes cdb = cdb16({0xA3, 0x0C, options, opcode});
  store_be16(&cdb[4], service_action);
  store_be32(&cdb[6], allocation_length);
  return cdb;
}

TEST(ReportOpcodes, AllCommands) {
  ScsiDisk disk = make_disk();
  const Outcome outcome = run(disk, rsoc(0, 0, 0, 4096), 4096);
  expect_good(outcome.result);
  const Bytes& d = outcome.data;
  ASSERT_EQ(d.size(), 4 + 8 * kSupportedCommandCount);
  EXPECT_EQ(load_be32(&d[0]), 8 * kSupportedCommandCount);
  std::set<std::pair<uint8_t, uint16_t>> seen;
  for (size_t at = 4; at < d.size(); at += 8) {
    const bool servactv = (d[at + 5] & 0x01) != 0;
    seen.insert({d[at], servactv ? load_be16(&d[at + 2]) : 0});
    const uint16_t cdb_length = load_be16(&d[at + 6]);
    EXPECT_TRUE(cdb_length == 6 || cdb_length == 10 || cdb_length == 12 || cdb_length == 16);
  }
  EXPECT_TRUE(seen.count({0x28, 0}));
  EXPECT_TRUE(seen.count({0x93, 0}));
  EXPECT_TRUE(seen.count({0x42, 0}));
  EXPECT_TRUE(seen.count({0x9E, 0x10}));
  EXPECT_TRUE(seen.count({0xA3, 0x0C}));
  EXPECT_EQ(seen.size(), kSupportedCommandCount);
}

TEST(ReportOpcodes, AllCommandsWithTimeouts) {
  ScsiDisk disk = make_disk();
  const Outcome outcome = run(disk, rsoc(0x80, 0, 0, 4096), 4096);
  expect_good(outcome.result);
  ASSERT_EQ(outcome.data.size(), 4 + 20 * kSupportedCommandCount);
  EXPECT_EQ(outcome.data[4 + 5] & 0x02, 0x02);  // CTDP
  EXPECT_EQ(load_be16(&outcome.data[4 + 8]), 10u);
}

TEST(ReportOpcodes, OneCommandGivesItsUsageMap) {
  ScsiDisk disk = make_disk();
  const Outcome outcome = run(disk, rsoc(1, 0x93, 0, 512), 512);
  expect_good(outcome.result);
  const Bytes& d = outcome.data;
  ASSERT_EQ(d.size(), 4u + 16);
  EXPECT_EQ(d[1] & 0x07, 0x03);  // supported per standard
  EXPECT_EQ(load_be16(&d[2]), 16u);
  EXPECT_EQ(d[4], 0x93);
  EXPECT_EQ(d[5], 0x08);  // UNMAP only
}

TEST(ReportOpcodes, OneCommandWithServiceAction) {
  ScsiDisk disk = make_disk();
  const Outcome outcome = run(disk, rsoc(2, 0x9E, 0x10, 512), 512);
  expect_good(outcome.result);
  ASSERT_EQ(outcome.data.size(), 4u + 16);
  EXPECT_EQ(outcome.data[4], 0x9E);
  EXPECT_EQ(outcome.data[5], 0x10);
  const Outcome either = run(disk, rsoc(3, 0x9E, 0x10, 512), 512);
  EXPECT_EQ(either.data, outcome.data);
  const Outcome plain = run(disk, rsoc(3, 0x28, 0, 512), 512);
  EXPECT_EQ(plain.data[1] & 0x07, 0x03);
  const Outcome with_timeouts = run(disk, rsoc(0x82, 0x9E, 0x10, 512), 512);
  EXPECT_EQ(with_timeouts.data.size(), 4u + 16 + 12);
  EXPECT_EQ(with_timeouts.data[1] & 0x80, 0x80);  // CTDP
}

TEST(ReportOpcodes, UnsupportedCommandsSaySo) {
  ScsiDisk disk = make_disk();
  for (const Bytes& cdb :
       {rsoc(1, 0x89, 0, 512), rsoc(2, 0x9E, 0x12, 512), rsoc(2, 0x9E, 0x100, 512),
        rsoc(3, 0x28, 1, 512), rsoc(3, 0x9E, 0x100, 512)}) {
    const Outcome outcome = run(disk, cdb, 512);
    expect_good(outcome.result);
    ASSERT_EQ(outcome.data.size(), 4u);
    EXPECT_EQ(outcome.data[1] & 0x07, 0x01);
  }
}

TEST(ReportOpcodes, Errors) {
  ScsiDisk disk = make_disk();
  // Option 1 for a command with service actions, option 2 for one without.
  expect_invalid_field(run(disk, rsoc(1, 0x9E, 0, 512), 512).result, 2, 2);
  expect_invalid_field(run(disk, rsoc(2, 0x28, 0, 512), 512).result, 2, 2);
  // Reserved reporting options.
  expect_invalid_field(run(disk, rsoc(4, 0, 0, 512), 512).result, 2, 2);
  expect_invalid_field(run(disk, rsoc(7, 0, 0, 512), 512).result, 2, 2);
  // Reserved bits in byte 2.
  expect_invalid_field(run(disk, rsoc(0x08, 0, 0, 512), 512).result, 2, 3);
}

TEST(ReportOpcodes, EveryUsageMapKeepsItsOwnOpcodeAndAcceptsItself) {
  // A CDB that sets every bit its usage map allows must not be refused for a
  // reserved bit: the table and the check cannot disagree.
  ScsiDisk disk = make_disk();
  for (const CommandInfo& info : supported_commands()) {
    EXPECT_EQ(info.usage[0], info.opcode);
    if (info.has_service_action) {
      EXPECT_EQ(info.usage[1] & 0x1F, info.service_action);
    }
    for (size_t i = info.cdb_length; i < info.usage.size(); ++i)
      EXPECT_EQ(info.usage[i], 0);
    Bytes cdb(info.usage.begin(), info.usage.end());
    const Outcome outcome = run(disk, cdb, 0, DataDirection::kNone);
    if (outcome.result.status == iscsi::ScsiStatus::kCheckCondition) {
      const iscsi::Sense sense = sense_of(outcome.result);
      EXPECT_NE(sense.additional, iscsi::kInvalidCommandOperationCode) << int{info.opcode};
      // Refusals of whole fields (a value, not a stray bit) are fine.
      if (sense.field_pointer && sense.field_pointer->bit) {
        const auto& pointer = *sense.field_pointer;
        EXPECT_NE(info.usage[pointer.byte] & (1u << *pointer.bit), 0u)
            << "opcode " << int{info.opcode} << " byte " << pointer.byte;
      }
    }
  }
}

}  // namespace
}  // namespace isergw::backend_ram
