#include "iscsi/iscsi_name.h"

#include <cctype>
#include <cstdint>

namespace isergw::iscsi {

namespace {

// The length of the well-formed UTF-8 sequence of a printable character
// (U+00A0 and above) at the start of `text`, or 0.
size_t utf8_printable(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  size_t length = 0;
  uint32_t point = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    point = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    point = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    point = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
    point = point << 6 | (byte(i) & 0x3f);
  }
  const bool overlong = (length == 3 && point < 0x800) || (length == 4 && point < 0x10000);
  const bool surrogate = point >= 0xd800 && point <= 0xdfff;
  if (overlong || surrogate || point > 0x10ffff || point < 0xa0) return 0;
  return length;
}

}  // namespace

std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const auto byte = static_cast<unsigned char>(text[0]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out.push_back(text[0]);
      text.remove_prefix(1);
    } else if (const size_t length = utf8_printable(text); length > 0) {
      out.append(text.substr(0, length));
      text.remove_prefix(length);
    } else {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
      text.remove_prefix(1);
    }
  }
  return out;
}

namespace {

bool is_hex(std::string_view text) {
  for (const char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

Expected<void, std::string> fail(std::string_view name, const std::string& rule) {
  return Unexpected{"iSCSI name '" + printable(name) + "' " + rule};
}

// iqn.yyyy-mm.reversed.domain[:anything] (RFC 7143 §4.2.7.4).
Expected<void, std::string> validate_iqn(std::string_view name) {
  const std::string_view date = name.substr(4);
  const bool date_ok = date.size() >= 8 && std::isdigit(static_cast<unsigned char>(date[0])) &&
                       std::isdigit(static_cast<unsigned char>(date[1])) &&
                       std::isdigit(static_cast<unsigned char>(date[2])) &&
                       std::isdigit(static_cast<unsigned char>(date[3])) && date[4] == '-' &&
                       std::isdigit(static_cast<unsigned char>(date[5])) &&
                       std::isdigit(static_cast<unsigned char>(date[6])) && date[7] == '.';
  if (!date_ok) return fail(name, "must continue 'iqn.' with a date yyyy-mm and a '.'");
  const int month = (date[5] - '0') * 10 + (date[6] - '0');
  if (month < 1 || month > 12) return fail(name, "has month " + std::to_string(month));
  if (date.size() == 8 || date[8] == ':' || date[8] == '.') {
    return fail(name, "needs a naming authority (a reversed domain name) after the date");
  }
  return {};
}

}  // namespace

Expected<void, std::string> validate_iscsi_name(std::string_view name) {
  if (name.empty()) return Unexpected{std::string("iSCSI name is empty")};
  if (name.size() > kMaxIscsiNameLength) {
    return fail(name, "is " + std::to_string(name.size()) + " bytes; the limit is 223");
  }
  for (const char c : name) {
    // RFC 7143 §4.2.7.1 allows the stringprep output of Unicode names; the
    // ASCII subset is what every initiator and target in practice sends.
    const bool allowed =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':';
    if (!allowed) {
      if (c >= 'A' && c <= 'Z') return fail(name, "has upper-case letters; names are lower case");
      return fail(name, "has the character '" + printable(std::string_view(&c, 1)) +
                            "'; allowed are a-z, 0-9, '-', '.' and ':'");
    }
  }
  if (name.starts_with("iqn.")) return validate_iqn(name);
  if (name.starts_with("eui.")) {
    if (name.size() != 20 || !is_hex(name.substr(4))) {
      return fail(name, "must be 'eui.' and 16 hex digits");
    }
    return {};
  }
  if (name.starts_with("naa.")) {
    const std::string_view digits = name.substr(4);
    if ((digits.size() != 16 && digits.size() != 32) || !is_hex(digits)) {
      return fail(name, "must be 'naa.' and 16 or 32 hex digits");
    }
    return {};
  }
  return fail(name, "must start with 'iqn.', 'eui.' or 'naa.'");
}

}  // namespace isergw::iscsi
