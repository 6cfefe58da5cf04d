// Logout Request and Logout Response PDUs (RFC 7143 §11.14, §11.15).
#pragma once

#include <cstdint>

#include "common/expected.h"
#include "iscsi/bhs.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

// Reason codes (§11.14.1); 3-127 are reserved.
enum class LogoutReason : std::uint8_t {
  kCloseSession = 0,
  kCloseConnection = 1,
  kRemoveConnectionForRecovery = 2,
};

// Response codes (§11.15.1); 4-255 are reserved.
enum class LogoutResponseCode : std::uint8_t {
  kClosedSuccessfully = 0,
  kCidNotFound = 1,
  kRecoveryNotSupported = 2,
  kCleanupFailed = 3,
};

struct LogoutRequest {
  bool immediate = false;
  LogoutReason reason = LogoutReason::kCloseSession;
  std::uint32_t itt = 0;
  std::uint16_t cid = 0;  // reserved when closing the session
  std::uint32_t cmd_sn = 0;
  std::uint32_t exp_stat_sn = 0;
};

struct LogoutResponse {
  LogoutResponseCode response = LogoutResponseCode::kClosedSuccessfully;
  std::uint32_t itt = 0;
  std::uint32_t stat_sn = 0;
  std::uint32_t exp_cmd_sn = 0;
  std::uint32_t max_cmd_sn = 0;
  std::uint16_t time2wait = 0;
  std::uint16_t time2retain = 0;
};

Expected<LogoutRequest, PduError> decode_logout_request(BhsBytes bhs);
Expected<LogoutResponse, PduError> decode_logout_response(BhsBytes bhs);
void encode_logout_request(const LogoutRequest& pdu, MutableBhsBytes bhs);
void encode_logout_response(const LogoutResponse& pdu, MutableBhsBytes bhs);

}  // namespace isergw::iscsi
