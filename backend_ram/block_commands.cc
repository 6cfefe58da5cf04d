// The SBC-3 commands that touch blocks: READ, WRITE, VERIFY, SYNCHRONIZE
// CACHE, WRITE SAME and UNMAP.
#include <algorithm>
#include <array>
#include <cstring>

#include "backend_ram/big_endian.h"
#include "backend_ram/disk_context.h"

namespace isergw::backend_ram::internal {
namespace {

using iscsi::SenseKey;

struct BlockRange {
  uint64_t lba;
  uint64_t blocks;
  // Where the transfer length sits, for the field pointer.
  uint16_t length_byte;
};

// SBC-3 §5: the LBA and TRANSFER LENGTH (or NUMBER OF LOGICAL BLOCKS) of the
// 6-, 10-, 12- and 16-byte forms.
BlockRange decode_range(const CommandInfo& info, const uint8_t* cdb) {
  switch (info.cdb_length) {
    case 6: {
      const uint64_t lba = uint64_t{cdb[1] & 0x1Fu} << 16 | load_be16(&cdb[2]);
      // SBC-3 §5.7: in READ(6) and WRITE(6), 0 means 256 blocks.
      return {lba, cdb[4] == 0 ? 256u : cdb[4], 4};
    }
    case 10:
      return {load_be32(&cdb[2]), load_be16(&cdb[7]), 7};
    case 12:
      return {load_be32(&cdb[2]), load_be32(&cdb[6]), 6};
    default:
      return {load_be64(&cdb[2]), load_be32(&cdb[10]), 10};
  }
}

BlockRange decode_range(const Context& context) {
  return decode_range(context.info, context.cdb);
}

bool out_of_range(const Context& context, const BlockRange& range) {
  return range.lba > context.block_count || range.blocks > context.block_count - range.lba;
}

ScsiResult lba_out_of_range(const Context& context) {
  return illegal_request(context, iscsi::kLbaOutOfRange);
}

ScsiResult write_protected(const Context& context) {
  return check_condition(context, SenseKey::kDataProtect, iscsi::kWriteProtected);
}

// The relay hands over all data-out before it calls in; less than the
// command needs means the data phase went wrong.
ScsiResult data_phase_error(const Context& context) {
  return check_condition(context, SenseKey::kAbortedCommand, iscsi::kDataPhaseError);
}

ScsiResult write_error(const Context& context) {
  return check_condition(context, SenseKey::kMediumError, iscsi::kWriteError);
}

// Range and size checks shared by READ, WRITE and VERIFY.
std::optional<ScsiResult> check_transfer(const Context& context, const BlockRange& range) {
  if (out_of_range(context, range)) return lba_out_of_range(context);
  // SBC-3 §6.5.3: more than the MAXIMUM TRANSFER LENGTH of the Block
  // Limits page is an invalid field.
  if (range.blocks * context.config.block_size > context.config.max_transfer_bytes) {
    return invalid_field_in_cdb(context, range.length_byte);
  }
  return std::nullopt;
}

bool all_zero(std::span<const uint8_t> data) {
  return std::all_of(data.begin(), data.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace

uint64_t transfer_bytes(const CommandInfo& info, const uint8_t* cdb, uint32_t block_size) {
  return decode_range(info, cdb).blocks * block_size;
}

ScsiResult read_blocks(const Context& context) {
  const BlockRange range = decode_range(context);
  if (auto failed = check_transfer(context, range)) return *failed;
  const uint64_t spdtl = range.blocks * context.config.block_size;
  const uint32_t expected = expected_length(context, DataDirection::kRead);
  // On overflow only EDTL bytes go to the initiator (RFC 7143 §11.4.5.1;
  // FCP-4 §9.4.2 a)), which may end inside a block.
  const size_t count = static_cast<size_t>(
      std::min<uint64_t>({spdtl, expected, static_cast<uint64_t>(data_in_capacity(context))}));
  uint64_t offset = range.lba * context.config.block_size;
  size_t left = count;
  for (const std::span<uint8_t> piece : context.data_in) {
    if (left == 0) break;
    const size_t length = std::min(left, piece.size());
    context.store.read(offset, piece.first(length));
    offset += length;
    left -= length;
  }
  ScsiResult result;
  result.data_in_length = static_cast<uint32_t>(count);
  set_residual(result, spdtl, expected);
  return result;
}

ScsiResult write_blocks(const Context& context) {
  const BlockRange range = decode_range(context);
  if (auto failed = check_transfer(context, range)) return *failed;
  if (context.config.read_only) return write_protected(context);
  const uint64_t spdtl = range.blocks * context.config.block_size;
  const uint32_t expected = expected_length(context, DataDirection::kWrite);
  // Only what both the CDB and EDTL cover is written: libiscsi's residual
  // tests check that bytes beyond EDTL keep their old contents.
  const uint64_t count = std::min<uint64_t>(spdtl, expected);
  if (data_out_size(context) < count) return data_phase_error(context);
  uint64_t offset = range.lba * context.config.block_size;
  uint64_t remaining = count;
  for (const std::span<const uint8_t> buffer : context.command.data_out) {
    if (remaining == 0) break;
    const auto piece =
        buffer.first(static_cast<size_t>(std::min<uint64_t>(buffer.size(), remaining)));
    if (!context.store.write(offset, piece)) return write_error(context);
    offset += piece.size();
    remaining -= piece.size();
  }
  ScsiResult result;
  set_residual(result, spdtl, expected);
  return result;
}

ScsiResult verify_blocks(const Context& context) {
  const BlockRange range = decode_range(context);
  const uint8_t byte_check = (context.cdb[1] >> 1) & 0x03;
  // SBC-3 §5.33: BYTCHK 00b checks the medium only, 01b compares data-out;
  // 10b is reserved and 11b (one block against each) is not implemented.
  if (byte_check > 1) return invalid_field_in_cdb(context, 1, 2);
  if (auto failed = check_transfer(context, range)) return *failed;
  if (byte_check == 0) return good(context);
  const uint64_t spdtl = range.blocks * context.config.block_size;
  const uint32_t expected = expected_length(context, DataDirection::kWrite);
  const uint64_t count = std::min<uint64_t>(spdtl, expected);
  if (data_out_size(context) < count) return data_phase_error(context);
  uint64_t offset = range.lba * context.config.block_size;
  uint64_t compared = 0;
  std::array<uint8_t, 4096> stored;
  for (const std::span<const uint8_t> buffer : context.command.data_out) {
    std::span<const uint8_t> rest =
        buffer.first(static_cast<size_t>(std::min<uint64_t>(buffer.size(), count - compared)));
    while (!rest.empty()) {
      const size_t piece = std::min(rest.size(), stored.size());
      context.store.read(offset, std::span(stored).first(piece));
      const auto mismatch = std::mismatch(rest.begin(), rest.begin() + piece, stored.begin());
      if (mismatch.first != rest.begin() + piece) {
        // SBC-3 §5.33: the INFORMATION field is the offset of the first
        // byte that differs.
        iscsi::Sense sense;
        sense.key = SenseKey::kMiscompare;
        sense.additional = iscsi::kMiscompareDuringVerifyOperation;
        sense.information = compared + static_cast<uint64_t>(mismatch.first - rest.begin());
        ScsiResult result;
        result.status = iscsi::ScsiStatus::kCheckCondition;
        result.sense = iscsi::build_fixed_sense(sense);
        set_residual(result, spdtl, expected);
        return result;
      }
      rest = rest.subspan(piece);
      offset += piece;
      compared += piece;
    }
  }
  ScsiResult result;
  set_residual(result, spdtl, expected);
  return result;
}

ScsiResult synchronize_cache(const Context& context) {
  BlockRange range = decode_range(context);
  // SBC-3 §5.22: NUMBER OF LOGICAL BLOCKS 0 means through the last block.
  if (range.lba > context.block_count) return lba_out_of_range(context);
  if (range.blocks == 0) range.blocks = context.block_count - range.lba;
  if (out_of_range(context, range)) return lba_out_of_range(context);
  return good(context);
}

ScsiResult write_same(const Context& context) {
  const BlockRange range = decode_range(context);
  if (out_of_range(context, range)) return lba_out_of_range(context);
  // WSNZ = 1 in the Block Limits page: 0 ("to the end") is refused, as is
  // more than the MAXIMUM WRITE SAME LENGTH (SBC-3 §5.42, §5.43).
  const uint32_t block_size = context.config.block_size;
  if (range.blocks == 0 || range.blocks * block_size > max_write_same_bytes(context.config)) {
    return invalid_field_in_cdb(context, range.length_byte);
  }
  if (context.config.read_only) return write_protected(context);
  const uint32_t expected = expected_length(context, DataDirection::kWrite);
  std::array<uint8_t, 4096> block;
  const std::span<uint8_t> pattern = std::span(block).first(block_size);
  if (expected < block_size || gather_data_out(context, pattern) < block_size) {
    return data_phase_error(context);
  }
  const uint64_t offset = range.lba * block_size;
  // Zeros, with or without UNMAP, deallocate: a RAM disk cannot tell a
  // mapped zero block from a deallocated one (LBPRZ = 1).
  if (all_zero(pattern)) {
    context.store.discard(offset, range.blocks * block_size);
  } else {
    for (uint64_t i = 0; i < range.blocks; ++i) {
      if (!context.store.write(offset + i * block_size, pattern)) return write_error(context);
    }
  }
  ScsiResult result;
  set_residual(result, block_size, expected);
  return result;
}

ScsiResult unmap(const Context& context) {
  if (context.config.read_only) return write_protected(context);
  const uint16_t parameter_list_length = load_be16(&context.cdb[7]);
  // SBC-3 §5.28: a length of 0 is no error and unmaps nothing; 1..7 cannot
  // hold the header.
  if (parameter_list_length == 0) return good(context);
  if (parameter_list_length < 8) {
    return illegal_request(context, iscsi::kParameterListLengthError);
  }
  const uint32_t expected = expected_length(context, DataDirection::kWrite);
  if (expected < parameter_list_length || data_out_size(context) < parameter_list_length) {
    return data_phase_error(context);
  }
  // Descriptors past the most we accept are never read, so the list needs no
  // more room than that.
  std::array<uint8_t, 8 + 16 * ScsiDisk::kMaxUnmapDescriptors> list;
  const size_t list_size = std::min<size_t>(parameter_list_length, list.size());
  gather_data_out(context, std::span(list).first(list_size));
  const uint16_t descriptor_bytes = load_be16(&list[2]);
  // SBC-3 §5.28.2: descriptors the parameter list length cuts short are
  // not processed.
  const size_t descriptors = std::min<size_t>(descriptor_bytes, parameter_list_length - 8) / 16;
  auto invalid_parameter = [&](uint16_t byte) {
    return check_condition(context, SenseKey::kIllegalRequest, iscsi::kInvalidFieldInParameterList,
                           iscsi::FieldPointer{false, byte, {}});
  };
  if (descriptors > ScsiDisk::kMaxUnmapDescriptors) return invalid_parameter(2);
  // Check every descriptor before deallocating any: a command that fails
  // changes nothing.
  uint64_t total_blocks = 0;
  for (size_t i = 0; i < descriptors; ++i) {
    const uint8_t* descriptor = &list[8 + 16 * i];
    const BlockRange range{load_be64(descriptor), load_be32(descriptor + 8), 0};
    if (out_of_range(context, range)) return lba_out_of_range(context);
    total_blocks += range.blocks;
  }
  // MAXIMUM UNMAP LBA COUNT of the Block Limits page.
  if (total_blocks * context.config.block_size > max_write_same_bytes(context.config)) {
    return invalid_parameter(8 + 8);
  }
  for (size_t i = 0; i < descriptors; ++i) {
    const uint8_t* descriptor = &list[8 + 16 * i];
    context.store.discard(load_be64(descriptor) * context.config.block_size,
                          uint64_t{load_be32(descriptor + 8)} * context.config.block_size);
  }
  ScsiResult result;
  set_residual(result, parameter_list_length, expected);
  return result;
}

}  // namespace isergw::backend_ram::internal
