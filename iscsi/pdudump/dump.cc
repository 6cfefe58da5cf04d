#include "iscsi/pdudump/dump.h"

#include <vector>

#include "iscsi/pdu_stream.h"
#include "iscsi/pdudump/pdu_json.h"
#include "iscsi/pdudump/stream_input.h"

namespace isergw::iscsi::pdudump {

int dump_stream(std::span<const std::uint8_t> input, const DumpOptions& options, std::ostream& out,
                std::ostream& err) {
  std::vector<std::uint8_t> decoded_hex;
  std::span<const std::uint8_t> stream = input;
  const bool hex = options.format == InputFormat::kHex ||
                   (options.format == InputFormat::kAuto && looks_like_tshark_follow(input));
  if (hex) {
    auto parsed = parse_hex_stream(input, options.node);
    if (!parsed) {
      err << "pdudump: hex input line " << parsed.error().line << ": " << parsed.error().message
          << "\n";
      return 2;
    }
    decoded_hex = std::move(*parsed);
    stream = decoded_hex;
  }
  DecodeOptions decode_options{.header_digest = options.header_digest,
                               .data_digest = options.data_digest,
                               // A capture's negotiated limit is unknown:
                               // accept what the 24-bit field allows.
                               .max_recv_data_segment_length = kMaxDataSegmentLength};
  PduStreamReader reader(stream, decode_options);
  PduJsonWriter writer(options.header_digest || options.data_digest);
  while (true) {
    auto next = reader.next();
    if (!next) {
      err << "pdudump: malformed PDU at stream byte " << reader.offset() << ": "
          << next.error().describe() << " [" << pdu_errc_name(next.error().code) << "]\n";
      return 1;
    }
    if (!next->has_value()) break;
    // Key values come from the wire: replace invalid UTF-8 instead of
    // letting the JSON library throw.
    out << writer.to_json(**next).dump(-1, ' ', false,
                                       nlohmann::ordered_json::error_handler_t::replace)
        << "\n";
  }
  return writer.saw_key_errors() ? 1 : 0;
}

}  // namespace isergw::iscsi::pdudump
