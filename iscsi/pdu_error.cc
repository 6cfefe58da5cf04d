#include "iscsi/pdu_error.h"

#include <cstdarg>
#include <cstdio>

namespace isergw::iscsi {

std::string PduError::describe() const {
  std::string out = "byte " + std::to_string(offset) + " (" + field + "): " + message;
  return out;
}

std::string_view pdu_errc_name(PduErrc code) {
  switch (code) {
    case PduErrc::kTruncated:
      return "truncated";
    case PduErrc::kReservedOpcode:
      return "reserved opcode";
    case PduErrc::kInvalidField:
      return "invalid field";
    case PduErrc::kLengthLimit:
      return "length limit";
    case PduErrc::kInvalidAhs:
      return "invalid AHS";
    case PduErrc::kHeaderDigest:
      return "header digest";
    case PduErrc::kDataDigest:
      return "data digest";
    case PduErrc::kBufferTooSmall:
      return "buffer too small";
  }
  return "unknown";
}

PduError pdu_error(PduErrc code, std::size_t offset, std::string_view field, const char* format,
                   ...) {
  char buffer[256];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  return PduError{code, offset, std::string(field), buffer};
}

}  // namespace isergw::iscsi
