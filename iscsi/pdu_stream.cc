#include "iscsi/pdu_stream.h"

namespace isergw::iscsi {
namespace {

bool is_login_opcode(std::uint8_t byte0) {
  const std::uint8_t opcode = byte0 & kOpcodeMask;
  return opcode == static_cast<std::uint8_t>(Opcode::kLoginRequest) ||
         opcode == static_cast<std::uint8_t>(Opcode::kLoginResponse);
}

}  // namespace

PduStreamReader::PduStreamReader(std::span<const std::uint8_t> stream, const DecodeOptions& options)
    : stream_(stream), full_feature_options_(options) {}

Expected<std::optional<StreamPdu>, PduError> PduStreamReader::next() {
  if (offset_ == stream_.size()) return std::optional<StreamPdu>();
  DecodeOptions options = full_feature_options_;
  // The opcode is in the first byte, so the digests' presence is known
  // before the header is parsed.
  const bool full_feature = !is_login_opcode(stream_[offset_]);
  if (!full_feature) {
    options.header_digest = false;
    options.data_digest = false;
  }
  auto decoded = decode_pdu(stream_.subspan(offset_), options);
  if (!decoded) {
    PduError error = decoded.error();
    error.offset += offset_;
    return Unexpected{std::move(error)};
  }
  StreamPdu out{std::move(decoded->pdu), offset_, decoded->length, full_feature};
  offset_ += decoded->length;
  return std::optional<StreamPdu>(std::move(out));
}

}  // namespace isergw::iscsi
