// One JSON object per PDU for pdudump: RFC 7143's field names in
// snake_case, tags and LUNs in hex, and for Login and Text PDUs the
// key=value pairs (parsed by iscsi/text_keys.h, across C-bit sequences).
#pragma once

#include <nlohmann/json.hpp>

#include "iscsi/pdu_stream.h"
#include "iscsi/text_keys.h"

namespace isergw::iscsi::pdudump {

class PduJsonWriter {
 public:
  // `digests_negotiated`: the stream is read with HeaderDigest or
  // DataDigest, so PDUs after login say that their digests were checked.
  explicit PduJsonWriter(bool digests_negotiated) : digests_negotiated_(digests_negotiated) {}

  // Malformed key text is reported in the object ("keys_error") rather than
  // failing: the PDU itself decoded.
  nlohmann::ordered_json to_json(const StreamPdu& pdu);

  // Whether some PDU's key text did not parse.
  bool saw_key_errors() const { return saw_key_errors_; }

 private:
  void add_keys(nlohmann::ordered_json& out, std::span<const std::uint8_t> data, bool continues,
                TextKeyAccumulator& accumulator);

  bool digests_negotiated_;
  TextKeyAccumulator login_keys_;
  // SendTargets responses repeat TargetName and TargetAddress (RFC 7143
  // Appendix C).
  TextKeyAccumulator text_keys_{TextParseOptions{.allow_repeated_send_targets_keys = true}};
  bool saw_key_errors_ = false;
};

}  // namespace isergw::iscsi::pdudump
