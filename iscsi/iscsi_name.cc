#include "iscsi/iscsi_name.h"

#include <cctype>

namespace isergw::iscsi {
namespace {

bool is_hex(std::string_view text) {
  for (const char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

Expected<void, std::string> fail(std::string_view name, const std::string& rule) {
  return Unexpected{"iSCSI name '" + std::string(name) + "' " + rule};
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
      return fail(name, std::string("has the character '") + c +
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
