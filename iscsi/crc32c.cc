#include "iscsi/crc32c.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <climits>

namespace isergw::iscsi {

void Crc32c::update(std::span<const std::uint8_t> bytes) {
  // crc32_iscsi() takes an int length and a non-const pointer it only reads.
  while (!bytes.empty()) {
    const std::size_t chunk = std::min<std::size_t>(bytes.size(), INT_MAX);
    state_ = crc32_iscsi(const_cast<unsigned char*>(bytes.data()), static_cast<int>(chunk), state_);
    bytes = bytes.subspan(chunk);
  }
}

std::uint32_t crc32c(std::span<const std::uint8_t> bytes) {
  Crc32c crc;
  crc.update(bytes);
  return crc.value();
}

}  // namespace isergw::iscsi
