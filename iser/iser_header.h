// The iSER header that precedes every RDMA Send (RFC 7145 §9), in the
// 28-byte form that Linux ib_iser and ib_isert, tgt and LIO put on the wire:
//
//   byte 0      flags: opcode in the high nibble, WSV 0x08, RSV 0x04
//   bytes 1-3   reserved
//   bytes 4-7   Write STag          (big-endian)
//   bytes 8-15  Write Base Offset   (big-endian; an absolute VA, no ZBVA)
//   bytes 16-19 Read STag
//   bytes 20-27 Read Base Offset
//
// An iSCSI control-type PDU follows it in the same Send: 28 + 48 = 76 bytes at
// least. Hello and HelloReply reuse the first four bytes (hello.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/expected.h"
#include "iser/iser_error.h"

namespace isergw::iser {

inline constexpr std::size_t kIserHeaderLength = 28;
inline constexpr std::size_t kIscsiBhsLength = 48;
// The smallest Send that carries an iSCSI PDU: the iSER header and a BHS.
inline constexpr std::size_t kIserControlMinimumLength = kIserHeaderLength + kIscsiBhsLength;

// The high nibble of byte 0 (RFC 7145 §9).
enum class IserOpcode : std::uint8_t {
  kIscsiControl = 0x1,
  kHello = 0x2,
  kHelloReply = 0x3,
};

namespace iser_flag {
inline constexpr std::uint8_t kOpcodeMask = 0xf0;
inline constexpr std::uint8_t kWriteStagValid = 0x08;  // WSV
inline constexpr std::uint8_t kReadStagValid = 0x04;   // RSV
}  // namespace iser_flag

namespace iser_offset {
inline constexpr std::size_t kFlags = 0;
inline constexpr std::size_t kWriteStag = 4;
inline constexpr std::size_t kWriteVa = 8;
inline constexpr std::size_t kReadStag = 16;
inline constexpr std::size_t kReadVa = 20;
}  // namespace iser_offset

// The header of an iSCSI control-type PDU. A STag and its VA mean something
// only when their valid bit is set: the initiator advertises the buffer an
// iSCSI target may RDMA Read write data from (write) or RDMA Write read data
// into (read).
struct ControlHeader {
  bool write_stag_valid = false;
  bool read_stag_valid = false;
  std::uint32_t write_stag = 0;
  std::uint64_t write_va = 0;
  std::uint32_t read_stag = 0;
  std::uint64_t read_va = 0;

  friend bool operator==(const ControlHeader&, const ControlHeader&) = default;
};

// An iSCSI control-type Send split in two: the iSER header and the iSCSI PDU
// bytes behind it (BHS, AHS, data segment), not yet decoded.
struct ControlMessage {
  ControlHeader header;
  std::span<const std::uint8_t> iscsi_pdu;
};

// The opcode of any iSER message, for the receive path to dispatch on.
Expected<IserOpcode, IserError> peek_opcode(std::span<const std::uint8_t> message);

// Decodes the 28-byte header of a control-type PDU. The reserved bits and
// bytes are ignored on receive, as Linux and tgt do.
Expected<ControlHeader, IserError> decode_control_header(std::span<const std::uint8_t> bytes);

// Decodes a whole received Send: the header, and a BHS's worth of bytes at
// least behind it.
Expected<ControlMessage, IserError> decode_control_message(std::span<const std::uint8_t> message);

// Writes the 28 bytes of the header; reserved bytes are zero. The STag and VA
// of a direction whose valid bit is clear are written as zero.
Expected<void, IserError> encode_control_header(const ControlHeader& header,
                                                std::span<std::uint8_t> out);

// Where an RDMA Read for an R2T at buffer_offset starts in the initiator's
// memory: its write VA points past the immediate and unsolicited data it
// already sent (Linux ib_iser advances it so), and offsets below those are not
// readable at all.
Expected<std::uint64_t, IserError> write_source_address(const ControlHeader& header,
                                                        std::uint32_t buffer_offset,
                                                        std::uint32_t unsolicited_bytes);

}  // namespace isergw::iser
