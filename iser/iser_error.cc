#include "iser/iser_error.h"

#include <cstdarg>
#include <cstdio>

namespace isergw::iser {

std::string_view iser_errc_name(IserErrc code) {
  switch (code) {
    case IserErrc::kTruncated:
      return "truncated";
    case IserErrc::kUnknownOpcode:
      return "unknown opcode";
    case IserErrc::kUnexpectedOpcode:
      return "unexpected opcode";
    case IserErrc::kInvalidField:
      return "invalid field";
    case IserErrc::kUnsupportedVersion:
      return "unsupported version";
    case IserErrc::kBufferTooSmall:
      return "buffer too small";
  }
  return "unknown error";
}

std::string IserError::describe() const {
  std::string text = "byte " + std::to_string(offset);
  if (!field.empty()) text += " (" + field + ")";
  text += ": ";
  text += message.empty() ? std::string(iser_errc_name(code)) : message;
  return text;
}

IserError iser_error(IserErrc code, std::size_t offset, std::string_view field, const char* format,
                     ...) {
  char text[256];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof(text), format, args);
  va_end(args);
  return IserError{code, offset, std::string(field), text};
}

}  // namespace isergw::iser
