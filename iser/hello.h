// The iSER Hello and HelloReply messages (RFC 7145 §9): an optional exchange
// right after the connection is established, in which the initiator states
// its iSER version range and the RDMA Read depth it can answer (iSER-IRD),
// and the target answers with its version, the Read depth it will use
// (iSER-ORD), or a reject. Linux, tgt and LIO never send one, so a gateway
// answers a Hello if it comes and never requires it.
//
// Both use the 28-byte iSER header with only the first four bytes defined:
//
//   byte 0     opcode 0x2 (Hello) or 0x3 (HelloReply); HelloReply's bit 0x01
//              is the reject flag
//   byte 1     MaxVer in the high nibble; MinVer (Hello) or CurVer
//              (HelloReply) in the low one
//   bytes 2-3  iSER-IRD (Hello) or iSER-ORD (HelloReply), big-endian
//   bytes 4-27 reserved
#pragma once

#include <cstdint>
#include <span>

#include "common/expected.h"
#include "iser/iser_error.h"

namespace isergw::iser {

// The only version RFC 7145 defines; Wireshark accepts no other.
inline constexpr std::uint8_t kIserVersion = 10;

inline constexpr std::uint8_t kHelloReplyRejectFlag = 0x01;

struct Hello {
  std::uint8_t max_version = kIserVersion;
  std::uint8_t min_version = kIserVersion;
  std::uint16_t ird = 0;

  friend bool operator==(const Hello&, const Hello&) = default;
};

struct HelloReply {
  bool reject = false;
  std::uint8_t max_version = kIserVersion;
  std::uint8_t current_version = kIserVersion;
  std::uint16_t ord = 0;

  friend bool operator==(const HelloReply&, const HelloReply&) = default;
};

// Both decoders need the whole 28-byte header and ignore its reserved bytes.
Expected<Hello, IserError> decode_hello(std::span<const std::uint8_t> message);
Expected<HelloReply, IserError> decode_hello_reply(std::span<const std::uint8_t> message);

// Both write all 28 bytes, reserved ones as zero.
Expected<void, IserError> encode_hello(const Hello& hello, std::span<std::uint8_t> out);
Expected<void, IserError> encode_hello_reply(const HelloReply& reply, std::span<std::uint8_t> out);

// The target's answer to a Hello: our version if the initiator's range holds
// it, else a reject that names our version as MaxVer. The ORD is the smaller
// of the initiator's IRD and what our device can issue.
HelloReply answer_hello(const Hello& hello, std::uint16_t device_max_ord);

}  // namespace isergw::iser
