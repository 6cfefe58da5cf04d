// Fuzzes pdudump's input handling: hex or raw, stream splitting, JSON
// output and key parsing, with options taken from the first byte.
#include <cstdint>
#include <ostream>
#include <streambuf>

#include "iscsi/pdudump/dump.h"

namespace {

// Discards output; the fuzzer only looks for crashes.
class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  using isergw::iscsi::pdudump::DumpOptions;
  using isergw::iscsi::pdudump::InputFormat;
  const std::uint8_t selector = data[0];
  DumpOptions options;
  options.header_digest = (selector & 1) != 0;
  options.data_digest = (selector & 2) != 0;
  options.format = (selector & 4) ? InputFormat::kHex : InputFormat::kAuto;
  if (selector & 8) options.node = (selector >> 4) & 1;
  NullBuffer buffer;
  std::ostream sink(&buffer);
  isergw::iscsi::pdudump::dump_stream({data + 1, size - 1}, options, sink, sink);
  return 0;
}
