#include "fabric_ib/command_split.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <limits>

#include "iscsi/byte_order.h"
#include "iscsi/scsi_command_pdu.h"

namespace isergw::fabric_ib {

namespace {

// SBC-4 §5: the LBA and TRANSFER LENGTH fields of the READ and WRITE CDBs.
struct BlockCdb {
  bool read = false;
  size_t length = 0;  // of the CDB
  size_t lba_at = 2;
  size_t lba_bytes = 0;
  size_t transfer_length_at = 0;
  size_t transfer_length_bytes = 0;
};

std::optional<BlockCdb> block_cdb(uint8_t opcode) {
  switch (opcode) {
    case 0x28:  // READ (10)
    case 0x2A:  // WRITE (10)
      return BlockCdb{opcode == 0x28, 10, 2, 4, 7, 2};
    case 0xA8:  // READ (12)
    case 0xAA:  // WRITE (12)
      return BlockCdb{opcode == 0xA8, 12, 2, 4, 6, 4};
    case 0x88:  // READ (16)
    case 0x8A:  // WRITE (16)
      return BlockCdb{opcode == 0x88, 16, 2, 8, 10, 4};
    default:
      return std::nullopt;
  }
}

uint64_t load_field(const uint8_t* p, size_t bytes) {
  switch (bytes) {
    case 2:
      return iscsi::load_be16(p);
    case 4:
      return iscsi::load_be32(p);
    default:
      return iscsi::load_be64(p);
  }
}

void store_field(uint8_t* p, size_t bytes, uint64_t value) {
  switch (bytes) {
    case 2:
      iscsi::store_be16(p, static_cast<uint16_t>(value));
      break;
    case 4:
      iscsi::store_be32(p, static_cast<uint32_t>(value));
      break;
    default:
      iscsi::store_be64(p, value);
      break;
  }
}

bool ended_good(const gateway::Completion& completion) {
  return completion.response == iscsi::kResponseCommandCompleted && completion.status == 0;
}

}  // namespace

Expected<CommandSplit, std::string> CommandSplit::plan(std::span<const uint8_t> cdb, bool read,
                                                       bool write,
                                                       uint32_t expected_data_transfer_length,
                                                       uint32_t max_piece_bytes,
                                                       std::optional<uint32_t> block_size) {
  using Failure = Unexpected<std::string>;
  if (cdb.empty()) return Failure{"no CDB"};
  const std::optional<BlockCdb> format = block_cdb(cdb[0]);
  if (!format) return Failure{"only READ and WRITE (10, 12, 16) are cut into pieces"};
  if (cdb.size() < format->length) return Failure{"the CDB is shorter than its opcode's"};
  if (read != format->read || write == format->read) {
    return Failure{"the command's data direction is not its opcode's"};
  }
  if ((cdb[1] >> 5) != 0) {
    return Failure{"it carries protection information (RDPROTECT/WRPROTECT)"};
  }
  const uint64_t lba = load_field(&cdb[format->lba_at], format->lba_bytes);
  const uint64_t blocks =
      load_field(&cdb[format->transfer_length_at], format->transfer_length_bytes);
  if (blocks == 0) return Failure{"TRANSFER LENGTH is 0"};
  uint64_t length = 0;  // of a block
  if (block_size) {
    length = *block_size;
    if (length * blocks != expected_data_transfer_length) {
      return Failure{"ExpectedDataTransferLength is not TRANSFER LENGTH blocks of the LUN's " +
                     std::to_string(length) + " bytes"};
    }
  } else {
    length = expected_data_transfer_length / blocks;
    if (length * blocks != expected_data_transfer_length || length < 512 ||
        !std::has_single_bit(length)) {
      return Failure{"ExpectedDataTransferLength over TRANSFER LENGTH is no block length"};
    }
  }
  if (length == 0 || length > max_piece_bytes) {
    return Failure{"a block is larger than one command carries"};
  }
  const uint64_t lba_limit =
      format->lba_bytes == 8 ? std::numeric_limits<uint64_t>::max() : uint64_t{1} << 32;
  if (lba > lba_limit - blocks) return Failure{"the blocks run past the CDB's LBA field"};

  const uint64_t blocks_per_piece = max_piece_bytes / length;
  std::vector<CommandPiece> pieces;
  pieces.reserve((blocks + blocks_per_piece - 1) / blocks_per_piece);
  for (uint64_t done = 0; done < blocks;) {
    const uint64_t count = std::min(blocks - done, blocks_per_piece);
    pieces.push_back(CommandPiece{lba + done, static_cast<uint32_t>(count),
                                  static_cast<uint32_t>(done * length),
                                  static_cast<uint32_t>(count * length)});
    done += count;
  }
  return CommandSplit(std::move(pieces));
}

size_t CommandSplit::piece_at(uint32_t offset) const {
  // All pieces but the last are the same length.
  return std::min<size_t>(offset / pieces_.front().length, pieces_.size() - 1);
}

void write_piece_cdb(const CommandPiece& piece, std::span<uint8_t> cdb) {
  const std::optional<BlockCdb> format = cdb.empty() ? std::nullopt : block_cdb(cdb[0]);
  assert(format && cdb.size() >= format->length);
  if (!format || cdb.size() < format->length) return;
  store_field(&cdb[format->lba_at], format->lba_bytes, piece.lba);
  store_field(&cdb[format->transfer_length_at], format->transfer_length_bytes, piece.blocks);
}

void CommandSplit::answer(size_t index, const gateway::Completion& completion) {
  if (!answers_[index]) --unanswered_;
  answers_[index] = completion;
}

bool CommandSplit::failed(size_t index) const {
  return answers_[index] && !ended_good(*answers_[index]);
}

uint32_t CommandSplit::read_bytes(size_t index) const {
  const uint32_t length = pieces_[index].length;
  const gateway::Completion& answer = *answers_[index];
  if (!answer.residual_underflow) return length;
  return length - std::min(answer.residual_count, length);
}

gateway::Completion CommandSplit::completion() const {
  assert(all_answered());
  gateway::Completion result;
  const auto failing =
      std::find_if(answers_.begin(), answers_.end(), [](const auto& a) { return !ended_good(*a); });
  const size_t stop = static_cast<size_t>(failing - answers_.begin());
  if (failing != answers_.end()) {
    result.response = (*failing)->response;
    result.status = (*failing)->status;
    result.sense = (*failing)->sense;
  } else {
    // Sense with GOOD (a recovered error, say) still reaches the host: the
    // first piece's that has any.
    for (const auto& answer : answers_) {
      if (answer->sense.empty()) continue;
      result.sense = answer->sense;
      break;
    }
  }
  // Each piece's residual is against its own length, and the pieces' lengths
  // add up to the host's ExpectedDataTransferLength: what the pieces did not
  // move is what the command did not, and what they were asked too little
  // for is what the command was. The host hears of the command as one that
  // stopped at its first failing piece: no read data reaches it past that
  // piece (deliver_pieces), so every byte of the pieces after it is
  // residual, whatever the storage said of them; for a WRITE, the host must
  // not take their data for written either.
  uint64_t under = 0;
  uint64_t over = 0;
  for (size_t i = 0; i < pieces_.size(); ++i) {
    const gateway::Completion& answer = *answers_[i];
    if (i > stop) {
      under += pieces_[i].length;
      continue;
    }
    if (answer.residual_underflow) under += std::min(answer.residual_count, pieces_[i].length);
    if (answer.residual_overflow) over += answer.residual_count;
  }
  constexpr uint64_t kMaxCount = std::numeric_limits<uint32_t>::max();
  if (over > 0) {
    result.residual_overflow = true;
    result.residual_count = static_cast<uint32_t>(std::min(over, kMaxCount));
  } else if (under > 0) {
    result.residual_underflow = true;
    result.residual_count = static_cast<uint32_t>(under);
  }
  return result;
}

std::optional<uint32_t> capacity_block_length(std::span<const uint8_t> cdb,
                                              std::span<const uint8_t> data) {
  if (cdb.empty()) return std::nullopt;
  size_t at = 0;
  if (cdb[0] == 0x25) {
    at = 4;  // READ CAPACITY (10): SBC-4 §5.20.2
  } else if (cdb[0] == 0x9E && cdb.size() > 1 && (cdb[1] & 0x1F) == 0x10) {
    at = 8;  // READ CAPACITY (16): SBC-4 §5.21.2
  } else {
    return std::nullopt;
  }
  if (data.size() < at + 4) return std::nullopt;
  const uint32_t length = iscsi::load_be32(&data[at]);
  if (length == 0) return std::nullopt;
  return length;
}

}  // namespace isergw::fabric_ib
