// READ(10) and WRITE(10) CDBs as the test peers send them (SBC-4 5.15 and
// 5.40): LBA and transfer length big-endian, every flag clear. Tests that
// need flags or other opcodes change the returned bytes themselves.
#pragma once

#include <array>
#include <cstdint>

namespace isergw::testing_support {

inline std::array<uint8_t, 10> rw10_cdb(uint8_t opcode, uint32_t lba, uint16_t blocks) {
  return {opcode,
          0,
          static_cast<uint8_t>(lba >> 24),
          static_cast<uint8_t>(lba >> 16),
          static_cast<uint8_t>(lba >> 8),
          static_cast<uint8_t>(lba),
          0,
          static_cast<uint8_t>(blocks >> 8),
          static_cast<uint8_t>(blocks),
          0};
}

inline constexpr uint8_t kRead10 = 0x28;
inline constexpr uint8_t kWrite10 = 0x2a;

inline std::array<uint8_t, 10> read10(uint32_t lba, uint16_t blocks) {
  return rw10_cdb(kRead10, lba, blocks);
}

inline std::array<uint8_t, 10> write10(uint32_t lba, uint16_t blocks) {
  return rw10_cdb(kWrite10, lba, blocks);
}

}  // namespace isergw::testing_support
