// SCSI status codes and sense data, shared by the whole gateway: the built-in
// back ends build sense data, the relay parses what storage returns (for logs
// and metrics) and frames it into iSCSI SCSI Response data segments.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace isergw::iscsi {

// SAM-5 §5.3.1, Table 33.
enum class ScsiStatus : uint8_t {
  kGood = 0x00,
  kCheckCondition = 0x02,
  kConditionMet = 0x04,
  kBusy = 0x08,
  kReservationConflict = 0x18,
  kTaskSetFull = 0x28,
  kAcaActive = 0x30,
  kTaskAborted = 0x40,
};

// SPC-4 §4.5.6, Table 41.
enum class SenseKey : uint8_t {
  kNoSense = 0x0,
  kRecoveredError = 0x1,
  kNotReady = 0x2,
  kMediumError = 0x3,
  kHardwareError = 0x4,
  kIllegalRequest = 0x5,
  kUnitAttention = 0x6,
  kDataProtect = 0x7,
  kBlankCheck = 0x8,
  kVendorSpecific = 0x9,
  kCopyAborted = 0xA,
  kAbortedCommand = 0xB,
  kVolumeOverflow = 0xD,
  kMiscompare = 0xE,
  kCompleted = 0xF,
};

// An additional sense code and its qualifier (SPC-4 §4.5.6, Table 42).
struct AdditionalSense {
  uint8_t asc = 0;
  uint8_t ascq = 0;
  friend bool operator==(const AdditionalSense&, const AdditionalSense&) = default;
};

inline constexpr AdditionalSense kNoAdditionalSense{0x00, 0x00};
inline constexpr AdditionalSense kWriteError{0x0C, 0x00};
// RFC 7143 §11.4.7.2: iSCSI's own codes under ABORTED COMMAND.
inline constexpr AdditionalSense kUnexpectedUnsolicitedData{0x0C, 0x0C};
inline constexpr AdditionalSense kNotEnoughUnsolicitedData{0x0C, 0x0D};
inline constexpr AdditionalSense kUnrecoveredReadError{0x11, 0x00};
inline constexpr AdditionalSense kParameterListLengthError{0x1A, 0x00};
inline constexpr AdditionalSense kInvalidCommandOperationCode{0x20, 0x00};
inline constexpr AdditionalSense kLbaOutOfRange{0x21, 0x00};
inline constexpr AdditionalSense kInvalidFieldInCdb{0x24, 0x00};
inline constexpr AdditionalSense kLogicalUnitNotSupported{0x25, 0x00};
inline constexpr AdditionalSense kInvalidFieldInParameterList{0x26, 0x00};
inline constexpr AdditionalSense kWriteProtected{0x27, 0x00};
inline constexpr AdditionalSense kPowerOnResetOrBusDeviceReset{0x29, 0x00};
inline constexpr AdditionalSense kMiscompareDuringVerifyOperation{0x1D, 0x00};
inline constexpr AdditionalSense kSavingParametersNotSupported{0x39, 0x00};
inline constexpr AdditionalSense kMediumNotPresent{0x3A, 0x00};
inline constexpr AdditionalSense kInternalTargetFailure{0x44, 0x00};
inline constexpr AdditionalSense kDataPhaseError{0x4B, 0x00};
inline constexpr AdditionalSense kInvalidFieldInInformationUnit{0x0E, 0x03};

// Where in the CDB (or parameter list) the offending field is: the
// sense-key-specific field pointer of SPC-4 §4.5.2.4.2, which iscsi-test-cu
// and sg_decode_sense print so an admin can see which byte was refused.
struct FieldPointer {
  bool in_cdb = true;  // C/D: the CDB, not the parameter list.
  uint16_t byte = 0;
  std::optional<uint8_t> bit;  // BPV and BIT POINTER; 0..7.
  friend bool operator==(const FieldPointer&, const FieldPointer&) = default;
};

// Everything a builder puts into sense data and a parser reads back.
struct Sense {
  SenseKey key = SenseKey::kNoSense;
  AdditionalSense additional;
  bool deferred = false;                // response code 0x71/0x73 (SPC-4 §4.5.5).
  std::optional<uint64_t> information;  // e.g. the first bad LBA.
  std::optional<FieldPointer> field_pointer;
  friend bool operator==(const Sense&, const Sense&) = default;
};

inline constexpr size_t kFixedSenseLength = 18;
// Header, information descriptor (12) and sense-key-specific descriptor (8).
inline constexpr size_t kMaxDescriptorSenseLength = 8 + 12 + 8;

// Sense bytes held inline: built on the data path without allocating.
class SenseBytes {
 public:
  std::span<const uint8_t> bytes() const { return {bytes_.data(), length_}; }
  size_t size() const { return length_; }
  bool empty() const { return length_ == 0; }

 private:
  friend SenseBytes build_fixed_sense(const Sense&);
  friend SenseBytes build_descriptor_sense(const Sense&);
  std::array<uint8_t, kMaxDescriptorSenseLength> bytes_{};
  uint8_t length_ = 0;
};

// Fixed format, response code 0x70/0x71 (SPC-4 §4.5.3): 18 bytes. An
// information value above 32 bits cannot be represented there and is left
// out (VALID = 0), as SPC-4 requires.
SenseBytes build_fixed_sense(const Sense& sense);
// Descriptor format, response code 0x72/0x73 (SPC-4 §4.5.2).
SenseBytes build_descriptor_sense(const Sense& sense);

// Reads either format back. Bytes past the additional sense length are
// ignored; a truncated header or descriptor is an error naming the byte.
Expected<Sense, std::string> parse_sense(std::span<const uint8_t> data);

// RFC 7143 §11.4.7: a SCSI Response data segment is a 2-byte SenseLength,
// the sense data, then optional response data.
inline constexpr size_t kSenseLengthFieldSize = 2;
// Writes SenseLength and the sense bytes into out; returns the bytes used
// (before the PDU's padding to 4 bytes, which the codec adds).
Expected<size_t, std::string> frame_sense_segment(std::span<const uint8_t> sense,
                                                  std::span<uint8_t> out);
// The sense bytes of a SCSI Response data segment; an empty segment has none.
Expected<std::span<const uint8_t>, std::string> unframe_sense_segment(
    std::span<const uint8_t> segment);

std::string_view to_string(ScsiStatus status);
std::string_view to_string(SenseKey key);
// "LBA OUT OF RANGE" for the codes above, "ASC 0xAB ASCQ 0xCD" otherwise.
std::string describe(AdditionalSense additional);

}  // namespace isergw::iscsi
