#include "iscsi/pdu_stream.h"

namespace isergw::iscsi {
namespace {

bool ends_login(const Pdu& pdu) {
  if (const auto* request = std::get_if<LoginRequest>(&pdu)) {
    return request->transit && request->nsg == LoginStage::kFullFeaturePhase;
  }
  if (const auto* response = std::get_if<LoginResponse>(&pdu)) {
    return response->transit && response->nsg == LoginStage::kFullFeaturePhase &&
           response->status_class == LoginStatusClass::kSuccess;
  }
  return false;
}

bool is_login_opcode(std::uint8_t byte0) {
  const std::uint8_t opcode = byte0 & kOpcodeMask;
  return opcode == static_cast<std::uint8_t>(Opcode::kLoginRequest) ||
         opcode == static_cast<std::uint8_t>(Opcode::kLoginResponse);
}

}  // namespace

PduStreamReader::PduStreamReader(std::span<const std::uint8_t> stream, const DecodeOptions& options)
    : stream_(stream), full_feature_options_(options) {
  login_done_ = stream.empty() || !is_login_opcode(stream[0]);
}

Expected<std::optional<StreamPdu>, PduError> PduStreamReader::next() {
  if (offset_ == stream_.size()) return std::optional<StreamPdu>();
  DecodeOptions options = full_feature_options_;
  if (!login_done_) {
    // Digests are negotiated during login and used only after it (§13.1).
    options.header_digest = false;
    options.data_digest = false;
  }
  auto decoded = decode_pdu(stream_.subspan(offset_), options);
  if (!decoded) {
    PduError error = decoded.error();
    error.offset += offset_;
    return Unexpected{std::move(error)};
  }
  StreamPdu out{std::move(decoded->pdu), offset_, decoded->length, login_done_};
  offset_ += decoded->length;
  if (!login_done_ && ends_login(out.pdu)) login_done_ = true;
  return std::optional<StreamPdu>(std::move(out));
}

}  // namespace isergw::iscsi
