// The iSCSI PDU a Send carries behind its iSER header (RFC 7145 §9): the
// BHS, any AHS and the data segment, whose length is exact (a Send is not
// padded to four bytes) and with no digests (§6.1). Both roles receive
// PDUs so, the target from hosts and the initiator from storage.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/expected.h"
#include "iscsi/pdu.h"

namespace isergw::iser {

struct PduInSend {
  // Decoded from the header; its data segment is not attached (a receiver
  // attaches `data`, or a copy of it, with iscsi::set_pdu_data).
  iscsi::Pdu pdu;
  std::span<const std::uint8_t> header;  // BHS and AHS
  std::span<const std::uint8_t> data;    // the data segment
};

// Fails, saying why, for a message shorter than a BHS, a bad header, a data
// segment longer than `max_data_segment_length`, or a Send shorter than the
// header and data segment it declares.
Expected<PduInSend, std::string> decode_pdu_in_send(std::span<const std::uint8_t> bytes,
                                                    std::uint32_t max_data_segment_length);

}  // namespace isergw::iser
