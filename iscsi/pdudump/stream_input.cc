#include "iscsi/pdudump/stream_input.h"

#include <array>
#include <string_view>

namespace isergw::iscsi::pdudump {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_header_line(std::string_view line) {
  return line.starts_with("=") || line.starts_with("Follow:") || line.starts_with("Filter:") ||
         line.starts_with("Node ");
}

}  // namespace

bool looks_like_tshark_follow(std::span<const std::uint8_t> bytes) {
  // tshark starts its report with an empty line, then the banner.
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const std::size_t start = text.find_first_not_of("\r\n");
  return start != std::string_view::npos && text.substr(start).starts_with("=====");
}

Expected<std::vector<std::uint8_t>, InputError> parse_hex_stream(std::span<const std::uint8_t> text,
                                                                 std::optional<int> node) {
  const std::string_view all(reinterpret_cast<const char*>(text.data()), text.size());
  std::array<std::vector<std::uint8_t>, 2> streams;
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < all.size()) {
    std::size_t end = all.find('\n', start);
    if (end == std::string_view::npos) end = all.size();
    std::string_view line = all.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || is_header_line(line)) continue;
    const int which = line.front() == '\t' ? 1 : 0;
    if (which == 1) line.remove_prefix(1);
    if (line.size() % 2 != 0) {
      return Unexpected{InputError{
          line_number, "odd number of hex digits (" + std::to_string(line.size()) + ")"}};
    }
    for (std::size_t i = 0; i < line.size(); i += 2) {
      const int high = hex_value(line[i]);
      const int low = hex_value(line[i + 1]);
      if (high < 0 || low < 0) {
        return Unexpected{InputError{
            line_number,
            "not a hex digit at column " + std::to_string(i + (high < 0 ? 1 : 2) + which)}};
      }
      streams[which].push_back(static_cast<std::uint8_t>(high << 4 | low));
    }
  }
  if (node) {
    if (*node != 0 && *node != 1) return Unexpected{InputError{0, "--node must be 0 or 1"}};
    return std::move(streams[*node]);
  }
  if (!streams[0].empty() && !streams[1].empty()) {
    return Unexpected{InputError{0,
                                 "the text holds both directions of the connection; choose "
                                 "one with --node 0 (initiator, flush left) or --node 1 "
                                 "(target, indented)"}};
  }
  return std::move(streams[streams[0].empty() ? 1 : 0]);
}

}  // namespace isergw::iscsi::pdudump
