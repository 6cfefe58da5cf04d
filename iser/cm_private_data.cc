#include "iser/cm_private_data.h"

namespace isergw::iser {

Expected<CmPrivateData, IserError> decode_cm_private_data(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) {
    return CmPrivateData{
        .present = false, .zbva_not_supported = true, .send_with_invalidate_not_supported = true};
  }
  if (bytes.size() < kCmPrivateDataLength) {
    return Unexpected{iser_error(IserErrc::kTruncated, bytes.size(), "iSER CM private data",
                                 "%zu bytes of CM private data, iSER's has %zu", bytes.size(),
                                 kCmPrivateDataLength)};
  }
  return CmPrivateData{
      .present = true,
      .zbva_not_supported = (bytes[0] & cm_flag::kZbvaNotSupported) != 0,
      .send_with_invalidate_not_supported =
          (bytes[0] & cm_flag::kSendWithInvalidateNotSupported) != 0,
  };
}

std::array<std::uint8_t, kCmPrivateDataLength> encode_cm_private_data(const CmPrivateData& data) {
  std::array<std::uint8_t, kCmPrivateDataLength> bytes{};
  if (data.zbva_not_supported) bytes[0] |= cm_flag::kZbvaNotSupported;
  if (data.send_with_invalidate_not_supported) {
    bytes[0] |= cm_flag::kSendWithInvalidateNotSupported;
  }
  return bytes;
}

}  // namespace isergw::iser
