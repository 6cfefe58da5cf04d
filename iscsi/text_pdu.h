// Text Request and Text Response PDUs (RFC 7143 §11.10, §11.11): key=value
// exchanges in Full Feature Phase, e.g. SendTargets discovery.
#pragma once

#include <cstdint>
#include <span>

#include "common/expected.h"
#include "iscsi/bhs.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

struct TextRequest {
  bool immediate = false;
  bool final = true;       // F: the last PDU of this text exchange step
  bool continues = false;  // C: the text continues in the next PDU
  std::uint64_t lun = 0;
  std::uint32_t itt = 0;
  std::uint32_t ttt = kReservedTag;
  std::uint32_t cmd_sn = 0;
  std::uint32_t exp_stat_sn = 0;
  std::span<const std::uint8_t> data{};
};

struct TextResponse {
  bool final = true;
  bool continues = false;
  std::uint64_t lun = 0;
  std::uint32_t itt = 0;
  std::uint32_t ttt = kReservedTag;
  std::uint32_t stat_sn = 0;
  std::uint32_t exp_cmd_sn = 0;
  std::uint32_t max_cmd_sn = 0;
  std::span<const std::uint8_t> data{};
};

Expected<TextRequest, PduError> decode_text_request(BhsBytes bhs);
Expected<TextResponse, PduError> decode_text_response(BhsBytes bhs);
void encode_text_request(const TextRequest& pdu, MutableBhsBytes bhs);
void encode_text_response(const TextResponse& pdu, MutableBhsBytes bhs);

}  // namespace isergw::iscsi
