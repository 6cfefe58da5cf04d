// pdudump's work, apart from main(): read a stream, print one JSON line per
// PDU, report the first malformed PDU with its byte offset and rule.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <span>

namespace isergw::iscsi::pdudump {

enum class InputFormat { kAuto, kRaw, kHex };

struct DumpOptions {
  bool header_digest = false;
  bool data_digest = false;
  InputFormat format = InputFormat::kAuto;
  std::optional<int> node;  // which side of a two-sided tshark dump
};

// Exit status: 0 when every PDU decoded (and all key text parsed), 1 on
// malformed input (after printing the PDUs before it), 2 on unusable input.
int dump_stream(std::span<const std::uint8_t> input, const DumpOptions& options, std::ostream& out,
                std::ostream& err);

}  // namespace isergw::iscsi::pdudump
