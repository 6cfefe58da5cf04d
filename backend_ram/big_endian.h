// CDBs and parameter data are big-endian (SPC-4 §3.5.1).
#pragma once

#include <cstddef>
#include <cstdint>

namespace isergw::backend_ram {

inline uint64_t load_be(const uint8_t* p, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i)
    value = value << 8 | p[i];
  return value;
}
inline uint16_t load_be16(const uint8_t* p) {
  return static_cast<uint16_t>(load_be(p, 2));
}
inline uint32_t load_be32(const uint8_t* p) {
  return static_cast<uint32_t>(load_be(p, 4));
}
inline uint64_t load_be64(const uint8_t* p) {
  return load_be(p, 8);
}

inline void store_be(uint8_t* p, size_t bytes, uint64_t value) {
  for (size_t i = bytes; i-- > 0;) {
    p[i] = static_cast<uint8_t>(value);
    value >>= 8;
  }
}
inline void store_be16(uint8_t* p, uint16_t value) {
  store_be(p, 2, value);
}
inline void store_be32(uint8_t* p, uint32_t value) {
  store_be(p, 4, value);
}
inline void store_be64(uint8_t* p, uint64_t value) {
  store_be(p, 8, value);
}

}  // namespace isergw::backend_ram
