// Header and data digests as they travel (RFC 7143 §11.2.4, §13.1).
#pragma once

#include <cstdint>
#include <span>

#include "iscsi/crc32c.h"

namespace isergw::iscsi {

// A digest goes on the wire least significant byte first: RFC 3720 §B.4
// shows the CRC 0x8a9136aa of 32 zero bytes as "aa 36 91 8a".
inline void store_digest(std::uint8_t* p, std::uint32_t crc) {
  p[0] = static_cast<std::uint8_t>(crc);
  p[1] = static_cast<std::uint8_t>(crc >> 8);
  p[2] = static_cast<std::uint8_t>(crc >> 16);
  p[3] = static_cast<std::uint8_t>(crc >> 24);
}

inline std::uint32_t load_digest(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}

// The DataDigest covers the data segment and its padding (§11.2.4); the
// padding is zero bytes as this gateway sends it (§11.2.3).
std::uint32_t data_digest(std::span<const std::uint8_t> data);

}  // namespace isergw::iscsi
