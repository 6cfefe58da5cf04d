// INQUIRY: standard data (SPC-4 §6.6.2) and the vital product data pages
// Linux sd and iscsi-test-cu read from a disk (SPC-4 §7.8, SBC-3 §6.5).
#include <algorithm>
#include <array>
#include <cstring>

#include "backend_ram/big_endian.h"
#include "backend_ram/disk_context.h"

namespace isergw::backend_ram::internal {
namespace {

constexpr uint8_t kDirectAccessBlockDevice = 0x00;
// PERIPHERAL QUALIFIER 011b, type 1Fh: no logical unit at this LUN, and the
// device server cannot have one there (SPC-4 §6.6.2, Table 141).
constexpr uint8_t kNoLogicalUnit = 0x7F;

constexpr uint8_t kSupportedPages = 0x00;
constexpr uint8_t kUnitSerialNumber = 0x80;
constexpr uint8_t kDeviceIdentification = 0x83;
constexpr uint8_t kBlockLimits = 0xB0;
constexpr uint8_t kBlockDeviceCharacteristics = 0xB1;
constexpr uint8_t kLogicalBlockProvisioning = 0xB2;
// Ascending, as SPC-4 §7.8.16 requires.
constexpr uint8_t kVpdPages[] = {
    kSupportedPages, kUnitSerialNumber,           kDeviceIdentification,
    kBlockLimits,    kBlockDeviceCharacteristics, kLogicalBlockProvisioning};

constexpr char kVendor[] = "ISERGW  ";
constexpr char kRevision[] = "0001";
constexpr size_t kStandardLength = 96;

// Larger than any page built here.
using PageBuffer = std::array<uint8_t, 128>;

uint8_t peripheral(const Context& context) {
  return context.lun_present ? kDirectAccessBlockDevice : kNoLogicalUnit;
}

void put_padded(uint8_t* out, size_t width, std::string_view text) {
  std::memset(out, ' ', width);
  std::memcpy(out, text.data(), std::min(width, text.size()));
}

size_t standard_data(const Context& context, PageBuffer& data) {
  data[0] = peripheral(context);
  data[2] = 0x06;  // VERSION: SPC-4
  // HISUP: LUNs use the SAM-5 hierarchical format; RESPONSE DATA FORMAT 2.
  data[3] = 0x10 | 0x02;
  data[4] = kStandardLength - 5;
  // CMDQUE: the relay may have many commands outstanding.
  data[7] = 0x02;
  put_padded(&data[8], 8, kVendor);
  put_padded(&data[16], 16, context.config.product);
  put_padded(&data[32], 4, kRevision);
  // VERSION DESCRIPTORS (SPC-4 Table 146): SAM-5, SPC-4, SBC-3, iSCSI.
  store_be16(&data[58], 0x00A0);
  store_be16(&data[60], 0x0460);
  store_be16(&data[62], 0x04C0);
  store_be16(&data[64], 0x0960);
  return kStandardLength;
}

size_t page_header(const Context& context, PageBuffer& data, uint8_t page, size_t length) {
  data[0] = peripheral(context);
  data[1] = page;
  store_be16(&data[2], static_cast<uint16_t>(length));
  return 4 + length;
}

size_t supported_pages(const Context& context, PageBuffer& data) {
  std::copy(std::begin(kVpdPages), std::end(kVpdPages), &data[4]);
  return page_header(context, data, kSupportedPages, std::size(kVpdPages));
}

size_t unit_serial_number(const Context& context, PageBuffer& data) {
  const std::string& serial = context.identity.serial;
  std::memcpy(&data[4], serial.data(), serial.size());
  return page_header(context, data, kUnitSerialNumber, serial.size());
}

// Two logical-unit designators, both derived from the configured name: NAA
// locally assigned, which Linux turns into /dev/disk/by-id/wwn-0x3...; and a
// T10 vendor ID designator for initiators that prefer one.
size_t device_identification(const Context& context, PageBuffer& data) {
  uint8_t* at = &data[4];
  at[0] = 0x01;  // CODE SET binary
  at[1] = 0x03;  // ASSOCIATION logical unit, DESIGNATOR TYPE NAA
  at[3] = 8;
  store_be64(&at[4], context.identity.naa);
  at += 12;
  const std::string& serial = context.identity.serial;
  at[0] = 0x02;  // CODE SET ASCII
  at[1] = 0x01;  // ASSOCIATION logical unit, DESIGNATOR TYPE T10 vendor ID
  at[3] = static_cast<uint8_t>(8 + serial.size());
  put_padded(&at[4], 8, kVendor);
  std::memcpy(&at[12], serial.data(), serial.size());
  at += 12 + serial.size();
  return page_header(context, data, kDeviceIdentification, static_cast<size_t>(at - &data[4]));
}

size_t block_limits(const Context& context, PageBuffer& data) {
  const uint32_t block_size = context.config.block_size;
  data[4] = 0x01;  // WSNZ: WRITE SAME with 0 blocks is refused.
  // OPTIMAL TRANSFER LENGTH GRANULARITY: 4 KiB, the page size hosts use.
  store_be16(&data[6], static_cast<uint16_t>(std::max<uint32_t>(1, 4096 / block_size)));
  store_be32(&data[8], context.config.max_transfer_bytes / block_size);
  const auto max_same = static_cast<uint32_t>(max_write_same_bytes(context.config) / block_size);
  store_be32(&data[20], max_same);  // MAXIMUM UNMAP LBA COUNT
  store_be32(&data[24], ScsiDisk::kMaxUnmapDescriptors);
  store_be64(&data[36], max_same);  // MAXIMUM WRITE SAME LENGTH
  return page_header(context, data, kBlockLimits, 0x3C);
}

size_t block_device_characteristics(const Context& context, PageBuffer& data) {
  // MEDIUM ROTATION RATE 0001h: non-rotating, so Linux clears "rotational".
  store_be16(&data[4], 0x0001);
  return page_header(context, data, kBlockDeviceCharacteristics, 0x3C);
}

size_t logical_block_provisioning(const Context& context, PageBuffer& data) {
  // LBPU, LBPWS, LBPWS10, LBPRZ; PROVISIONING TYPE thin (SBC-3 §6.5.4).
  data[5] = 0x80 | 0x40 | 0x20 | 0x04;
  data[6] = 0x02;
  return page_header(context, data, kLogicalBlockProvisioning, 4);
}

}  // namespace

ScsiResult inquiry(const Context& context) {
  const bool evpd = (context.cdb[1] & 0x01) != 0;
  const uint8_t page = context.cdb[2];
  const uint16_t allocation_length = load_be16(&context.cdb[3]);
  PageBuffer data{};
  size_t length = 0;
  if (!evpd) {
    // SPC-4 §6.6.1: a PAGE CODE without EVPD is an invalid field.
    if (page != 0) return invalid_field_in_cdb(context, 2);
    length = standard_data(context, data);
  } else {
    switch (page) {
      case kSupportedPages:
        length = supported_pages(context, data);
        break;
      case kUnitSerialNumber:
        length = unit_serial_number(context, data);
        break;
      case kDeviceIdentification:
        length = device_identification(context, data);
        break;
      case kBlockLimits:
        length = block_limits(context, data);
        break;
      case kBlockDeviceCharacteristics:
        length = block_device_characteristics(context, data);
        break;
      case kLogicalBlockProvisioning:
        length = logical_block_provisioning(context, data);
        break;
      default:
        return invalid_field_in_cdb(context, 2);
    }
  }
  return data_in(context, std::span(data).first(length), allocation_length);
}

}  // namespace isergw::backend_ram::internal
