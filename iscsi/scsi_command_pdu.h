// SCSI Command and SCSI Response PDUs (RFC 7143 §11.3, §11.4).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/expected.h"
#include "iscsi/bhs.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

// ATTR, byte 1 bits 0-2 (RFC 7143 §11.3.1.2); 5-7 are reserved.
enum class TaskAttribute : std::uint8_t {
  kUntagged = 0,
  kSimple = 1,
  kOrdered = 2,
  kHeadOfQueue = 3,
  kAca = 4,
};

inline constexpr std::size_t kBhsCdbLength = 16;

struct ScsiCommand {
  bool immediate = false;
  bool final = true;   // F: no unsolicited Data-Out follows
  bool read = false;   // R
  bool write = false;  // W
  TaskAttribute task_attribute = TaskAttribute::kSimple;
  std::uint64_t lun = 0;
  std::uint32_t itt = 0;
  std::uint32_t expected_data_transfer_length = 0;
  std::uint32_t cmd_sn = 0;
  std::uint32_t exp_stat_sn = 0;
  // The CDB's first 16 bytes, zero-padded when it is shorter (§11.3.5).
  std::array<std::uint8_t, kBhsCdbLength> cdb{};
  // CDB bytes beyond the 16th, carried in an Extended CDB AHS (§11.2.2.3).
  std::span<const std::uint8_t> extended_cdb{};
  // The Bidirectional Read Expected Data Transfer Length AHS (§11.2.2.4).
  std::optional<std::uint32_t> bidi_read_expected_data_transfer_length{};
  // AHS of types this gateway does not know, verbatim with their headers and
  // padding, so a relay can pass them on unchanged.
  std::span<const std::uint8_t> other_ahs{};
  std::span<const std::uint8_t> data{};  // immediate data
};

// SCSI Response "Response" field values (§11.4.3).
inline constexpr std::uint8_t kResponseCommandCompleted = 0x00;
inline constexpr std::uint8_t kResponseTargetFailure = 0x01;

struct ScsiResponse {
  bool bidi_read_overflow = false;   // o
  bool bidi_read_underflow = false;  // u
  bool residual_overflow = false;    // O
  bool residual_underflow = false;   // U
  std::uint8_t response = kResponseCommandCompleted;
  std::uint8_t status = 0;  // SCSI status, e.g. 0x02 CHECK CONDITION
  std::uint32_t itt = 0;
  std::uint32_t snack_tag = 0;
  std::uint32_t stat_sn = 0;
  std::uint32_t exp_cmd_sn = 0;
  std::uint32_t max_cmd_sn = 0;
  std::uint32_t exp_data_sn = 0;
  std::uint32_t bidi_read_residual_count = 0;
  std::uint32_t residual_count = 0;
  // SenseLength plus sense data, or iSCSI response data (§11.4.7).
  std::span<const std::uint8_t> data{};
};

// The AHS fields are left empty: the PDU decoder fills them in from the AHS.
Expected<ScsiCommand, PduError> decode_scsi_command(BhsBytes bhs);
Expected<ScsiResponse, PduError> decode_scsi_response(BhsBytes bhs);
void encode_scsi_command(const ScsiCommand& pdu, MutableBhsBytes bhs);
void encode_scsi_response(const ScsiResponse& pdu, MutableBhsBytes bhs);

}  // namespace isergw::iscsi
