#include "iscsi/digest.h"

#include <array>

namespace isergw::iscsi {

std::uint32_t data_digest(std::span<const std::uint8_t> data) {
  static constexpr std::array<std::uint8_t, 3> kZeros{};
  Crc32c crc;
  crc.update(data);
  crc.update(std::span(kZeros).first((4 - data.size() % 4) % 4));
  return crc.value();
}

}  // namespace isergw::iscsi
