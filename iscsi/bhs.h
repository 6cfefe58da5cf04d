// The Basic Header Segment's shape (RFC 7143 §11.2): its size, the fields at
// the same place in every PDU, and the padding and tag rules shared by all
// opcodes. Per-opcode layouts live with each PDU family.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/expected.h"
#include "iscsi/opcode.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

inline constexpr std::size_t kBhsLength = 48;
inline constexpr std::size_t kDigestLength = 4;
// DataSegmentLength is a 24-bit field (RFC 7143 §11.2.1.5).
inline constexpr std::uint32_t kMaxDataSegmentLength = 0xffffff;
// TotalAHSLength is one byte counting 4-byte words (RFC 7143 §11.2.1.4).
inline constexpr std::size_t kMaxAhsLength = 255 * 4;
// The "no tag" value for ITT and TTT (RFC 7143 §11.2.1.8, §11.18.3).
inline constexpr std::uint32_t kReservedTag = 0xffffffff;

using BhsBytes = std::span<const std::uint8_t, kBhsLength>;
using MutableBhsBytes = std::span<std::uint8_t, kBhsLength>;

// Offsets of the fields every BHS has in the same place (RFC 7143 §11.2.1).
namespace bhs_offset {
inline constexpr std::size_t kOpcode = 0;
inline constexpr std::size_t kFlags = 1;
inline constexpr std::size_t kTotalAhsLength = 4;
inline constexpr std::size_t kDataSegmentLength = 5;
inline constexpr std::size_t kLun = 8;
inline constexpr std::size_t kItt = 16;
}  // namespace bhs_offset

// The F bit, byte 1 bit 7, for every opcode that has it.
inline constexpr std::uint8_t kFinalBit = 0x80;

// Segments are padded to a multiple of 4 bytes (RFC 7143 §11.2.3, §11.2.2).
constexpr std::size_t padding_length(std::size_t length) {
  return (4 - length % 4) % 4;
}
constexpr std::size_t padded_length(std::size_t length) {
  return length + padding_length(length);
}

// Checks that byte 1 has its F bit set, for the opcodes whose layout fixes it
// at 1 (NOP, TMF, R2T, Async, Logout, SNACK, Reject, SCSI Response).
Expected<void, PduError> require_final_bit(BhsBytes bhs, Opcode opcode);

// Checks a length field that RFC 7143 requires to be 0 for this opcode
// (e.g. DataSegmentLength of an R2T, §11.8).
Expected<void, PduError> require_no_data_segment(BhsBytes bhs, Opcode opcode);

// Checks a tag that must be 0xffffffff for this opcode (e.g. the ITT of an
// Asynchronous Message, §11.9).
Expected<void, PduError> require_reserved_itt(BhsBytes bhs, Opcode opcode);

}  // namespace isergw::iscsi
