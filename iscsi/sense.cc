#include "iscsi/sense.h"

#include <algorithm>
#include <cstdio>

namespace isergw::iscsi {
namespace {

constexpr uint8_t kFixedCurrent = 0x70;
constexpr uint8_t kFixedDeferred = 0x71;
constexpr uint8_t kDescriptorCurrent = 0x72;
constexpr uint8_t kDescriptorDeferred = 0x73;
constexpr uint8_t kValid = 0x80;
constexpr uint8_t kSksv = 0x80;
constexpr uint8_t kCommandData = 0x40;
constexpr uint8_t kBitPointerValid = 0x08;

// SPC-4 §4.5.2.2 and §4.5.2.4: descriptor types.
constexpr uint8_t kInformationDescriptor = 0x00;
constexpr uint8_t kSenseKeySpecificDescriptor = 0x02;

// SPC-4 §4.5.2.4.2: the three sense-key-specific bytes of a field pointer.
void put_field_pointer(const FieldPointer& pointer, uint8_t* out) {
  out[0] = kSksv;
  if (pointer.in_cdb) out[0] |= kCommandData;
  if (pointer.bit) out[0] |= kBitPointerValid | (*pointer.bit & 0x07);
  out[1] = static_cast<uint8_t>(pointer.byte >> 8);
  out[2] = static_cast<uint8_t>(pointer.byte);
}

// Only ILLEGAL REQUEST gives the three bytes the field-pointer meaning.
std::optional<FieldPointer> get_field_pointer(SenseKey key, const uint8_t* in) {
  if (key != SenseKey::kIllegalRequest || (in[0] & kSksv) == 0) return std::nullopt;
  FieldPointer pointer;
  pointer.in_cdb = (in[0] & kCommandData) != 0;
  pointer.byte = static_cast<uint16_t>(in[1] << 8 | in[2]);
  if (in[0] & kBitPointerValid) pointer.bit = in[0] & 0x07;
  return pointer;
}

std::string hex_byte(uint8_t value) {
  char text[5];
  std::snprintf(text, sizeof text, "0x%02x", value);
  return text;
}

std::string byte_error(std::string_view format, size_t size, size_t byte) {
  return std::string(format) + " sense data of " + std::to_string(size) +
         " bytes ends before byte " + std::to_string(byte);
}

Expected<Sense, std::string> parse_fixed(std::span<const uint8_t> data) {
  // Bytes 0..7 are the header; ASC and ASCQ are bytes 12 and 13.
  if (data.size() < 14) return Unexpected{byte_error("fixed-format", data.size(), 13)};
  const size_t length = std::min(data.size(), size_t{8} + data[7]);
  if (length < 14) {
    return Unexpected{"fixed-format sense data has additional sense length " +
                      std::to_string(data[7]) + ", too short for the ASC and ASCQ (needs 6)"};
  }
  Sense sense;
  sense.deferred = (data[0] & 0x7F) == kFixedDeferred;
  sense.key = static_cast<SenseKey>(data[2] & 0x0F);
  sense.additional = {data[12], data[13]};
  if (data[0] & kValid) {
    sense.information = uint64_t{data[3]} << 24 | uint64_t{data[4]} << 16 | uint64_t{data[5]} << 8 |
                        uint64_t{data[6]};
  }
  if (length >= kFixedSenseLength) sense.field_pointer = get_field_pointer(sense.key, &data[15]);
  return sense;
}

Expected<Sense, std::string> parse_descriptor(std::span<const uint8_t> data) {
  if (data.size() < 8) return Unexpected{byte_error("descriptor-format", data.size(), 7)};
  Sense sense;
  sense.deferred = (data[0] & 0x7F) == kDescriptorDeferred;
  sense.key = static_cast<SenseKey>(data[1] & 0x0F);
  sense.additional = {data[2], data[3]};
  const size_t length = std::min(data.size(), size_t{8} + data[7]);
  size_t at = 8;
  while (at < length) {
    if (at + 2 > length) {
      return Unexpected{"descriptor-format sense data: descriptor at byte " + std::to_string(at) +
                        " has no additional length byte"};
    }
    const size_t descriptor_length = size_t{2} + data[at + 1];
    if (at + descriptor_length > length) {
      return Unexpected{"descriptor-format sense data: descriptor type " + hex_byte(data[at]) +
                        " at byte " + std::to_string(at) + " needs " +
                        std::to_string(descriptor_length) + " bytes, only " +
                        std::to_string(length - at) + " remain"};
    }
    const uint8_t* descriptor = &data[at];
    if (descriptor[0] == kInformationDescriptor && descriptor_length >= 12 &&
        (descriptor[2] & kValid)) {
      uint64_t information = 0;
      for (int i = 4; i < 12; ++i)
        information = information << 8 | descriptor[i];
      sense.information = information;
    } else if (descriptor[0] == kSenseKeySpecificDescriptor && descriptor_length >= 8) {
      sense.field_pointer = get_field_pointer(sense.key, &descriptor[4]);
    }
    at += descriptor_length;
  }
  return sense;
}

}  // namespace

SenseBytes build_fixed_sense(const Sense& sense) {
  SenseBytes out;
  uint8_t* b = out.bytes_.data();
  b[0] = sense.deferred ? kFixedDeferred : kFixedCurrent;
  if (sense.information && *sense.information <= 0xFFFFFFFFu) {
    b[0] |= kValid;
    const uint64_t info = *sense.information;
    b[3] = static_cast<uint8_t>(info >> 24);
    b[4] = static_cast<uint8_t>(info >> 16);
    b[5] = static_cast<uint8_t>(info >> 8);
    b[6] = static_cast<uint8_t>(info);
  }
  b[2] = static_cast<uint8_t>(sense.key);
  b[7] = kFixedSenseLength - 8;
  b[12] = sense.additional.asc;
  b[13] = sense.additional.ascq;
  if (sense.field_pointer) put_field_pointer(*sense.field_pointer, &b[15]);
  out.length_ = kFixedSenseLength;
  return out;
}

SenseBytes build_descriptor_sense(const Sense& sense) {
  SenseBytes out;
  uint8_t* b = out.bytes_.data();
  b[0] = sense.deferred ? kDescriptorDeferred : kDescriptorCurrent;
  b[1] = static_cast<uint8_t>(sense.key);
  b[2] = sense.additional.asc;
  b[3] = sense.additional.ascq;
  size_t at = 8;
  if (sense.information) {
    b[at] = kInformationDescriptor;
    b[at + 1] = 0x0A;
    b[at + 2] = kValid;
    for (int i = 0; i < 8; ++i)
      b[at + 4 + i] = static_cast<uint8_t>(*sense.information >> (56 - 8 * i));
    at += 12;
  }
  if (sense.field_pointer) {
    b[at] = kSenseKeySpecificDescriptor;
    b[at + 1] = 0x06;
    put_field_pointer(*sense.field_pointer, &b[at + 4]);
    at += 8;
  }
  b[7] = static_cast<uint8_t>(at - 8);
  out.length_ = static_cast<uint8_t>(at);
  return out;
}

Expected<Sense, std::string> parse_sense(std::span<const uint8_t> data) {
  if (data.empty()) return Unexpected{std::string("sense data is empty")};
  switch (data[0] & 0x7F) {
    case kFixedCurrent:
    case kFixedDeferred:
      return parse_fixed(data);
    case kDescriptorCurrent:
    case kDescriptorDeferred:
      return parse_descriptor(data);
    default: {
      return Unexpected{"sense data has response code " + hex_byte(data[0] & 0x7F) +
                        ", neither fixed (0x70/0x71) nor descriptor (0x72/0x73) format"};
    }
  }
}

Expected<size_t, std::string> frame_sense_segment(std::span<const uint8_t> sense,
                                                  std::span<uint8_t> out) {
  if (sense.size() > 0xFFFF) {
    return Unexpected{"sense data of " + std::to_string(sense.size()) +
                      " bytes does not fit the 16-bit SenseLength"};
  }
  const size_t needed = kSenseLengthFieldSize + sense.size();
  if (out.size() < needed) {
    return Unexpected{"SCSI Response data segment needs " + std::to_string(needed) +
                      " bytes for the sense data, the buffer has " + std::to_string(out.size())};
  }
  out[0] = static_cast<uint8_t>(sense.size() >> 8);
  out[1] = static_cast<uint8_t>(sense.size());
  std::copy(sense.begin(), sense.end(), out.begin() + kSenseLengthFieldSize);
  return needed;
}

Expected<std::span<const uint8_t>, std::string> unframe_sense_segment(
    std::span<const uint8_t> segment) {
  if (segment.empty()) return std::span<const uint8_t>{};
  if (segment.size() < kSenseLengthFieldSize) {
    return Unexpected{
        std::string("SCSI Response data segment of 1 byte cannot hold the 2-byte SenseLength")};
  }
  const size_t sense_length = size_t{segment[0]} << 8 | segment[1];
  if (sense_length > segment.size() - kSenseLengthFieldSize) {
    return Unexpected{"SCSI Response SenseLength " + std::to_string(sense_length) +
                      " exceeds the " + std::to_string(segment.size() - kSenseLengthFieldSize) +
                      " bytes that follow it in the data segment"};
  }
  return segment.subspan(kSenseLengthFieldSize, sense_length);
}

std::string_view to_string(ScsiStatus status) {
  switch (status) {
    case ScsiStatus::kGood:
      return "GOOD";
    case ScsiStatus::kCheckCondition:
      return "CHECK CONDITION";
    case ScsiStatus::kConditionMet:
      return "CONDITION MET";
    case ScsiStatus::kBusy:
      return "BUSY";
    case ScsiStatus::kReservationConflict:
      return "RESERVATION CONFLICT";
    case ScsiStatus::kTaskSetFull:
      return "TASK SET FULL";
    case ScsiStatus::kAcaActive:
      return "ACA ACTIVE";
    case ScsiStatus::kTaskAborted:
      return "TASK ABORTED";
  }
  return "RESERVED STATUS";
}

std::string_view to_string(SenseKey key) {
  switch (key) {
    case SenseKey::kNoSense:
      return "NO SENSE";
    case SenseKey::kRecoveredError:
      return "RECOVERED ERROR";
    case SenseKey::kNotReady:
      return "NOT READY";
    case SenseKey::kMediumError:
      return "MEDIUM ERROR";
    case SenseKey::kHardwareError:
      return "HARDWARE ERROR";
    case SenseKey::kIllegalRequest:
      return "ILLEGAL REQUEST";
    case SenseKey::kUnitAttention:
      return "UNIT ATTENTION";
    case SenseKey::kDataProtect:
      return "DATA PROTECT";
    case SenseKey::kBlankCheck:
      return "BLANK CHECK";
    case SenseKey::kVendorSpecific:
      return "VENDOR SPECIFIC";
    case SenseKey::kCopyAborted:
      return "COPY ABORTED";
    case SenseKey::kAbortedCommand:
      return "ABORTED COMMAND";
    case SenseKey::kVolumeOverflow:
      return "VOLUME OVERFLOW";
    case SenseKey::kMiscompare:
      return "MISCOMPARE";
    case SenseKey::kCompleted:
      return "COMPLETED";
  }
  return "RESERVED SENSE KEY";
}

std::string describe(AdditionalSense additional) {
  struct Name {
    AdditionalSense code;
    const char* text;
  };
  static constexpr Name kNames[] = {
      {kNoAdditionalSense, "NO ADDITIONAL SENSE INFORMATION"},
      {kWriteError, "WRITE ERROR"},
      {kUnexpectedUnsolicitedData, "UNEXPECTED UNSOLICITED DATA"},
      {kNotEnoughUnsolicitedData, "NOT ENOUGH UNSOLICITED DATA"},
      {kUnrecoveredReadError, "UNRECOVERED READ ERROR"},
      {kParameterListLengthError, "PARAMETER LIST LENGTH ERROR"},
      {kInvalidCommandOperationCode, "INVALID COMMAND OPERATION CODE"},
      {kLbaOutOfRange, "LOGICAL BLOCK ADDRESS OUT OF RANGE"},
      {kInvalidFieldInCdb, "INVALID FIELD IN CDB"},
      {kLogicalUnitNotSupported, "LOGICAL UNIT NOT SUPPORTED"},
      {kInvalidFieldInParameterList, "INVALID FIELD IN PARAMETER LIST"},
      {kWriteProtected, "WRITE PROTECTED"},
      {kPowerOnResetOrBusDeviceReset, "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED"},
      {kMiscompareDuringVerifyOperation, "MISCOMPARE DURING VERIFY OPERATION"},
      {kSavingParametersNotSupported, "SAVING PARAMETERS NOT SUPPORTED"},
      {kMediumNotPresent, "MEDIUM NOT PRESENT"},
      {kInternalTargetFailure, "INTERNAL TARGET FAILURE"},
      {kDataPhaseError, "DATA PHASE ERROR"},
      {kInvalidFieldInInformationUnit, "INVALID FIELD IN INFORMATION UNIT"},
  };
  for (const Name& name : kNames) {
    if (name.code == additional) return name.text;
  }
  char text[24];
  std::snprintf(text, sizeof text, "ASC 0x%02X ASCQ 0x%02X", additional.asc, additional.ascq);
  return text;
}

}  // namespace isergw::iscsi
