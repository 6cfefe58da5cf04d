#include "iscsi/keys.h"

#include <array>
#include <limits>

namespace isergw::iscsi {
namespace {

constexpr std::uint64_t kMaxDataSegment = (1u << 24) - 1;  // 2^24 - 1, RFC 7143 §13.12
constexpr std::uint64_t kNoRange = 0;

using enum KeyType;
using enum KeyScope;
using enum KeyUse;
using enum KeySenders;

// Columns: name, type, scope, use, senders, any-stage, min, max, default,
// legal values, irrelevant for Discovery, iSER only, always Irrelevant.
constexpr std::array kKeys = {
    // RFC 7143 §13.1
    KeyDefinition{"HeaderDigest", kList, kConnection, kInitialize, kBoth, false, kNoRange, kNoRange,
                  "None", "CRC32C,None", false, false},
    KeyDefinition{"DataDigest", kList, kConnection, kInitialize, kBoth, false, kNoRange, kNoRange,
                  "None", "CRC32C,None", false, false},
    // §13.2
    KeyDefinition{"MaxConnections", kNumericalMin, kSession, kLeadingOnly, kBoth, false, 1, 65535,
                  "1", "", true, false},
    // §13.3: "All", an iSCSI name, or empty.
    KeyDefinition{"SendTargets", kDeclarative, kSession, kFullFeatureOnly, kInitiator, false,
                  kNoRange, kNoRange, "", "", false, false},
    // §13.4 - §13.9
    KeyDefinition{"TargetName", kDeclarative, kSession, kInitialize, kBoth, true, kNoRange,
                  kNoRange, "", "", false, false},
    KeyDefinition{"InitiatorName", kDeclarative, kSession, kInitialize, kInitiator, true, kNoRange,
                  kNoRange, "", "", false, false},
    KeyDefinition{"TargetAlias", kDeclarative, kSession, kAll, kTarget, true, kNoRange, kNoRange,
                  "", "", false, false},
    KeyDefinition{"InitiatorAlias", kDeclarative, kSession, kAll, kInitiator, true, kNoRange,
                  kNoRange, "", "", false, false},
    KeyDefinition{"TargetAddress", kDeclarative, kSession, kAll, kTarget, true, kNoRange, kNoRange,
                  "", "", false, false},
    KeyDefinition{"TargetPortalGroupTag", kDeclarative, kSession, kInitialize, kTarget, true, 0,
                  65535, "", "", false, false},
    // §13.10 - §13.11
    KeyDefinition{"InitialR2T", kBooleanOr, kSession, kLeadingOnly, kBoth, false, kNoRange,
                  kNoRange, "Yes", "", true, false},
    KeyDefinition{"ImmediateData", kBooleanAnd, kSession, kLeadingOnly, kBoth, false, kNoRange,
                  kNoRange, "Yes", "", true, false},
    // §13.12 - §13.14
    KeyDefinition{"MaxRecvDataSegmentLength", kDeclarative, kConnection, kAll, kBoth, false, 512,
                  kMaxDataSegment, "8192", "", false, false},
    KeyDefinition{"MaxBurstLength", kNumericalMin, kSession, kLeadingOnly, kBoth, false, 512,
                  kMaxDataSegment, "262144", "", true, false},
    KeyDefinition{"FirstBurstLength", kNumericalMin, kSession, kLeadingOnly, kBoth, false, 512,
                  kMaxDataSegment, "65536", "", true, false},
    // §13.15 - §13.20
    KeyDefinition{"DefaultTime2Wait", kNumericalMax, kSession, kLeadingOnly, kBoth, false, 0, 3600,
                  "2", "", false, false},
    KeyDefinition{"DefaultTime2Retain", kNumericalMin, kSession, kLeadingOnly, kBoth, false, 0,
                  3600, "20", "", false, false},
    KeyDefinition{"MaxOutstandingR2T", kNumericalMin, kSession, kLeadingOnly, kBoth, false, 1,
                  65535, "1", "", true, false},
    KeyDefinition{"DataPDUInOrder", kBooleanOr, kSession, kLeadingOnly, kBoth, false, kNoRange,
                  kNoRange, "Yes", "", true, false},
    KeyDefinition{"DataSequenceInOrder", kBooleanOr, kSession, kLeadingOnly, kBoth, false, kNoRange,
                  kNoRange, "Yes", "", true, false},
    KeyDefinition{"ErrorRecoveryLevel", kNumericalMin, kSession, kLeadingOnly, kBoth, false, 0, 2,
                  "0", "", false, false},
    // §13.21
    KeyDefinition{"SessionType", kDeclarative, kSession, kLeadingOnly, kInitiator, true, kNoRange,
                  kNoRange, "Normal", "Discovery,Normal", false, false},
    // §12 / §13 AuthMethod, negotiated per connection in the security stage.
    KeyDefinition{"AuthMethod", kList, kConnection, kSecurity, kBoth, false, kNoRange, kNoRange,
                  "None", "KRB5,SPKM1,SPKM2,SRP,CHAP,None", false, false},
    // §13.23
    KeyDefinition{"TaskReporting", kList, kSession, kLeadingOnly, kBoth, false, kNoRange, kNoRange,
                  "RFC3720", "RFC3720,ResponseFence,FastAbort", true, false},
    // RFC 7144 §2.1
    KeyDefinition{"iSCSIProtocolLevel", kNumericalMin, kSession, kLeadingOnly, kBoth, false, 0, 31,
                  "1", "", true, false},
    // RFC 3720's markers, removed by RFC 7143 but still sent (as No) by the
    // Linux open-iscsi initiator; answering No keeps markers off.
    KeyDefinition{"OFMarker", kBooleanAnd, kConnection, kInitialize, kBoth, false, kNoRange,
                  kNoRange, "No", "", false, false},
    KeyDefinition{"IFMarker", kBooleanAnd, kConnection, kInitialize, kBoth, false, kNoRange,
                  kNoRange, "No", "", false, false},
    KeyDefinition{"OFMarkInt", kDeclarative, kConnection, kInitialize, kBoth, false, kNoRange,
                  kNoRange, "", "", false, false, true},
    KeyDefinition{"IFMarkInt", kDeclarative, kConnection, kInitialize, kBoth, false, kNoRange,
                  kNoRange, "", "", false, false, true},
    // RFC 7145 §6.3 - §6.5. The two data segment keys are sent by both sides and
    // settle on the minimum: the Linux initiator offers both and takes the
    // smaller answer, and tgt and LIO answer them the same way.
    KeyDefinition{"RDMAExtensions", kBooleanAnd, kSession, kLeadingOnly, kBoth, false, kNoRange,
                  kNoRange, "No", "", true, false},
    KeyDefinition{"TargetRecvDataSegmentLength", kNumericalMin, kConnection, kInitialize, kBoth,
                  false, 512, kMaxDataSegment, "8192", "", false, true},
    KeyDefinition{"InitiatorRecvDataSegmentLength", kNumericalMin, kConnection, kInitialize, kBoth,
                  false, 512, kMaxDataSegment, "8192", "", false, true},
    // 0 means no limit; otherwise at least 2 (RFC 7145 §6.7).
    KeyDefinition{"MaxOutstandingUnexpectedPDUs", kNumericalMin, kSession, kLeadingOnly, kBoth,
                  false, 0, std::numeric_limits<std::uint32_t>::max(), "0", "", true, true, false,
                  true},
};

}  // namespace

const KeyDefinition* find_key_definition(std::string_view name) {
  for (const auto& definition : kKeys) {
    if (definition.name == name) return &definition;
  }
  return nullptr;
}

std::span<const KeyDefinition> key_definitions() {
  return kKeys;
}

std::optional<std::uint64_t> parse_numerical(std::string_view text) {
  if (text.empty()) return std::nullopt;
  unsigned base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  std::uint64_t value = 0;
  for (char c : text) {
    unsigned digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / base) return std::nullopt;
    value = value * base + digit;
  }
  return value;
}

std::optional<bool> parse_boolean(std::string_view text) {
  if (text == "Yes") return true;
  if (text == "No") return false;
  return std::nullopt;
}

}  // namespace isergw::iscsi
