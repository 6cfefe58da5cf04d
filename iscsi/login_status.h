// Login Response Status-Class and Status-Detail (RFC 7143 §11.13.5), with
// what each means to the initiator that receives it.
#pragma once

#include <cstdint>
#include <string_view>

#include "iscsi/login_pdu.h"

namespace isergw::iscsi {

// Status-Class in the high byte, Status-Detail in the low byte.
enum class LoginStatus : std::uint16_t {
  kSuccess = 0x0000,
  kTargetMovedTemporarily = 0x0101,
  kTargetMovedPermanently = 0x0102,
  kInitiatorError = 0x0200,
  kAuthenticationFailure = 0x0201,
  kAuthorizationFailure = 0x0202,
  kNotFound = 0x0203,
  kTargetRemoved = 0x0204,
  kUnsupportedVersion = 0x0205,
  kTooManyConnections = 0x0206,
  kMissingParameter = 0x0207,
  kCannotIncludeInSession = 0x0208,
  kSessionTypeNotSupported = 0x0209,
  kSessionDoesNotExist = 0x020a,
  kInvalidDuringLogin = 0x020b,
  kTargetError = 0x0300,
  kServiceUnavailable = 0x0301,
  kOutOfResources = 0x0302,
};

inline LoginStatusClass status_class(LoginStatus status) {
  return static_cast<LoginStatusClass>(static_cast<std::uint16_t>(status) >> 8);
}
inline std::uint8_t status_detail(LoginStatus status) {
  return static_cast<std::uint8_t>(static_cast<std::uint16_t>(status) & 0xff);
}
inline LoginStatus login_status(LoginStatusClass cls, std::uint8_t detail) {
  return static_cast<LoginStatus>(static_cast<std::uint16_t>(static_cast<std::uint8_t>(cls)) << 8 |
                                  detail);
}

// What an initiator should do on receiving a status (RFC 7143 §11.13.5).
enum class LoginStatusAction {
  kProceed,     // success
  kRedirect,    // log in again at the TargetAddress the response names
  kRetryLater,  // a target-side condition that may clear
  kDoNotRetry,  // an initiator error: the same login fails again
};

struct LoginStatusMeaning {
  std::string_view text;
  LoginStatusAction action;
};

// Known codes by name; an unknown detail is interpreted by its class.
LoginStatusMeaning describe(LoginStatusClass cls, std::uint8_t detail);

}  // namespace isergw::iscsi
