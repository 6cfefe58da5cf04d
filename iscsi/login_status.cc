#include "iscsi/login_status.h"

namespace isergw::iscsi {

LoginStatusMeaning describe(LoginStatusClass cls, std::uint8_t detail) {
  using enum LoginStatusAction;
  switch (login_status(cls, detail)) {
    case LoginStatus::kSuccess:
      return {"success", kProceed};
    case LoginStatus::kTargetMovedTemporarily:
      return {"target moved temporarily", kRedirect};
    case LoginStatus::kTargetMovedPermanently:
      return {"target moved permanently", kRedirect};
    case LoginStatus::kInitiatorError:
      return {"initiator error", kDoNotRetry};
    case LoginStatus::kAuthenticationFailure:
      return {"authentication failure", kDoNotRetry};
    case LoginStatus::kAuthorizationFailure:
      return {"authorization failure", kDoNotRetry};
    case LoginStatus::kNotFound:
      return {"target not found", kDoNotRetry};
    case LoginStatus::kTargetRemoved:
      return {"target removed", kDoNotRetry};
    case LoginStatus::kUnsupportedVersion:
      return {"unsupported version", kDoNotRetry};
    case LoginStatus::kTooManyConnections:
      return {"too many connections", kDoNotRetry};
    case LoginStatus::kMissingParameter:
      return {"missing parameter", kDoNotRetry};
    case LoginStatus::kCannotIncludeInSession:
      return {"cannot include in session", kDoNotRetry};
    case LoginStatus::kSessionTypeNotSupported:
      return {"session type not supported", kDoNotRetry};
    case LoginStatus::kSessionDoesNotExist:
      return {"session does not exist", kDoNotRetry};
    case LoginStatus::kInvalidDuringLogin:
      return {"invalid request during login", kDoNotRetry};
    case LoginStatus::kTargetError:
      return {"target error", kRetryLater};
    case LoginStatus::kServiceUnavailable:
      return {"service unavailable", kRetryLater};
    case LoginStatus::kOutOfResources:
      return {"out of resources", kRetryLater};
  }
  switch (cls) {
    case LoginStatusClass::kSuccess:
      return {"success (unknown detail)", kProceed};
    case LoginStatusClass::kRedirection:
      return {"redirection (unknown detail)", kRedirect};
    case LoginStatusClass::kInitiatorError:
      return {"initiator error (unknown detail)", kDoNotRetry};
    case LoginStatusClass::kTargetError:
      return {"target error (unknown detail)", kRetryLater};
  }
  return {"unknown status class", kDoNotRetry};
}

}  // namespace isergw::iscsi
