// Encoding iSCSI PDUs into caller-supplied buffers (RFC 7143 §11): lengths,
// AHS, padding and CRC32C digests are computed here; nothing is allocated.
//
// encode_pdu() writes a whole PDU contiguously. A transport that sends the
// data segment from its own (e.g. registered) buffer instead writes the
// header with encode_header(), sends the data, then the 0-7 bytes that
// encode_data_trailer() produces.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/expected.h"
#include "iscsi/pdu.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

struct EncodeOptions {
  bool header_digest = false;
  bool data_digest = false;
};

// Padding (up to 3 bytes) and DataDigest (4 bytes).
inline constexpr std::size_t kMaxDataTrailerLength = 7;
using DataTrailer = std::array<std::uint8_t, kMaxDataTrailerLength>;

// BHS + AHS + HeaderDigest of `pdu`.
std::size_t encoded_header_length(const Pdu& pdu, const EncodeOptions& options);
// The whole PDU, data segment, padding and digests included.
std::size_t encoded_length(const Pdu& pdu, const EncodeOptions& options);

// Writes BHS, AHS and HeaderDigest; DataSegmentLength is that of
// pdu_data(pdu). Returns the bytes written.
Expected<std::size_t, PduError> encode_header(const Pdu& pdu, const EncodeOptions& options,
                                              std::span<std::uint8_t> out);

// Writes the zero padding and the DataDigest that follow `data` on the wire;
// returns how many of `out`'s bytes to send. Nothing follows an empty data
// segment (§11.2.4: no DataDigest without data).
std::size_t encode_data_trailer(std::span<const std::uint8_t> data, const EncodeOptions& options,
                                DataTrailer& out);

// The whole PDU into `out`; returns the bytes written.
Expected<std::size_t, PduError> encode_pdu(const Pdu& pdu, const EncodeOptions& options,
                                           std::span<std::uint8_t> out);

}  // namespace isergw::iscsi
