// 32-bit serial number arithmetic (RFC 1982 with SERIAL_BITS = 32) for
// CmdSN, ExpCmdSN, MaxCmdSN, StatSN, ExpStatSN, DataSN and R2TSN, which
// RFC 7143 §4.2.2.1 says wrap and compare this way.
#pragma once

#include <compare>
#include <cstdint>

namespace isergw::iscsi {

class SerialNumber {
 public:
  constexpr SerialNumber() = default;
  constexpr explicit SerialNumber(std::uint32_t value) : value_(value) {}

  constexpr std::uint32_t value() const { return value_; }

  // RFC 1982 §3.1: addition is defined for n in [0, 2^31 - 1].
  constexpr SerialNumber operator+(std::uint32_t n) const { return SerialNumber(value_ + n); }
  constexpr SerialNumber operator-(std::uint32_t n) const { return SerialNumber(value_ - n); }

  // RFC 1982 §3.2: the order is partial. Two numbers exactly 2^31 apart are
  // neither less, greater nor equal; every comparison of them is false.
  constexpr std::partial_ordering operator<=>(const SerialNumber& other) const {
    if (value_ == other.value_) return std::partial_ordering::equivalent;
    const std::uint32_t forward = other.value_ - value_;  // mod 2^32
    if (forward < kHalf) return std::partial_ordering::less;
    if (forward > kHalf) return std::partial_ordering::greater;
    return std::partial_ordering::unordered;
  }
  constexpr bool operator==(const SerialNumber& other) const = default;

 private:
  static constexpr std::uint32_t kHalf = 0x80000000u;
  std::uint32_t value_ = 0;
};

constexpr bool sn_lt(std::uint32_t a, std::uint32_t b) {
  return SerialNumber(a) < SerialNumber(b);
}
constexpr bool sn_gt(std::uint32_t a, std::uint32_t b) {
  return SerialNumber(a) > SerialNumber(b);
}
constexpr bool sn_le(std::uint32_t a, std::uint32_t b) {
  return SerialNumber(a) <= SerialNumber(b);
}
constexpr bool sn_ge(std::uint32_t a, std::uint32_t b) {
  return SerialNumber(a) >= SerialNumber(b);
}

// Whether a target's (ExpCmdSN, MaxCmdSN) pair is one an initiator may act
// on: RFC 7143 §4.2.2.1 says MaxCmdSN < ExpCmdSN - 1 (serially) must be
// ignored.
constexpr bool is_valid_cmd_sn_window(std::uint32_t exp_cmd_sn, std::uint32_t max_cmd_sn) {
  return !sn_lt(max_cmd_sn, exp_cmd_sn - 1);
}

// Whether the window is closed: MaxCmdSN = ExpCmdSN - 1 admits no command
// but immediate ones (§4.2.2.1).
constexpr bool is_cmd_sn_window_closed(std::uint32_t exp_cmd_sn, std::uint32_t max_cmd_sn) {
  return max_cmd_sn == exp_cmd_sn - 1;
}

// Whether a non-immediate command numbered cmd_sn may be delivered:
// ExpCmdSN <= CmdSN <= MaxCmdSN in serial arithmetic (§4.2.2.1). A closed or
// invalid window admits nothing.
constexpr bool is_cmd_sn_in_window(std::uint32_t cmd_sn, std::uint32_t exp_cmd_sn,
                                   std::uint32_t max_cmd_sn) {
  if (!is_valid_cmd_sn_window(exp_cmd_sn, max_cmd_sn)) return false;
  if (is_cmd_sn_window_closed(exp_cmd_sn, max_cmd_sn)) return false;
  return sn_ge(cmd_sn, exp_cmd_sn) && sn_le(cmd_sn, max_cmd_sn);
}

}  // namespace isergw::iscsi
