// The private data of the RDMA CM connect request and reply on an iSER
// connection (RFC 7145 §9; InfiniBand Annex A12): four bytes whose first
// byte carries two flags, the rest reserved.
//
//   0x80  Z: the initiator does not support zero-based virtual addresses, so
//         every Base Offset in an iSER header is an absolute address. Linux
//         ib_iser always sets it; isergw never uses ZBVA.
//   0x40  I: the initiator does not support Send with Invalidate, so the
//         target must not answer with one. Linux ib_iser sets it when it does
//         not register per command (always_register=N, or no fast-reg).
//
// In the reply (REP or MPA reply) Linux ib_isert echoes the same two bits to
// say it will not use ZBVA or Send with Invalidate.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/expected.h"
#include "iser/iser_error.h"

namespace isergw::iser {

inline constexpr std::size_t kCmPrivateDataLength = 4;

namespace cm_flag {
inline constexpr std::uint8_t kZbvaNotSupported = 0x80;
inline constexpr std::uint8_t kSendWithInvalidateNotSupported = 0x40;
}  // namespace cm_flag

struct CmPrivateData {
  // False when the peer sent no private data at all (old initiators); the
  // flags then hold the conservative reading: no ZBVA, no Send with
  // Invalidate.
  bool present = true;
  bool zbva_not_supported = true;
  bool send_with_invalidate_not_supported = false;

  friend bool operator==(const CmPrivateData&, const CmPrivateData&) = default;
};

// Decodes what the CM event delivered. InfiniBand pads private data to a
// fixed size, so bytes after the fourth are ignored; one to three bytes are
// a truncated header. Reserved bits are ignored.
Expected<CmPrivateData, IserError> decode_cm_private_data(std::span<const std::uint8_t> bytes);

std::array<std::uint8_t, kCmPrivateDataLength> encode_cm_private_data(const CmPrivateData& data);

// Whether a target may end a command with Send with Invalidate toward this
// initiator.
inline bool may_send_with_invalidate(const CmPrivateData& initiator) {
  return initiator.present && !initiator.send_with_invalidate_not_supported;
}

}  // namespace isergw::iser
