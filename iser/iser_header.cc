#include "iser/iser_header.h"

#include "iscsi/byte_order.h"

namespace isergw::iser {

using iscsi::load_be32;
using iscsi::load_be64;
using iscsi::store_be32;
using iscsi::store_be64;

Expected<IserOpcode, IserError> peek_opcode(std::span<const std::uint8_t> message) {
  if (message.empty()) {
    return Unexpected{iser_error(IserErrc::kTruncated, 0, "Opcode", "empty iSER message")};
  }
  const unsigned opcode = message[0] >> 4;
  switch (opcode) {
    case 0x1:
    case 0x2:
    case 0x3:
      return static_cast<IserOpcode>(opcode);
    default:
      return Unexpected{iser_error(IserErrc::kUnknownOpcode, iser_offset::kFlags, "Opcode",
                                   "iSER opcode 0x%x is not defined (flags byte 0x%02x)", opcode,
                                   message[0])};
  }
}

Expected<ControlHeader, IserError> decode_control_header(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kIserHeaderLength) {
    return Unexpected{iser_error(IserErrc::kTruncated, bytes.size(), "iSER header",
                                 "%zu bytes, an iSER header has %zu", bytes.size(),
                                 kIserHeaderLength)};
  }
  auto opcode = peek_opcode(bytes);
  if (!opcode) return Unexpected{opcode.error()};
  if (*opcode != IserOpcode::kIscsiControl) {
    return Unexpected{iser_error(IserErrc::kUnexpectedOpcode, iser_offset::kFlags, "Opcode",
                                 "iSER opcode 0x%x where an iSCSI control-type PDU (0x1) was due",
                                 static_cast<unsigned>(*opcode))};
  }
  const std::uint8_t flags = bytes[iser_offset::kFlags];
  ControlHeader header;
  header.write_stag_valid = (flags & iser_flag::kWriteStagValid) != 0;
  header.read_stag_valid = (flags & iser_flag::kReadStagValid) != 0;
  header.write_stag = load_be32(&bytes[iser_offset::kWriteStag]);
  header.write_va = load_be64(&bytes[iser_offset::kWriteVa]);
  header.read_stag = load_be32(&bytes[iser_offset::kReadStag]);
  header.read_va = load_be64(&bytes[iser_offset::kReadVa]);
  return header;
}

Expected<ControlMessage, IserError> decode_control_message(std::span<const std::uint8_t> message) {
  auto header = decode_control_header(message);
  if (!header) return Unexpected{header.error()};
  if (message.size() < kIserControlMinimumLength) {
    return Unexpected{iser_error(IserErrc::kTruncated, message.size(), "BHS",
                                 "%zu bytes, an iSER control-type PDU has %zu at least",
                                 message.size(), kIserControlMinimumLength)};
  }
  return ControlMessage{*header, message.subspan(kIserHeaderLength)};
}

Expected<void, IserError> encode_control_header(const ControlHeader& header,
                                                std::span<std::uint8_t> out) {
  if (out.size() < kIserHeaderLength) {
    return Unexpected{iser_error(IserErrc::kBufferTooSmall, 0, "iSER header",
                                 "%zu bytes of room, the header needs %zu", out.size(),
                                 kIserHeaderLength)};
  }
  std::uint8_t flags = static_cast<std::uint8_t>(IserOpcode::kIscsiControl) << 4;
  if (header.write_stag_valid) flags |= iser_flag::kWriteStagValid;
  if (header.read_stag_valid) flags |= iser_flag::kReadStagValid;
  out[0] = flags;
  out[1] = out[2] = out[3] = 0;
  store_be32(&out[iser_offset::kWriteStag], header.write_stag_valid ? header.write_stag : 0);
  store_be64(&out[iser_offset::kWriteVa], header.write_stag_valid ? header.write_va : 0);
  store_be32(&out[iser_offset::kReadStag], header.read_stag_valid ? header.read_stag : 0);
  store_be64(&out[iser_offset::kReadVa], header.read_stag_valid ? header.read_va : 0);
  return {};
}

Expected<std::uint64_t, IserError> write_source_address(const ControlHeader& header,
                                                        std::uint32_t buffer_offset,
                                                        std::uint32_t unsolicited_bytes) {
  if (!header.write_stag_valid) {
    return Unexpected{iser_error(IserErrc::kInvalidField, iser_offset::kFlags, "WSV",
                                 "an RDMA Read needs a write STag, and WSV is clear")};
  }
  if (buffer_offset < unsolicited_bytes) {
    return Unexpected{iser_error(IserErrc::kInvalidField, iser_offset::kWriteVa,
                                 "Write Base Offset",
                                 "BufferOffset %u lies in the %u bytes already sent unsolicited",
                                 buffer_offset, unsolicited_bytes)};
  }
  return header.write_va + (buffer_offset - unsolicited_bytes);
}

}  // namespace isergw::iser
