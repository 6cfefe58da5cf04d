// Fuzzes the text key parser, the C-bit accumulator, binary value decoding
// and key negotiation in both roles with whatever keys the input holds.
#include <cstddef>
#include <cstdint>
#include <span>

#include "iscsi/chap.h"
#include "iscsi/negotiation.h"
#include "iscsi/send_targets.h"
#include "iscsi/text_keys.h"

namespace {

using namespace isergw::iscsi;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

void negotiate(const KeyList& keys, std::uint8_t selector) {
  NegotiationPolicy policy;
  policy.rdma_extensions = (selector & 1) != 0;
  policy.header_digests = {"None", "CRC32C"};
  const LoginStage stage = static_cast<LoginStage>(std::min<std::uint8_t>((selector >> 1) & 3, 3));
  if (static_cast<int>(stage) == 2) return;  // reserved stage value
  Negotiator target(Role::kTarget, policy, (selector & 8) == 0);
  if (auto answers = target.receive(keys, stage)) {
    // Every answer is a key the peer sent, and parses back as text.
    for (const auto& [key, value] : *answers)
      check(find_key(keys, key) != nullptr);
    check(parse_text_keys(build_text_keys(*answers)).has_value());
    (void)target.target_declarations();
    if (auto result = target.finish()) {
      check(result->session.first_burst_length <= result->session.max_burst_length ||
            !result->session.immediate_data ||
            result->session.session_type == SessionType::kDiscovery ||
            !result->session.initial_r2t);
    }
  }
  Negotiator initiator(Role::kInitiator, policy);
  (void)initiator.initiator_offer((selector & 16) ? SessionType::kDiscovery : SessionType::kNormal);
  if (auto answers = initiator.receive(keys, LoginStage::kLoginOperationalNegotiation)) {
    (void)initiator.finish();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t selector = data[0];
  const std::size_t split = data[1];
  const std::span<const std::uint8_t> text(data + 2, size - 2);

  const TextParseOptions options{.allow_repeated_send_targets_keys = (selector & 32) != 0};
  auto keys = parse_text_keys(text, options);
  if (keys) {
    // What parses re-encodes to text that parses to the same list.
    auto again = parse_text_keys(build_text_keys(*keys), options);
    check(again.has_value() && *again == *keys);
    for (const auto& [key, value] : *keys) {
      check(!check_key_name(key).has_value());
      if (auto binary = decode_binary_value(value)) {
        check(*decode_binary_value(encode_hex(*binary)) == *binary);
        check(*decode_binary_value(encode_base64(*binary)) == *binary);
      }
    }
    negotiate(*keys, selector);
    // A SendTargets answer that reads back re-encodes to the same targets.
    if (auto targets = parse_send_targets_response(*keys)) {
      KeyList rebuilt;
      for (const auto& target : *targets) {
        auto one = send_targets_response(target.name, SessionType::kDiscovery, "", *targets);
        rebuilt.insert(rebuilt.end(), one.begin(), one.end());
      }
      auto again_targets = parse_send_targets_response(rebuilt);
      check(again_targets.has_value());
    } else {
      check(!parse_send_targets_response(*keys).error().message().empty());
    }
  } else {
    check(!keys.error().message().empty());
    check(keys.error().offset <= text.size());
  }

  // The same text cut in two C-bit pieces parses the same way.
  TextKeyAccumulator accumulator(options);
  const std::size_t cut = std::min(split, text.size());
  auto first = accumulator.add(text.first(cut), true);
  check(first.has_value() && !first->has_value());
  auto whole = accumulator.add(text.subspan(cut), false);
  check(whole.has_value() == keys.has_value());
  if (whole) check(**whole == *keys);

  for (const auto& segment : split_text(text, 1 + split))
    check(segment.data.size() <= 1 + split);
  return 0;
}
