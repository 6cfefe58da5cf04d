#include "iscsi/pdu_encoder.h"

#include <algorithm>
#include <type_traits>

#include "iscsi/ahs.h"
#include "iscsi/bhs.h"
#include "iscsi/byte_order.h"
#include "iscsi/digest.h"

namespace isergw::iscsi {
namespace {

ScsiCommandAhs command_ahs(const ScsiCommand& command) {
  return ScsiCommandAhs{
      .extended_cdb = command.extended_cdb,
      .bidi_read_expected_data_transfer_length = command.bidi_read_expected_data_transfer_length,
      .other_ahs = command.other_ahs,
  };
}

std::size_t ahs_length(const Pdu& pdu) {
  const auto* command = std::get_if<ScsiCommand>(&pdu);
  return command ? encoded_ahs_length(command_ahs(*command)) : 0;
}

void encode_bhs(const Pdu& pdu, MutableBhsBytes bhs) {
  std::visit(
      [bhs](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, NopOut>) encode_nop_out(p, bhs);
        if constexpr (std::is_same_v<T, ScsiCommand>) encode_scsi_command(p, bhs);
        if constexpr (std::is_same_v<T, TaskManagementRequest>) {
          encode_task_management_request(p, bhs);
        }
        if constexpr (std::is_same_v<T, LoginRequest>) encode_login_request(p, bhs);
        if constexpr (std::is_same_v<T, TextRequest>) encode_text_request(p, bhs);
        if constexpr (std::is_same_v<T, DataOut>) encode_data_out(p, bhs);
        if constexpr (std::is_same_v<T, LogoutRequest>) encode_logout_request(p, bhs);
        if constexpr (std::is_same_v<T, SnackRequest>) encode_snack_request(p, bhs);
        if constexpr (std::is_same_v<T, NopIn>) encode_nop_in(p, bhs);
        if constexpr (std::is_same_v<T, ScsiResponse>) encode_scsi_response(p, bhs);
        if constexpr (std::is_same_v<T, TaskManagementResponse>) {
          encode_task_management_response(p, bhs);
        }
        if constexpr (std::is_same_v<T, LoginResponse>) encode_login_response(p, bhs);
        if constexpr (std::is_same_v<T, TextResponse>) encode_text_response(p, bhs);
        if constexpr (std::is_same_v<T, DataIn>) encode_data_in(p, bhs);
        if constexpr (std::is_same_v<T, LogoutResponse>) encode_logout_response(p, bhs);
        if constexpr (std::is_same_v<T, R2t>) encode_r2t(p, bhs);
        if constexpr (std::is_same_v<T, AsyncMessage>) encode_async_message(p, bhs);
        if constexpr (std::is_same_v<T, Reject>) encode_reject(p, bhs);
      },
      pdu);
}

std::size_t data_trailer_length(std::size_t data_length, const EncodeOptions& options) {
  if (data_length == 0) return 0;
  return padding_length(data_length) + (options.data_digest ? kDigestLength : 0);
}

}  // namespace

std::size_t encoded_header_length(const Pdu& pdu, const EncodeOptions& options) {
  return kBhsLength + ahs_length(pdu) + (options.header_digest ? kDigestLength : 0);
}

std::size_t encoded_length(const Pdu& pdu, const EncodeOptions& options) {
  const std::size_t data_length = pdu_data(pdu).size();
  return encoded_header_length(pdu, options) + data_length +
         data_trailer_length(data_length, options);
}

Expected<std::size_t, PduError> encode_header(const Pdu& pdu, const EncodeOptions& options,
                                              std::span<std::uint8_t> out) {
  const std::size_t data_length = pdu_data(pdu).size();
  if (data_length > kMaxDataSegmentLength) {
    return Unexpected{pdu_error(PduErrc::kLengthLimit, bhs_offset::kDataSegmentLength,
                                "DataSegmentLength",
                                "data segment of %zu bytes exceeds the 24-bit "
                                "DataSegmentLength",
                                data_length)};
  }
  const std::size_t header_length = encoded_header_length(pdu, options);
  if (out.size() < header_length) {
    return Unexpected{pdu_error(PduErrc::kBufferTooSmall, 0, "BHS",
                                "header needs %zu bytes, buffer has %zu", header_length,
                                out.size())};
  }
  const MutableBhsBytes bhs = out.first<kBhsLength>();
  std::fill(bhs.begin(), bhs.end(), 0);
  encode_bhs(pdu, bhs);
  std::size_t ahs = 0;
  if (const auto* command = std::get_if<ScsiCommand>(&pdu)) {
    auto written = encode_ahs(command_ahs(*command), out.subspan(kBhsLength));
    if (!written) return Unexpected{written.error()};
    ahs = *written;
  }
  bhs[bhs_offset::kTotalAhsLength] = static_cast<std::uint8_t>(ahs / 4);
  store_be24(bhs.data() + bhs_offset::kDataSegmentLength, static_cast<std::uint32_t>(data_length));
  if (options.header_digest) {
    store_digest(out.data() + kBhsLength + ahs, crc32c(out.first(kBhsLength + ahs)));
  }
  return header_length;
}

std::size_t encode_data_trailer(std::span<const std::uint8_t> data, const EncodeOptions& options,
                                DataTrailer& out) {
  if (data.empty()) return 0;
  const std::size_t padding = padding_length(data.size());
  std::fill_n(out.begin(), padding, 0);
  if (!options.data_digest) return padding;
  store_digest(out.data() + padding, data_digest(data));
  return padding + kDigestLength;
}

Expected<std::size_t, PduError> encode_pdu(const Pdu& pdu, const EncodeOptions& options,
                                           std::span<std::uint8_t> out) {
  const std::size_t total = encoded_length(pdu, options);
  if (out.size() < total) {
    return Unexpected{pdu_error(PduErrc::kBufferTooSmall, 0, "PDU",
                                "PDU needs %zu bytes, buffer has %zu", total, out.size())};
  }
  auto header = encode_header(pdu, options, out);
  if (!header) return header;
  const auto data = pdu_data(pdu);
  std::copy(data.begin(), data.end(), out.begin() + *header);
  DataTrailer trailer;
  const std::size_t trailer_length = encode_data_trailer(data, options, trailer);
  std::copy_n(trailer.begin(), trailer_length, out.begin() + *header + data.size());
  return total;
}

}  // namespace isergw::iscsi
