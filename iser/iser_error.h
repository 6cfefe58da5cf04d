// Why an iSER message or CM private data could not be decoded: the field, the
// rule and the byte offset, so that the one log line written when a
// connection is refused tells an admin what the peer sent.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace isergw::iser {

enum class IserErrc {
  kTruncated,           // fewer bytes than the message needs
  kUnknownOpcode,       // an opcode other than the three of RFC 7145 §9
  kUnexpectedOpcode,    // a valid opcode where another one was required
  kInvalidField,        // a field value the RFC forbids
  kUnsupportedVersion,  // a Hello whose version range excludes ours
  kBufferTooSmall,      // encoder: the caller's buffer cannot hold the message
};

struct IserError {
  IserErrc code = IserErrc::kTruncated;
  // Offset of the offending field from the first byte of the message.
  std::size_t offset = 0;
  // RFC 7145's name for the field, e.g. "Write STag".
  std::string field;
  // The rule, naming the value, e.g. "opcode 0x5 is not defined".
  std::string message;

  // "byte 0 (Opcode): opcode 0x5 is not defined".
  std::string describe() const;
};

std::string_view iser_errc_name(IserErrc code);

// Builds an IserError with a printf-style message; only on the error path.
IserError iser_error(IserErrc code, std::size_t offset, std::string_view field, const char* format,
                     ...) __attribute__((format(printf, 4, 5)));

}  // namespace isergw::iser
