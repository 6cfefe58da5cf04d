// MODE SENSE(6) and MODE SENSE(10) (SPC-4 §6.11, §6.12) with the pages a
// disk is asked for: caching (Linux sd reads WCE from it), control and
// informational exceptions. MODE SELECT is not implemented, so no field is
// changeable and the defaults are the current values.
#include <algorithm>
#include <array>

#include "backend_ram/big_endian.h"
#include "backend_ram/disk_context.h"

namespace isergw::backend_ram::internal {
namespace {

constexpr uint8_t kModeSense6 = 0x1A;

constexpr uint8_t kCachingPage = 0x08;
constexpr uint8_t kControlPage = 0x0A;
constexpr uint8_t kInformationalExceptionsPage = 0x1C;
constexpr uint8_t kAllPages = 0x3F;
constexpr uint8_t kAllSubpages = 0xFF;

enum class PageControl : uint8_t { kCurrent = 0, kChangeable = 1, kDefault = 2, kSaved = 3 };

// Header, a long block descriptor and every page, with room to spare.
using ModeBuffer = std::array<uint8_t, 128>;

// SBC-3 §6.4.2: each page in its current (or default) form; a changeable
// mask is the page with only its header, since nothing can be changed.
size_t put_page(const Context& context, uint8_t page, PageControl control, uint8_t* out) {
  const bool values = control != PageControl::kChangeable;
  switch (page) {
    case kCachingPage:
      out[0] = kCachingPage;
      out[1] = 0x12;
      if (values && context.config.write_cache) out[2] = 0x04;  // WCE
      return 20;
    case kControlPage:
      out[0] = kControlPage;
      out[1] = 0x0A;
      // QUEUE ALGORITHM MODIFIER 1: commands may be reordered, as a RAM disk
      // completes each one before it takes the next anyway.
      if (values) out[3] = 0x10;
      return 12;
    case kInformationalExceptionsPage:
      out[0] = kInformationalExceptionsPage;
      out[1] = 0x0A;
      if (values) out[2] = 0x08;  // DEXCPT: no failure prediction to report
      return 12;
  }
  return 0;
}

}  // namespace

ScsiResult mode_sense(const Context& context) {
  const bool six = context.cdb[0] == kModeSense6;
  const bool disable_block_descriptors = (context.cdb[1] & 0x08) != 0;
  const bool long_lba = !six && (context.cdb[1] & 0x10) != 0;
  const auto control = static_cast<PageControl>(context.cdb[2] >> 6);
  const uint8_t page = context.cdb[2] & 0x3F;
  const uint8_t subpage = context.cdb[3];
  const uint32_t allocation_length = six ? context.cdb[4] : load_be16(&context.cdb[7]);

  if (control == PageControl::kSaved) {
    return illegal_request(context, iscsi::kSavingParametersNotSupported);
  }
  const bool known_page = page == kCachingPage || page == kControlPage ||
                          page == kInformationalExceptionsPage || page == kAllPages;
  if (!known_page) return invalid_field_in_cdb(context, 2, 5);
  // No page has subpages: subpage 00h is the page itself, FFh the page and
  // all its (no) subpages (SPC-4 §6.11.1).
  if (subpage != 0x00 && subpage != kAllSubpages) return invalid_field_in_cdb(context, 3);

  ModeBuffer data{};
  const size_t header = six ? 4 : 8;
  size_t length = header;
  // WP for a read-only disk; DPOFUA: DPO and FUA are accepted (SBC-3 §6.4.1).
  const uint8_t device_specific = (context.config.read_only ? 0x80 : 0x00) | 0x10;
  data[six ? 2 : 3] = device_specific;
  if (!disable_block_descriptors) {
    const uint32_t block_size = context.config.block_size;
    if (long_lba) {
      data[4] |= 0x01;  // LONGLBA
      store_be64(&data[length], context.block_count);
      store_be32(&data[length + 12], block_size);
      length += 16;
    } else {
      // SBC-3 §6.4.2.2: more blocks than fit report FFFFFFFFh.
      store_be32(&data[length],
                 static_cast<uint32_t>(std::min<uint64_t>(context.block_count, 0xFFFFFFFF)));
      store_be32(&data[length + 4], block_size & 0x00FFFFFF);
      length += 8;
    }
    if (six) {
      data[3] = static_cast<uint8_t>(length - header);
    } else {
      store_be16(&data[6], static_cast<uint16_t>(length - header));
    }
  }
  if (page == kAllPages) {
    for (const uint8_t each : {kCachingPage, kControlPage, kInformationalExceptionsPage}) {
      length += put_page(context, each, control, &data[length]);
    }
  } else {
    length += put_page(context, page, control, &data[length]);
  }
  // MODE DATA LENGTH counts the bytes after itself.
  if (six) {
    data[0] = static_cast<uint8_t>(length - 1);
  } else {
    store_be16(&data[0], static_cast<uint16_t>(length - 2));
  }
  return data_in(context, std::span(data).first(length), allocation_length);
}

}  // namespace isergw::backend_ram::internal
