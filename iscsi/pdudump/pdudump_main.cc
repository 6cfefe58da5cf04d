// pdudump: prints the iSCSI PDUs of one direction of a TCP stream as JSON
// lines. See dump.h.
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "iscsi/pdudump/dump.h"

namespace {

constexpr char kUsage[] =
    "usage: pdudump [--header-digest] [--data-digest] [--hex|--raw] [--node 0|1] FILE\n"
    "  FILE holds one direction of an iSCSI/TCP stream: raw bytes, or the hex\n"
    "  text of `tshark -q -z follow,tcp,raw,N` (detected by its banner, or\n"
    "  forced with --hex). --node picks the side of a two-sided tshark dump:\n"
    "  0 = first node (flush left), 1 = second node (tab-indented).\n"
    "  --header-digest / --data-digest: CRC32C digests were negotiated; they\n"
    "  are checked on every PDU after the login phase.\n";

}  // namespace

int main(int argc, char** argv) {
  using isergw::iscsi::pdudump::DumpOptions;
  using isergw::iscsi::pdudump::InputFormat;
  DumpOptions options;
  const char* path = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--header-digest") {
      options.header_digest = true;
    } else if (arg == "--data-digest") {
      options.data_digest = true;
    } else if (arg == "--hex") {
      options.format = InputFormat::kHex;
    } else if (arg == "--raw") {
      options.format = InputFormat::kRaw;
    } else if (arg == "--node" && i + 1 < argc &&
               (std::strcmp(argv[i + 1], "0") == 0 || std::strcmp(argv[i + 1], "1") == 0)) {
      options.node = argv[++i][0] - '0';
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (path == nullptr && !arg.starts_with("--")) {
      path = argv[i];
    } else {
      std::cerr << "pdudump: bad argument '" << arg << "'\n" << kUsage;
      return 2;
    }
  }
  if (path == nullptr) {
    std::cerr << kUsage;
    return 2;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "pdudump: cannot open " << path << ": " << std::strerror(errno) << "\n";
    return 2;
  }
  const std::vector<std::uint8_t> input{std::istreambuf_iterator<char>(in),
                                        std::istreambuf_iterator<char>()};
  return isergw::iscsi::pdudump::dump_stream(input, options, std::cout, std::cerr);
}
