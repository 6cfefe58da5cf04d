// Splits one direction of an iSCSI/TCP byte stream (as captured) into PDUs.
// Digests, when negotiated, apply from the first PDU after the login phase
// (RFC 7143 §13.1); Login PDUs occur only in that phase, so the reader reads
// them without digests and every other PDU with them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/expected.h"
#include "iscsi/pdu.h"
#include "iscsi/pdu_decoder.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

struct StreamPdu {
  Pdu pdu;
  std::size_t offset = 0;       // of the PDU's first byte in the stream
  std::size_t length = 0;       // bytes it occupies, digests and padding included
  bool digests_active = false;  // a full feature phase PDU, read with the digests
};

class PduStreamReader {
 public:
  // `options` names the digests negotiated for full feature phase.
  PduStreamReader(std::span<const std::uint8_t> stream, const DecodeOptions& options);

  // The next PDU; nothing at the end of the stream; an error (its offset
  // taken from the start of the stream) when the bytes there are not a PDU.
  // After an error the reader stays where it was.
  Expected<std::optional<StreamPdu>, PduError> next();

  std::size_t offset() const { return offset_; }

 private:
  std::span<const std::uint8_t> stream_;
  DecodeOptions full_feature_options_;
  std::size_t offset_ = 0;
};

}  // namespace isergw::iscsi
