// iSCSI names (RFC 7143 §4.2.7): the iqn., eui. and naa. forms that name
// initiators and targets, checked before the gateway puts one on the wire.
#pragma once

#include <string>
#include <string_view>

#include "common/expected.h"

namespace isergw::iscsi {

// RFC 7143 §4.2.7.1: at most 223 bytes.
inline constexpr size_t kMaxIscsiNameLength = 223;

// Accepts a name in one of the three formats, already in the normalised
// (lower-case) form the RFC requires on the wire. The error says which rule
// the name breaks.
Expected<void, std::string> validate_iscsi_name(std::string_view name);

// A string a peer sent, fit for a log line or an error message: control
// characters (a newline that would forge a log line), bytes that are not
// UTF-8, and the backslash are written as \xNN; printable UTF-8 stays.
std::string printable(std::string_view text);

}  // namespace isergw::iscsi
