#include "iser/pdu_in_send.h"

#include "iscsi/pdu_decoder.h"

namespace isergw::iser {

Expected<PduInSend, std::string> decode_pdu_in_send(std::span<const std::uint8_t> bytes,
                                                    std::uint32_t max_data_segment_length) {
  if (bytes.size() < iscsi::kBhsLength) {
    return Unexpected{std::string("an iSER message shorter than a BHS")};
  }
  const iscsi::DecodeOptions options{.max_recv_data_segment_length = max_data_segment_length};
  auto framing = iscsi::decode_framing(iscsi::BhsBytes(bytes.first<iscsi::kBhsLength>()), options);
  if (!framing) return Unexpected{"bad PDU header: " + framing.error().message};
  const size_t header_length = framing->header_length();
  if (bytes.size() < header_length + framing->data_segment_length) {
    return Unexpected{"a Send of " + std::to_string(bytes.size()) +
                      " bytes holds less than its PDU's header and data segment"};
  }
  auto pdu = iscsi::decode_header(bytes.first(header_length), *framing, options);
  if (!pdu) return Unexpected{"bad PDU header: " + pdu.error().message};
  return PduInSend{std::move(*pdu), bytes.first(header_length),
                   bytes.subspan(header_length, framing->data_segment_length)};
}

}  // namespace isergw::iser
