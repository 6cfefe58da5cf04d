// pdudump's input: a file holding one direction of an iSCSI/TCP stream,
// either raw bytes or the hex text of `tshark -q -z follow,tcp,raw,N`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"

namespace isergw::iscsi::pdudump {

struct InputError {
  std::size_t line = 0;  // 1-based line of the hex text
  std::string message;
};

// Whether `bytes` look like tshark's follow output (it starts with its
// "=====" banner, after blank lines) rather than raw PDUs.
bool looks_like_tshark_follow(std::span<const std::uint8_t> bytes);

// Decodes tshark follow,tcp,raw text. tshark prints the first node's bytes
// flush left and the second node's indented by a tab; `node` picks one. With
// no node given, the text must hold only one of them. Banner and header
// lines ("Follow:", "Filter:", "Node 0: ...") are skipped; a bare hex dump
// with neither is accepted too.
Expected<std::vector<std::uint8_t>, InputError> parse_hex_stream(std::span<const std::uint8_t> text,
                                                                 std::optional<int> node);

}  // namespace isergw::iscsi::pdudump
