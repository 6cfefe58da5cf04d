// Why a PDU could not be decoded or encoded: the field, the rule it broke and
// the byte offset of that field, so that the single log line written when a
// connection is dropped tells an admin exactly what the peer sent.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace isergw::iscsi {

enum class PduErrc {
  kTruncated,       // fewer bytes than the header says the PDU has
  kReservedOpcode,  // opcode outside RFC 7143 §11.2.1.2's list
  kInvalidField,    // a field value the RFC forbids for this opcode
  kLengthLimit,     // a length beyond a negotiated or wire limit
  kInvalidAhs,      // an AHS that does not fit or contradicts itself
  kHeaderDigest,    // HeaderDigest CRC32C mismatch
  kDataDigest,      // DataDigest CRC32C mismatch
  kBufferTooSmall,  // encoder: the caller's buffer cannot hold the PDU
};

struct PduError {
  PduErrc code;
  // Offset of the offending field from the first byte of the PDU.
  std::size_t offset = 0;
  // RFC 7143's name for the field, e.g. "DataSegmentLength".
  std::string field;
  // The rule, as a sentence naming the value, e.g. "DataSegmentLength 70000
  // exceeds MaxRecvDataSegmentLength 65536".
  std::string message;

  // "byte 5 (DataSegmentLength): DataSegmentLength 70000 exceeds ...".
  std::string describe() const;
};

std::string_view pdu_errc_name(PduErrc code);

// Builds a PduError with a printf-style message; only called on the error
// path, so the allocation it makes costs nothing on good PDUs.
PduError pdu_error(PduErrc code, std::size_t offset, std::string_view field, const char* format,
                   ...) __attribute__((format(printf, 4, 5)));

}  // namespace isergw::iscsi
