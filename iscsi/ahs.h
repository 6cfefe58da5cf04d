// Additional Header Segments (RFC 7143 §11.2.2): the Extended CDB AHS for
// CDBs longer than 16 bytes, the Bidirectional Read Expected Data Transfer
// Length AHS, and any other type kept opaque. Only SCSI Command PDUs carry
// them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/expected.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

// AHSType values (§11.2.2.2).
enum class AhsType : std::uint8_t {
  kExtendedCdb = 1,
  kBidiReadExpectedDataTransferLength = 2,
};

// AHSLength (2 bytes) and AHSType (1 byte) precede the AHS-specific byte
// that AHSLength already counts (§11.2.2.1).
inline constexpr std::size_t kAhsHeaderLength = 3;
// The Bidirectional Read Expected Data Transfer Length AHS has AHSLength 5:
// a reserved byte and the 4-byte length (§11.2.2.4).
inline constexpr std::uint16_t kBidiAhsLength = 5;

struct ScsiCommandAhs {
  std::span<const std::uint8_t> extended_cdb{};  // CDB bytes 17..n
  std::optional<std::uint32_t> bidi_read_expected_data_transfer_length{};
  // AHS of other types, verbatim (headers and padding included).
  std::span<const std::uint8_t> other_ahs{};
};

// Parses the AHS area of a PDU: exactly TotalAHSLength * 4 bytes starting at
// PDU offset 48. Offsets in errors are from the start of the PDU. Unknown
// types must sit together, so `other_ahs` can be one view.
Expected<ScsiCommandAhs, PduError> decode_ahs(std::span<const std::uint8_t> ahs);

// The number of bytes encode_ahs() writes (a multiple of 4).
std::size_t encoded_ahs_length(const ScsiCommandAhs& ahs);

// Writes the Extended CDB AHS, then the bidirectional one, then `other_ahs`.
// `out` must hold encoded_ahs_length() bytes. Fails when the CDB is too long
// for an AHSLength or the whole for TotalAHSLength.
Expected<std::size_t, PduError> encode_ahs(const ScsiCommandAhs& ahs, std::span<std::uint8_t> out);

}  // namespace isergw::iscsi
