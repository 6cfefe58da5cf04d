// Every Send an iSER peer makes starts with an iSER header, and every connect
// request carries CM private data: any bytes must decode or fail cleanly, and
// what decodes must survive a re-encode unchanged.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "iser/cm_private_data.h"
#include "iser/hello.h"
#include "iser/iser_header.h"
#include "iser/pdu_in_send.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

using isergw::iser::kIserHeaderLength;

void control(std::span<const uint8_t> input) {
  const auto message = isergw::iser::decode_control_message(input);
  const auto header = isergw::iser::decode_control_header(input);
  check(!message || header);
  if (!header) {
    check(!header.error().describe().empty());
    return;
  }
  if (message) {
    check(message->iscsi_pdu.size() + kIserHeaderLength == input.size());
    if (const auto pdu = isergw::iser::decode_pdu_in_send(message->iscsi_pdu, 8192)) {
      check(pdu->header.size() + pdu->data.size() <= message->iscsi_pdu.size());
    }
  }
  std::array<uint8_t, kIserHeaderLength> out{};
  check(isergw::iser::encode_control_header(*header, out).has_value());
  const auto again = isergw::iser::decode_control_header(out);
  check(again.has_value());
  check(again->write_stag_valid == header->write_stag_valid);
  check(again->read_stag_valid == header->read_stag_valid);
  if (header->write_stag_valid) check(again->write_va == header->write_va);
  if (header->read_stag_valid) check(again->read_stag == header->read_stag);
  (void)isergw::iser::write_source_address(*header, 8192, 4096);
}

void hello(std::span<const uint8_t> input) {
  std::array<uint8_t, kIserHeaderLength> out{};
  if (const auto decoded = isergw::iser::decode_hello(input)) {
    check(isergw::iser::encode_hello(*decoded, out).has_value());
    const auto again = isergw::iser::decode_hello(out);
    check(again.has_value() && *again == *decoded);
    const auto reply = isergw::iser::answer_hello(*decoded, 16);
    check(reply.reject || reply.ord <= 16);
  }
  if (const auto decoded = isergw::iser::decode_hello_reply(input)) {
    check(isergw::iser::encode_hello_reply(*decoded, out).has_value());
    const auto again = isergw::iser::decode_hello_reply(out);
    check(again.has_value() && *again == *decoded);
  }
}

void private_data(std::span<const uint8_t> input) {
  const auto decoded = isergw::iser::decode_cm_private_data(input);
  if (!decoded) {
    check(input.size() > 0 && input.size() < isergw::iser::kCmPrivateDataLength);
    return;
  }
  const auto bytes = isergw::iser::encode_cm_private_data(*decoded);
  const auto again = isergw::iser::decode_cm_private_data(bytes);
  check(again.has_value());
  check(again->zbva_not_supported == decoded->zbva_not_supported);
  check(again->send_with_invalidate_not_supported == decoded->send_with_invalidate_not_supported);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  (void)isergw::iser::peek_opcode(input);
  control(input);
  hello(input);
  private_data(input);
  return 0;
}
