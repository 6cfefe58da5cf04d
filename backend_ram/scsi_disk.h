// A SCSI direct-access block device (SBC-3) over a BlockStore: the built-in
// back end the relay calls for ram:// and null:// targets. Pure SCSI: it
// takes one command's CDB and data and returns status, sense and data-in,
// with no iSCSI framing and no I/O of its own.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "backend_ram/block_store.h"
#include "common/expected.h"
#include "iscsi/sense.h"

namespace isergw::backend_ram {

// The R and W bits of the SCSI Command PDU (RFC 7143 §11.3.1): which way the
// expected data transfer length applies.
enum class DataDirection : uint8_t { kNone, kRead, kWrite };

struct ScsiCommand {
  std::span<const uint8_t> cdb;
  // The 8-byte LUN field of the SCSI Command PDU, as a big-endian number
  // (SAM-5 §4.7); LUN 0 is 0.
  uint64_t lun = 0;
  uint32_t expected_data_transfer_length = 0;
  DataDirection direction = DataDirection::kNone;
  // Data-out as the relay holds it: immediate, unsolicited and solicited data
  // in pool buffers, in order. Bytes past what the command uses are ignored.
  std::span<const std::span<const uint8_t>> data_out;
};

// RFC 7143 §11.4.5.1: the O and U bits.
enum class Residual : uint8_t { kNone, kUnderflow, kOverflow };

struct ScsiResult {
  iscsi::ScsiStatus status = iscsi::ScsiStatus::kGood;
  iscsi::SenseBytes sense;  // empty unless CHECK CONDITION
  // Bytes written at the start of the data-in span.
  uint32_t data_in_length = 0;
  Residual residual = Residual::kNone;
  uint32_t residual_count = 0;
};

struct DiskConfig {
  // Logical block length: 512 or 4096.
  uint32_t block_size = 512;
  bool read_only = false;
  // The caching mode page's WCE. A RAM disk has no volatile cache to lose,
  // but initiators issue fewer SYNCHRONIZE CACHEs when WCE = 0.
  bool write_cache = false;
  // The one LUN this unit answers on (0..16383); REPORT LUNS lists it.
  uint16_t lun = 0;
  // Stable per logical unit: the unit serial number and the device
  // identification designators derive from it, so a host sees the same disk
  // after a restart. E.g. the target name plus the LUN.
  std::string name = "isergw";
  // INQUIRY PRODUCT IDENTIFICATION, up to 16 ASCII characters.
  std::string product = "RAM DISK";
  // The largest READ/WRITE, advertised as the Block Limits page's MAXIMUM
  // TRANSFER LENGTH: what the relay can set aside for one command
  // (gateway/buffer_pool.h), at most ScsiDisk::kMaxTransferBytes.
  uint32_t max_transfer_bytes = 16u << 20;
};

// WRITE SAME and UNMAP reach no further than a WRITE: initiators size test
// writes by the advertised WRITE SAME length.
inline uint64_t max_write_same_bytes(const DiskConfig& config) {
  return config.max_transfer_bytes;
}

// Where a command's data-in goes: pieces filled in order (pool buffers).
using DataInPieces = std::span<const std::span<uint8_t>>;

// One logical unit. Not thread-safe: it belongs to the worker that runs the
// sessions mapped to it, like everything else on the data path.
class ScsiDisk {
 public:
  // The largest READ/WRITE the disk accepts at most (DiskConfig's
  // max_transfer_bytes may lower it): the gateway accepts commands of up to
  // 16 MiB (no max-I/O negotiation in iSER), and a bound keeps one command
  // from holding a worker for long.
  static constexpr uint32_t kMaxTransferBytes = 16u << 20;
  // WRITE SAME and UNMAP are bounded like a WRITE (max_write_same_bytes()):
  // libiscsi writes 65536 blocks when the WRITE SAME length is 0 or larger,
  // and expects a MAXIMUM UNMAP LBA COUNT of at most 1 Mi blocks.
  static constexpr uint32_t kMaxUnmapDescriptors = 256;

  static Expected<ScsiDisk, std::string> create(DiskConfig config,
                                                std::unique_ptr<BlockStore> store);

  // Executes one command. data_in should hold EDTL bytes for a read; the
  // disk never writes more than min(EDTL, data_in.size()) bytes into it and
  // never throws: every failure is a SCSI status with sense data. Residuals
  // always compare the command's own transfer length with EDTL.
  ScsiResult execute(const ScsiCommand& command, std::span<uint8_t> data_in);
  // The same, with data-in spread over pieces, filled in order.
  ScsiResult execute(const ScsiCommand& command, DataInPieces data_in);

  // How many bytes of data-out (data-in) the command would take (give) at
  // most, never more than EDTL: what the relay sets aside before it asks
  // the host for the data (or runs the command). 0 for a command that
  // fails on its CDB alone, or moves no data that way.
  uint32_t data_out_length(const ScsiCommand& command) const;
  uint32_t data_in_length(const ScsiCommand& command) const;
  const DiskConfig& config() const { return config_; }
  uint64_t block_count() const { return block_count_; }
  BlockStore& store() { return *store_; }

 private:
  ScsiDisk(DiskConfig config, std::unique_ptr<BlockStore> store);

  DiskConfig config_;
  std::unique_ptr<BlockStore> store_;
  uint64_t block_count_;
  uint64_t encoded_lun_;
  std::string serial_;  // 16 hex digits derived from config_.name
  uint64_t naa_;        // NAA 3 (locally assigned) designator
};

// The 8-byte LUN field for a LUN number: peripheral device addressing below
// 256, flat space addressing above (SAM-5 §4.7.3); as Linux encodes them.
uint64_t encode_lun(uint16_t lun);

}  // namespace isergw::backend_ram
