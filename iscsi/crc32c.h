// CRC32C (Castagnoli), the iSCSI digest function (RFC 7143 §13.1, test
// vectors in RFC 3720 Appendix B.4), computed by ISA-L, which picks the
// PCLMUL/AVX-512 path at run time.
#pragma once

#include <cstdint>
#include <span>

namespace isergw::iscsi {

// An incremental CRC32C, so one digest can cover a header and data scattered
// over several buffers: update() once per piece, in wire order.
class Crc32c {
 public:
  void update(std::span<const std::uint8_t> bytes);
  // The CRC of everything so far; update() may continue after it.
  std::uint32_t value() const { return state_ ^ kInvert; }

 private:
  // ISA-L's crc32_iscsi() neither presets nor inverts: the caller seeds it
  // with all ones and complements the result, as §B.4's vectors require.
  static constexpr std::uint32_t kInvert = 0xffffffff;
  std::uint32_t state_ = kInvert;
};

std::uint32_t crc32c(std::span<const std::uint8_t> bytes);

}  // namespace isergw::iscsi
