#include "iscsi/pdu_decoder.h"

#include <string>

#include "iscsi/ahs.h"
#include "iscsi/byte_order.h"
#include "iscsi/digest.h"

namespace isergw::iscsi {
namespace {

template <typename T>
Expected<Pdu, PduError> as_pdu(Expected<T, PduError> decoded) {
  if (!decoded) return Unexpected{decoded.error()};
  return Pdu(std::move(decoded).value());
}

Expected<Pdu, PduError> decode_bhs(BhsBytes bhs, Opcode opcode) {
  switch (opcode) {
    case Opcode::kNopOut:
      return as_pdu(decode_nop_out(bhs));
    case Opcode::kScsiCommand:
      return as_pdu(decode_scsi_command(bhs));
    case Opcode::kTaskManagementRequest:
      return as_pdu(decode_task_management_request(bhs));
    case Opcode::kLoginRequest:
      return as_pdu(decode_login_request(bhs));
    case Opcode::kTextRequest:
      return as_pdu(decode_text_request(bhs));
    case Opcode::kScsiDataOut:
      return as_pdu(decode_data_out(bhs));
    case Opcode::kLogoutRequest:
      return as_pdu(decode_logout_request(bhs));
    case Opcode::kSnackRequest:
      return as_pdu(decode_snack_request(bhs));
    case Opcode::kNopIn:
      return as_pdu(decode_nop_in(bhs));
    case Opcode::kScsiResponse:
      return as_pdu(decode_scsi_response(bhs));
    case Opcode::kTaskManagementResponse:
      return as_pdu(decode_task_management_response(bhs));
    case Opcode::kLoginResponse:
      return as_pdu(decode_login_response(bhs));
    case Opcode::kTextResponse:
      return as_pdu(decode_text_response(bhs));
    case Opcode::kScsiDataIn:
      return as_pdu(decode_data_in(bhs));
    case Opcode::kLogoutResponse:
      return as_pdu(decode_logout_response(bhs));
    case Opcode::kR2t:
      return as_pdu(decode_r2t(bhs));
    case Opcode::kAsyncMessage:
      return as_pdu(decode_async_message(bhs));
    case Opcode::kReject:
      return as_pdu(decode_reject(bhs));
  }
  return Unexpected{pdu_error(PduErrc::kReservedOpcode, bhs_offset::kOpcode, "Opcode",
                              "opcode 0x%02x has no decoder", static_cast<unsigned>(opcode))};
}

PduError truncated(std::size_t available, std::size_t needed, const char* what) {
  return pdu_error(PduErrc::kTruncated, available, what,
                   "PDU needs %zu bytes up to the end of its %s but only %zu are available", needed,
                   what, available);
}

}  // namespace

Expected<PduFraming, PduError> decode_framing(BhsBytes bhs, const DecodeOptions& options) {
  const auto opcode = opcode_from_wire(bhs[bhs_offset::kOpcode]);
  if (!opcode) {
    const unsigned value = bhs[bhs_offset::kOpcode] & kOpcodeMask;
    // §11.2.1.2: 0x1c-0x1e and 0x3c-0x3e are vendor-specific, the rest of
    // the unlisted values reserved.
    const bool vendor = (value & 0x1f) >= 0x1c && (value & 0x1f) <= 0x1e;
    return Unexpected{pdu_error(PduErrc::kReservedOpcode, bhs_offset::kOpcode, "Opcode",
                                "%s opcode 0x%02x",
                                vendor ? "unsupported vendor-specific" : "reserved", value)};
  }
  PduFraming framing;
  framing.opcode = *opcode;
  framing.ahs_length = std::size_t{bhs[bhs_offset::kTotalAhsLength]} * 4;
  framing.header_digest_length = options.header_digest ? kDigestLength : 0;
  framing.data_segment_length = load_be24(bhs.data() + bhs_offset::kDataSegmentLength);
  if (framing.data_segment_length > options.max_recv_data_segment_length) {
    return Unexpected{pdu_error(PduErrc::kLengthLimit, bhs_offset::kDataSegmentLength,
                                "DataSegmentLength",
                                "DataSegmentLength %u exceeds MaxRecvDataSegmentLength %u",
                                framing.data_segment_length, options.max_recv_data_segment_length)};
  }
  framing.padding_length = padding_length(framing.data_segment_length);
  framing.data_digest_length =
      options.data_digest && framing.data_segment_length > 0 ? kDigestLength : 0;
  return framing;
}

Expected<Pdu, PduError> decode_header(std::span<const std::uint8_t> header,
                                      const PduFraming& framing, const DecodeOptions& options) {
  if (header.size() < framing.header_length()) {
    return Unexpected{truncated(header.size(), framing.header_length(),
                                framing.header_digest_length ? "HeaderDigest" : "AHS")};
  }
  const std::size_t digest_at = kBhsLength + framing.ahs_length;
  if (framing.header_digest_length != 0) {
    const std::uint32_t expected = crc32c(header.first(digest_at));
    const std::uint32_t received = load_digest(header.data() + digest_at);
    if (expected != received) {
      return Unexpected{pdu_error(PduErrc::kHeaderDigest, digest_at, "HeaderDigest",
                                  "header digest mismatch: received 0x%08x, computed 0x%08x",
                                  received, expected)};
    }
  }
  const BhsBytes bhs = header.first<kBhsLength>();
  auto pdu = decode_bhs(bhs, framing.opcode);
  if (!pdu) return pdu;
  if (framing.ahs_length != 0) {
    auto* command = std::get_if<ScsiCommand>(&*pdu);
    // §11.2.2: the AHS types RFC 7143 defines all belong to SCSI Command.
    if (command == nullptr) {
      return Unexpected{
          pdu_error(PduErrc::kInvalidAhs, bhs_offset::kTotalAhsLength, "TotalAHSLength",
                    "TotalAHSLength %zu words but a %s PDU carries no AHS", framing.ahs_length / 4,
                    std::string(opcode_name(framing.opcode)).c_str())};
    }
    auto ahs = decode_ahs(header.subspan(kBhsLength, framing.ahs_length));
    if (!ahs) return Unexpected{ahs.error()};
    command->extended_cdb = ahs->extended_cdb;
    command->bidi_read_expected_data_transfer_length = ahs->bidi_read_expected_data_transfer_length;
    command->other_ahs = ahs->other_ahs;
  }
  return pdu;
}

Expected<std::span<const std::uint8_t>, PduError> decode_data_area(
    std::span<const std::uint8_t> data_area, const PduFraming& framing,
    const DecodeOptions& options) {
  const std::size_t base = framing.header_length();
  if (data_area.size() < framing.data_area_length()) {
    const char* what = data_area.size() < framing.data_segment_length ? "DataSegment"
                       : framing.data_digest_length != 0              ? "DataDigest"
                                                                      : "padding";
    auto error = truncated(base + data_area.size(), framing.total_length(), what);
    return Unexpected{std::move(error)};
  }
  const std::size_t padded = framing.data_segment_length + framing.padding_length;
  if (framing.data_digest_length != 0) {
    const std::uint32_t expected = crc32c(data_area.first(padded));
    const std::uint32_t received = load_digest(data_area.data() + padded);
    if (expected != received) {
      return Unexpected{pdu_error(PduErrc::kDataDigest, base + padded, "DataDigest",
                                  "data digest mismatch: received 0x%08x, computed 0x%08x",
                                  received, expected)};
    }
  }
  return data_area.first(framing.data_segment_length);
}

Expected<DecodedPdu, PduError> decode_pdu(std::span<const std::uint8_t> bytes,
                                          const DecodeOptions& options) {
  if (bytes.size() < kBhsLength) return Unexpected{truncated(bytes.size(), kBhsLength, "BHS")};
  auto framing = decode_framing(bytes.first<kBhsLength>(), options);
  if (!framing) return Unexpected{framing.error()};
  auto pdu = decode_header(bytes, *framing, options);
  if (!pdu) return Unexpected{pdu.error()};
  auto data = decode_data_area(bytes.subspan(framing->header_length()), *framing, options);
  if (!data) return Unexpected{data.error()};
  set_pdu_data(*pdu, *data);
  return DecodedPdu{std::move(*pdu), framing->total_length()};
}

}  // namespace isergw::iscsi
