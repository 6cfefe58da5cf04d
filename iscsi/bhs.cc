#include "iscsi/bhs.h"

#include "iscsi/byte_order.h"

namespace isergw::iscsi {

Expected<void, PduError> require_final_bit(BhsBytes bhs, Opcode opcode) {
  if ((bhs[bhs_offset::kFlags] & kFinalBit) == 0) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "F",
                                "F bit must be 1 in a %s PDU",
                                std::string(opcode_name(opcode)).c_str())};
  }
  return {};
}

Expected<void, PduError> require_no_data_segment(BhsBytes bhs, Opcode opcode) {
  const std::uint32_t length = load_be24(bhs.data() + bhs_offset::kDataSegmentLength);
  if (length != 0) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kDataSegmentLength,
                                "DataSegmentLength",
                                "DataSegmentLength %u but a %s PDU carries no data segment", length,
                                std::string(opcode_name(opcode)).c_str())};
  }
  return {};
}

Expected<void, PduError> require_reserved_itt(BhsBytes bhs, Opcode opcode) {
  const std::uint32_t itt = load_be32(bhs.data() + bhs_offset::kItt);
  if (itt != kReservedTag) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kItt, "Initiator Task Tag",
                                "Initiator Task Tag 0x%08x must be 0xffffffff in a %s PDU", itt,
                                std::string(opcode_name(opcode)).c_str())};
  }
  return {};
}

}  // namespace isergw::iscsi
