// The login and text keys of RFC 7143 §13 (with §12 for AuthMethod), the
// iSER keys of RFC 7145 §6 and RFC 7144's iSCSIProtocolLevel: how each is
// negotiated, its range and default, and who may send it when.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace isergw::iscsi {

// RFC 7143 §6.2: how the answer to a key is computed.
enum class KeyType {
  kList,          // first value of the proposer's list the acceptor supports
  kNumericalMin,  // the smaller of the two values
  kNumericalMax,  // the larger of the two values
  kBooleanAnd,    // Yes only if both say Yes
  kBooleanOr,     // Yes if either says Yes
  kDeclarative,   // no answer: each side states its own value
};

// RFC 7143 §13: "Scope: SW" (session-wide) or "CO" (connection only).
enum class KeyScope { kSession, kConnection };

// RFC 7143 §13 "Use": where a key may appear.
enum class KeyUse {
  kLeadingOnly,      // LO: login of the leading connection only
  kInitialize,       // IO: any login, never in full feature phase
  kAll,              // ALL: logins and full-feature Text negotiation
  kFullFeatureOnly,  // FFPO: full-feature Text negotiation only (SendTargets)
  kSecurity,         // security-stage keys (AuthMethod; CHAP keys are in chap.h)
};

enum class KeySenders { kInitiator, kTarget, kBoth };

struct KeyDefinition {
  std::string_view name;
  KeyType type;
  KeyScope scope;
  KeyUse use;
  KeySenders senders;
  // RFC 7143 §13: "Any-Stage" keys may be sent in the security stage too.
  bool any_stage;
  // Numerical range (numerical and numeric declarative keys).
  std::uint64_t min;
  std::uint64_t max;
  std::string_view default_value;
  // Comma-separated legal values for list keys and enumerated declaratives;
  // empty when any value of the right form is legal.
  std::string_view legal_values;
  // Irrelevant in a Discovery session (RFC 7143 §13, "Irrelevant when").
  bool irrelevant_for_discovery;
  // RFC 7145 §6.4 - §6.7: meaningful only with RDMAExtensions=Yes.
  bool iser_only;
  // Obsolete marker intervals (RFC 3720 Appendix A, removed by RFC 7143
  // §13): markers are never used, so the only answer is Irrelevant.
  bool always_irrelevant = false;
  // MaxOutstandingUnexpectedPDUs: 0 means no limit, so the minimum of the
  // two values ignores a 0 (RFC 7145 §6.7).
  bool zero_is_unlimited = false;
};

// The definition of a standard key, or nullopt for an unknown or X- key.
const KeyDefinition* find_key_definition(std::string_view name);

// Every key this implementation understands, in RFC order.
std::span<const KeyDefinition> key_definitions();

// RFC 7143 §13's extension key format: private "X-" and registered "X#" keys, which an
// acceptor that does not know them answers with NotUnderstood.
inline bool is_extension_key(std::string_view name) {
  return name.size() > 2 && name[0] == 'X' && (name[1] == '-' || name[1] == '#');
}

// RFC 7143 §12.1: CHAP_A, CHAP_I, CHAP_C, CHAP_N, CHAP_R.
inline bool is_chap_key(std::string_view name) {
  return name.starts_with("CHAP_");
}

// Reserved values of RFC 7143 §6.2.
inline constexpr std::string_view kReject = "Reject";
inline constexpr std::string_view kIrrelevant = "Irrelevant";
inline constexpr std::string_view kNotUnderstood = "NotUnderstood";

// RFC 7143 §6.1 numerical-value: decimal-constant or hex-constant ("0x..."),
// at most 64 bits.
std::optional<std::uint64_t> parse_numerical(std::string_view text);

// RFC 7143 §6.1 boolean-value.
std::optional<bool> parse_boolean(std::string_view text);
inline std::string_view boolean_text(bool value) {
  return value ? "Yes" : "No";
}

}  // namespace isergw::iscsi
