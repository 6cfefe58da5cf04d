// Asynchronous Message PDU (RFC 7143 §11.9).
#pragma once

#include <cstdint>
#include <span>

#include "common/expected.h"
#include "iscsi/bhs.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

// AsyncEvent values (§11.9.1); 6-247 are reserved, 248-254 vendor,
// 255 vendor-specific iSCSI event. Decoded as a raw byte so a relay can pass
// any of them on.
enum class AsyncEvent : std::uint8_t {
  kScsiAsyncEvent = 0,
  kLogoutRequested = 1,
  kConnectionDrop = 2,
  kSessionDrop = 3,
  kNegotiationRequested = 4,
  kTaskTerminationRequested = 5,
  kVendorSpecific = 255,
};

struct AsyncMessage {
  std::uint64_t lun = 0;
  std::uint32_t stat_sn = 0;
  std::uint32_t exp_cmd_sn = 0;
  std::uint32_t max_cmd_sn = 0;
  AsyncEvent async_event = AsyncEvent::kScsiAsyncEvent;
  std::uint8_t async_vcode = 0;
  std::uint16_t parameter1 = 0;
  std::uint16_t parameter2 = 0;
  std::uint16_t parameter3 = 0;
  // Sense data (SCSI event) or iSCSI event data (§11.9.4).
  std::span<const std::uint8_t> data{};
};

Expected<AsyncMessage, PduError> decode_async_message(BhsBytes bhs);
void encode_async_message(const AsyncMessage& pdu, MutableBhsBytes bhs);

}  // namespace isergw::iscsi
