#include "iscsi/ahs.h"

#include <algorithm>
#include <string>

#include "iscsi/bhs.h"
#include "iscsi/byte_order.h"

namespace isergw::iscsi {
namespace {

std::size_t extended_cdb_ahs_length(std::size_t extra_cdb_bytes) {
  return padded_length(kAhsHeaderLength + 1 + extra_cdb_bytes);
}

std::string ahs_type_name(std::uint8_t type) {
  switch (type) {
    case static_cast<std::uint8_t>(AhsType::kExtendedCdb):
      return "Extended CDB AHS";
    case static_cast<std::uint8_t>(AhsType::kBidiReadExpectedDataTransferLength):
      return "Bidirectional Read Expected Data Transfer Length AHS";
    default:
      return "AHS type " + std::to_string(type);
  }
}

}  // namespace

Expected<ScsiCommandAhs, PduError> decode_ahs(std::span<const std::uint8_t> ahs) {
  ScsiCommandAhs out;
  const std::size_t total_words = ahs.size() / 4;
  if (ahs.size() % 4 != 0) {
    return Unexpected{pdu_error(PduErrc::kInvalidAhs, bhs_offset::kTotalAhsLength, "TotalAHSLength",
                                "AHS area of %zu bytes is not whole words", ahs.size())};
  }
  std::size_t other_begin = 0;
  std::size_t other_end = 0;
  std::size_t pos = 0;
  while (pos < ahs.size()) {
    // Each AHS is padded to a word (§11.2.2), so at least one word remains.
    const std::size_t at = kBhsLength + pos;
    const std::uint16_t length = load_be16(ahs.data() + pos);
    const std::uint8_t type = ahs[pos + 2];
    const std::size_t span_length = padded_length(kAhsHeaderLength + length);
    if (span_length > ahs.size() - pos) {
      return Unexpected{pdu_error(PduErrc::kInvalidAhs, at, "AHSLength",
                                  "TotalAHSLength %zu words but %s at AHS byte %zu declares %zu "
                                  "bytes",
                                  total_words, ahs_type_name(type).c_str(), pos, span_length)};
    }
    if (length == 0) {
      return Unexpected{pdu_error(PduErrc::kInvalidAhs, at, "AHSLength",
                                  "AHSLength 0 (it counts the AHS-specific byte, so is at least "
                                  "1)")};
    }
    const auto body = ahs.subspan(pos + kAhsHeaderLength + 1, length - 1);
    if (type == static_cast<std::uint8_t>(AhsType::kExtendedCdb)) {
      if (!out.extended_cdb.empty()) {
        return Unexpected{
            pdu_error(PduErrc::kInvalidAhs, at + 2, "AHSType", "a second Extended CDB AHS")};
      }
      // §11.2.2.3: the AHS holds CDB bytes beyond 16, so at least one.
      if (body.empty()) {
        return Unexpected{pdu_error(PduErrc::kInvalidAhs, at, "AHSLength",
                                    "Extended CDB AHS with AHSLength 1 carries no CDB bytes")};
      }
      out.extended_cdb = body;
    } else if (type == static_cast<std::uint8_t>(AhsType::kBidiReadExpectedDataTransferLength)) {
      if (out.bidi_read_expected_data_transfer_length) {
        return Unexpected{pdu_error(PduErrc::kInvalidAhs, at + 2, "AHSType",
                                    "a second Bidirectional Read Expected Data Transfer Length "
                                    "AHS")};
      }
      if (length != kBidiAhsLength) {
        return Unexpected{pdu_error(PduErrc::kInvalidAhs, at, "AHSLength",
                                    "Bidirectional Read Expected Data Transfer Length AHS has "
                                    "AHSLength %u, must be 5",
                                    length)};
      }
      out.bidi_read_expected_data_transfer_length = load_be32(body.data());
    } else {
      if (other_end != 0 && other_end != pos) {
        return Unexpected{pdu_error(PduErrc::kInvalidAhs, at + 2, "AHSType",
                                    "AHS of unknown type %u is separated from the earlier "
                                    "unknown AHS by a known one",
                                    type)};
      }
      if (other_end == 0) other_begin = pos;
      other_end = pos + span_length;
    }
    pos += span_length;
  }
  if (other_end != 0) out.other_ahs = ahs.subspan(other_begin, other_end - other_begin);
  return out;
}

std::size_t encoded_ahs_length(const ScsiCommandAhs& ahs) {
  std::size_t length = ahs.other_ahs.size();
  if (!ahs.extended_cdb.empty()) length += extended_cdb_ahs_length(ahs.extended_cdb.size());
  if (ahs.bidi_read_expected_data_transfer_length) length += kAhsHeaderLength + kBidiAhsLength;
  return length;
}

Expected<std::size_t, PduError> encode_ahs(const ScsiCommandAhs& ahs, std::span<std::uint8_t> out) {
  const std::size_t total = encoded_ahs_length(ahs);
  if (ahs.extended_cdb.size() + 1 > 0xffff) {
    return Unexpected{pdu_error(PduErrc::kLengthLimit, kBhsLength, "AHSLength",
                                "extended CDB of %zu bytes does not fit a 16-bit AHSLength",
                                ahs.extended_cdb.size())};
  }
  if (total > kMaxAhsLength || ahs.other_ahs.size() % 4 != 0) {
    return Unexpected{pdu_error(
        PduErrc::kLengthLimit, bhs_offset::kTotalAhsLength, "TotalAHSLength",
        "AHS of %zu bytes is not a whole number of words up to %zu", total, kMaxAhsLength)};
  }
  if (out.size() < total) {
    return Unexpected{pdu_error(PduErrc::kBufferTooSmall, kBhsLength, "AHS",
                                "AHS needs %zu bytes, buffer has %zu", total, out.size())};
  }
  std::uint8_t* p = out.data();
  if (!ahs.extended_cdb.empty()) {
    const std::size_t length = extended_cdb_ahs_length(ahs.extended_cdb.size());
    std::fill_n(p, length, 0);
    store_be16(p, static_cast<std::uint16_t>(ahs.extended_cdb.size() + 1));
    p[2] = static_cast<std::uint8_t>(AhsType::kExtendedCdb);
    std::copy(ahs.extended_cdb.begin(), ahs.extended_cdb.end(), p + kAhsHeaderLength + 1);
    p += length;
  }
  if (ahs.bidi_read_expected_data_transfer_length) {
    store_be16(p, kBidiAhsLength);
    p[2] = static_cast<std::uint8_t>(AhsType::kBidiReadExpectedDataTransferLength);
    p[3] = 0;
    store_be32(p + 4, *ahs.bidi_read_expected_data_transfer_length);
    p += kAhsHeaderLength + kBidiAhsLength;
  }
  std::copy(ahs.other_ahs.begin(), ahs.other_ahs.end(), p);
  return total;
}

}  // namespace isergw::iscsi
