// Shared by the files that implement ScsiDisk's commands: one command's view
// of the disk, and the helpers that turn outcomes into a ScsiResult.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "backend_ram/command_table.h"
#include "backend_ram/scsi_disk.h"
#include "iscsi/sense.h"

namespace isergw::backend_ram::internal {

struct DiskIdentity {
  const std::string& serial;
  uint64_t naa;
};

struct Context {
  const DiskConfig& config;
  BlockStore& store;
  uint64_t block_count;
  DiskIdentity identity;
  const ScsiCommand& command;
  const CommandInfo& info;
  // At least info.cdb_length bytes.
  const uint8_t* cdb;
  DataInPieces data_in;
  // False when the command addresses a LUN other than the configured one;
  // only INQUIRY, REPORT LUNS and REQUEST SENSE get that far (SPC-4 §4.4).
  bool lun_present;
};

// The expected length for data in the given direction: EDTL if the PDU's R or
// W bit says so, else zero (RFC 7143 §11.3.1).
uint32_t expected_length(const Context& context, DataDirection direction);

// RFC 7143 §11.4.5.1: compares what the command would transfer (SPDTL) with
// what the initiator expected.
void set_residual(ScsiResult& result, uint64_t spdtl, uint32_t expected);

ScsiResult check_condition(const Context& context, iscsi::SenseKey key,
                           iscsi::AdditionalSense additional,
                           std::optional<iscsi::FieldPointer> field_pointer = std::nullopt);
ScsiResult invalid_field_in_cdb(const Context& context, uint16_t byte,
                                std::optional<uint8_t> bit = std::nullopt);
ScsiResult illegal_request(const Context& context, iscsi::AdditionalSense additional);
// GOOD with no data: any EDTL is an underflow.
ScsiResult good(const Context& context);
// GOOD with parameter data, truncated to the allocation length (SPC-4
// §4.2.5.6) and to the expected length.
ScsiResult data_in(const Context& context, std::span<const uint8_t> parameter_data,
                   uint32_t allocation_length);
// The bytes the data-in pieces hold in all.
size_t data_in_capacity(const Context& context);
// Copies `bytes` to the data-in pieces, starting at `offset` of the data.
void put_data_in(const Context& context, size_t offset, std::span<const uint8_t> bytes);
// Copies up to dest.size() bytes of data-out into dest; returns the count.
size_t gather_data_out(const Context& context, std::span<uint8_t> dest);
// Total data-out bytes the relay passed.
uint64_t data_out_size(const Context& context);

// The bytes a READ, WRITE or VERIFY CDB transfers (its TRANSFER LENGTH).
uint64_t transfer_bytes(const CommandInfo& info, const uint8_t* cdb, uint32_t block_size);

ScsiResult inquiry(const Context& context);
ScsiResult mode_sense(const Context& context);
ScsiResult read_blocks(const Context& context);
ScsiResult write_blocks(const Context& context);
ScsiResult verify_blocks(const Context& context);
ScsiResult synchronize_cache(const Context& context);
ScsiResult write_same(const Context& context);
ScsiResult unmap(const Context& context);
ScsiResult report_supported_operation_codes(const Context& context);

}  // namespace isergw::backend_ram::internal
