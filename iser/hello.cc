#include "iser/hello.h"

#include <algorithm>

#include "iscsi/byte_order.h"
#include "iser/iser_header.h"

namespace isergw::iser {
namespace {

constexpr std::size_t kVersionOffset = 1;
constexpr std::size_t kDepthOffset = 2;

Expected<void, IserError> require_opcode(std::span<const std::uint8_t> message, IserOpcode wanted,
                                         const char* what) {
  if (message.size() < kIserHeaderLength) {
    return Unexpected{iser_error(IserErrc::kTruncated, message.size(), what,
                                 "%zu bytes, a %s has %zu", message.size(), what,
                                 kIserHeaderLength)};
  }
  auto opcode = peek_opcode(message);
  if (!opcode) return Unexpected{opcode.error()};
  if (*opcode != wanted) {
    return Unexpected{iser_error(IserErrc::kUnexpectedOpcode, iser_offset::kFlags, "Opcode",
                                 "iSER opcode 0x%x where a %s (0x%x) was due",
                                 static_cast<unsigned>(*opcode), what,
                                 static_cast<unsigned>(wanted))};
  }
  return {};
}

Expected<void, IserError> require_room(std::span<std::uint8_t> out, const char* what) {
  if (out.size() < kIserHeaderLength) {
    return Unexpected{iser_error(IserErrc::kBufferTooSmall, 0, what,
                                 "%zu bytes of room, a %s needs %zu", out.size(), what,
                                 kIserHeaderLength)};
  }
  std::fill(out.begin(), out.begin() + kIserHeaderLength, std::uint8_t{0});
  return {};
}

}  // namespace

Expected<Hello, IserError> decode_hello(std::span<const std::uint8_t> message) {
  if (auto ok = require_opcode(message, IserOpcode::kHello, "Hello"); !ok) {
    return Unexpected{ok.error()};
  }
  Hello hello;
  hello.max_version = message[kVersionOffset] >> 4;
  hello.min_version = message[kVersionOffset] & 0x0f;
  hello.ird = iscsi::load_be16(&message[kDepthOffset]);
  if (hello.min_version > hello.max_version) {
    return Unexpected{iser_error(IserErrc::kInvalidField, kVersionOffset, "MinVer",
                                 "MinVer %u is above MaxVer %u", hello.min_version,
                                 hello.max_version)};
  }
  return hello;
}

Expected<HelloReply, IserError> decode_hello_reply(std::span<const std::uint8_t> message) {
  if (auto ok = require_opcode(message, IserOpcode::kHelloReply, "HelloReply"); !ok) {
    return Unexpected{ok.error()};
  }
  HelloReply reply;
  reply.reject = (message[0] & kHelloReplyRejectFlag) != 0;
  reply.max_version = message[kVersionOffset] >> 4;
  reply.current_version = message[kVersionOffset] & 0x0f;
  reply.ord = iscsi::load_be16(&message[kDepthOffset]);
  // A reject carries the target's MaxVer only; CurVer means nothing then.
  if (!reply.reject && reply.current_version > reply.max_version) {
    return Unexpected{iser_error(IserErrc::kInvalidField, kVersionOffset, "CurVer",
                                 "CurVer %u is above MaxVer %u", reply.current_version,
                                 reply.max_version)};
  }
  return reply;
}

Expected<void, IserError> encode_hello(const Hello& hello, std::span<std::uint8_t> out) {
  if (auto ok = require_room(out, "Hello"); !ok) return ok;
  out[0] = static_cast<std::uint8_t>(IserOpcode::kHello) << 4;
  out[kVersionOffset] =
      static_cast<std::uint8_t>((hello.max_version & 0x0f) << 4 | (hello.min_version & 0x0f));
  iscsi::store_be16(&out[kDepthOffset], hello.ird);
  return {};
}

Expected<void, IserError> encode_hello_reply(const HelloReply& reply, std::span<std::uint8_t> out) {
  if (auto ok = require_room(out, "HelloReply"); !ok) return ok;
  out[0] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(IserOpcode::kHelloReply) << 4 |
                                     (reply.reject ? kHelloReplyRejectFlag : 0));
  out[kVersionOffset] =
      static_cast<std::uint8_t>((reply.max_version & 0x0f) << 4 | (reply.current_version & 0x0f));
  iscsi::store_be16(&out[kDepthOffset], reply.ord);
  return {};
}

HelloReply answer_hello(const Hello& hello, std::uint16_t device_max_ord) {
  HelloReply reply;
  if (hello.min_version > kIserVersion || hello.max_version < kIserVersion) {
    reply.reject = true;
    reply.current_version = 0;
    return reply;
  }
  reply.ord = std::min(hello.ird, device_max_ord);
  return reply;
}

}  // namespace isergw::iser
