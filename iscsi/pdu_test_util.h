// Helpers shared by the PDU codec tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "iscsi/byte_order.h"
#include "iscsi/pdu_decoder.h"
#include "iscsi/pdu_encoder.h"

namespace isergw::iscsi::testing {

inline std::vector<std::uint8_t> encode(const Pdu& pdu, const EncodeOptions& options = {}) {
  std::vector<std::uint8_t> out(encoded_length(pdu, options));
  auto written = encode_pdu(pdu, options, out);
  EXPECT_TRUE(written.has_value()) << written.error().describe();
  if (written) {
    EXPECT_EQ(*written, out.size());
  }
  return out;
}

// Decodes a buffer that must hold exactly one valid PDU of type T.
template <typename T>
T decode_as(std::span<const std::uint8_t> bytes, DecodeOptions options = {}) {
  options.max_recv_data_segment_length = kMaxDataSegmentLength;
  auto decoded = decode_pdu(bytes, options);
  EXPECT_TRUE(decoded.has_value()) << decoded.error().describe();
  if (!decoded) return T{};
  EXPECT_EQ(decoded->length, bytes.size());
  EXPECT_TRUE(std::holds_alternative<T>(decoded->pdu));
  if (!std::holds_alternative<T>(decoded->pdu)) return T{};
  return std::get<T>(decoded->pdu);
}

inline std::uint32_t be32_at(std::span<const std::uint8_t> bytes, std::size_t offset) {
  return load_be32(bytes.data() + offset);
}

inline std::vector<std::uint8_t> bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

}  // namespace isergw::iscsi::testing
