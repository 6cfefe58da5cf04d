// Fuzzes the PDU decoder, whole-buffer and header-first, and checks that
// whatever decodes re-encodes to bytes that decode to the same PDU.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "iscsi/pdu_decoder.h"
#include "iscsi/pdu_encoder.h"

namespace {

using isergw::iscsi::DecodeOptions;
using isergw::iscsi::EncodeOptions;

void check(bool condition) {
  if (!condition) std::abort();
}

std::vector<std::uint8_t> encode(const isergw::iscsi::Pdu& pdu, const EncodeOptions& options) {
  std::vector<std::uint8_t> out(isergw::iscsi::encoded_length(pdu, options));
  auto written = isergw::iscsi::encode_pdu(pdu, options, out);
  check(written.has_value() && *written == out.size());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // The first byte picks the negotiated options; the rest is the PDU.
  const std::uint8_t selector = data[0];
  DecodeOptions options;
  options.header_digest = (selector & 1) != 0;
  options.data_digest = (selector & 2) != 0;
  options.max_recv_data_segment_length =
      (selector & 4) ? 8192 : isergw::iscsi::kMaxDataSegmentLength;
  const std::span<const std::uint8_t> bytes(data + 1, size - 1);

  auto decoded = isergw::iscsi::decode_pdu(bytes, options);

  // The header-first steps must agree with the one-call decoder.
  if (bytes.size() >= isergw::iscsi::kBhsLength) {
    auto framing = isergw::iscsi::decode_framing(bytes.first<isergw::iscsi::kBhsLength>(), options);
    if (framing && bytes.size() >= framing->header_length()) {
      auto header =
          isergw::iscsi::decode_header(bytes.first(framing->header_length()), *framing, options);
      if (header && bytes.size() >= framing->total_length()) {
        auto segment = isergw::iscsi::decode_data_area(bytes.subspan(framing->header_length()),
                                                       *framing, options);
        check(segment.has_value() == decoded.has_value());
      } else if (!header) {
        check(!decoded.has_value());
      }
    }
  }
  if (!decoded) return 0;
  check(decoded->length <= bytes.size());

  const EncodeOptions encode_options{.header_digest = options.header_digest,
                                     .data_digest = options.data_digest};
  const auto first = encode(decoded->pdu, encode_options);
  check(first.size() == decoded->length);
  auto again = isergw::iscsi::decode_pdu(first, options);
  check(again.has_value() && again->length == first.size());
  check(encode(again->pdu, encode_options) == first);
  return 0;
}
