// Sense data comes from storage over the wire and the relay parses it for
// logs and metrics: any bytes must parse or fail cleanly, and what parses
// must survive a rebuild in either format.
#include <cstddef>
#include <cstdint>
#include <span>

#include "iscsi/sense.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  const auto segment = isergw::iscsi::unframe_sense_segment(input);
  if (segment) {
    check(segment->size() + (input.empty() ? 0 : 2) <= input.size());
  }
  const auto sense = isergw::iscsi::parse_sense(segment ? *segment : input);
  if (!sense) return 0;
  (void)isergw::iscsi::describe(sense->additional);
  (void)isergw::iscsi::to_string(sense->key);
  const auto descriptor = isergw::iscsi::build_descriptor_sense(*sense);
  const auto again = isergw::iscsi::parse_sense(descriptor.bytes());
  check(again.has_value());
  check(again->key == sense->key && again->additional == sense->additional);
  check(again->information == sense->information);
  const auto fixed = isergw::iscsi::build_fixed_sense(*sense);
  const auto fixed_again = isergw::iscsi::parse_sense(fixed.bytes());
  check(fixed_again.has_value());
  check(fixed_again->key == sense->key && fixed_again->additional == sense->additional);
  return 0;
}
