// Decoding iSCSI PDUs from wire bytes (RFC 7143 §11), in one call for a
// contiguous buffer or in two steps as a stream transport receives them:
//
//   1. decode_framing() on the 48-byte BHS says how long the rest of the
//      header (AHS, HeaderDigest) and the data area (data segment, padding,
//      DataDigest) are, so the caller can receive the data segment straight
//      into its own buffer;
//   2. decode_header() on BHS + AHS + HeaderDigest gives the typed PDU;
//   3. decode_data_area() checks the padding/DataDigest and returns the data
//      segment, which set_pdu_data() attaches.
//
// Nothing here allocates on success or throws; every failure is a PduError
// naming the field, the rule and the byte offset within the PDU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/expected.h"
#include "iscsi/bhs.h"
#include "iscsi/pdu.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

struct DecodeOptions {
  bool header_digest = false;  // HeaderDigest=CRC32C negotiated
  bool data_digest = false;    // DataDigest=CRC32C negotiated
  // The MaxRecvDataSegmentLength this side declared (RFC 7143 §13.12); a
  // longer data segment is a protocol error. 8192 is the RFC's default and
  // the limit during login.
  std::uint32_t max_recv_data_segment_length = 8192;
};

struct PduFraming {
  Opcode opcode = Opcode::kNopOut;
  std::size_t ahs_length = 0;            // TotalAHSLength * 4
  std::size_t header_digest_length = 0;  // 0 or 4
  std::uint32_t data_segment_length = 0;
  std::size_t padding_length = 0;      // 0-3
  std::size_t data_digest_length = 0;  // 0 or 4; none when there is no data segment

  // BHS + AHS + HeaderDigest: what decode_header() needs.
  std::size_t header_length() const { return kBhsLength + ahs_length + header_digest_length; }
  // Data segment + padding + DataDigest: what decode_data_area() needs.
  std::size_t data_area_length() const {
    return data_segment_length + padding_length + data_digest_length;
  }
  std::size_t total_length() const { return header_length() + data_area_length(); }
};

// Step 1: validates the opcode and the length fields of a BHS.
Expected<PduFraming, PduError> decode_framing(BhsBytes bhs, const DecodeOptions& options);

// Step 2: `header` holds at least framing.header_length() bytes. Checks the
// HeaderDigest, then every opcode-specific rule; the PDU's data is empty.
Expected<Pdu, PduError> decode_header(std::span<const std::uint8_t> header,
                                      const PduFraming& framing, const DecodeOptions& options);

// Step 3: `data_area` holds at least framing.data_area_length() bytes. Checks
// the DataDigest (over data and padding, §11.2.4) and returns the data
// segment within `data_area`.
Expected<std::span<const std::uint8_t>, PduError> decode_data_area(
    std::span<const std::uint8_t> data_area, const PduFraming& framing,
    const DecodeOptions& options);

struct DecodedPdu {
  Pdu pdu;
  std::size_t length = 0;  // bytes of `bytes` the PDU occupied
};

// All three steps on a buffer that starts with a PDU; bytes after it are
// left alone, so a stream of PDUs decodes by advancing `length` each time.
Expected<DecodedPdu, PduError> decode_pdu(std::span<const std::uint8_t> bytes,
                                          const DecodeOptions& options);

}  // namespace isergw::iscsi
