// A READ or WRITE larger than one iSER command buffer, sent to the storage
// as several commands, and their statuses made into one for the host.
//
// An iSER back leg's command carries at most one command buffer (512 KiB,
// rdma_worker.h), and Linux's iSCSI/TCP initiator sends up to 1280 KiB per
// command by default. Rather than make every admin lower the host's
// max_sectors_kb, the back leg cuts such a READ or WRITE into pieces of at
// most one buffer: the same CDB with the piece's LBA and TRANSFER LENGTH,
// each its own command toward the storage. The host's command ends once,
// when all pieces have: GOOD only if every piece was, else with the first
// failing piece's status and sense (in data order), the residuals counted
// against the host's ExpectedDataTransferLength, and every byte of the
// pieces after the first failing one counted as not moved.
//
// Only the block commands whose data is a run of whole blocks, addressed by
// LBA, can be cut so; anything else (WRITE SAME, UNMAP, COMPARE AND WRITE,
// vendor commands) larger than a buffer stays refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"
#include "gateway/task.h"

namespace isergw::fabric_ib {

// One of the commands a READ or WRITE goes to the storage as.
struct CommandPiece {
  uint64_t lba = 0;
  uint32_t blocks = 0;
  uint32_t offset = 0;  // where its data starts in the host command's, in bytes
  uint32_t length = 0;  // bytes
};

class CommandSplit {
 public:
  // Cuts a READ or WRITE (10, 12 or 16) whose data is more than
  // `max_piece_bytes` into pieces of at most that many bytes. The logical
  // block length is `block_size` when the LUN's is known (READ CAPACITY data
  // that passed through), otherwise what ExpectedDataTransferLength over
  // TRANSFER LENGTH makes, which must be a whole power of two of at least
  // 512 bytes: pieces are placed in the host's data by that length, so a
  // wrong one would put data at the wrong offsets. Refused, saying why: any
  // other CDB, a data direction that is not the opcode's, protection
  // information (its 8 bytes per block are not in the block length), an
  // ExpectedDataTransferLength that is not TRANSFER LENGTH whole blocks, a
  // range past the CDB's LBA field.
  static Expected<CommandSplit, std::string> plan(std::span<const uint8_t> cdb, bool read,
                                                  bool write,
                                                  uint32_t expected_data_transfer_length,
                                                  uint32_t max_piece_bytes,
                                                  std::optional<uint32_t> block_size);

  size_t size() const { return pieces_.size(); }
  const CommandPiece& piece(size_t index) const { return pieces_[index]; }
  // The piece whose data holds byte `offset` of the command's.
  size_t piece_at(uint32_t offset) const;

  // The storage's status for a piece.
  void answer(size_t index, const gateway::Completion& completion);
  bool answered(size_t index) const { return answers_[index].has_value(); }
  bool all_answered() const { return unanswered_ == 0; }
  // An answered piece that did not end GOOD; the host's read data stops
  // after the first one.
  bool failed(size_t index) const;
  // The read data an answered piece's storage wrote, its residual counted
  // off.
  uint32_t read_bytes(size_t index) const;
  // What the host is told once every piece has answered.
  gateway::Completion completion() const;

 private:
  explicit CommandSplit(std::vector<CommandPiece> pieces)
      : pieces_(std::move(pieces)), answers_(pieces_.size()), unanswered_(pieces_.size()) {}

  std::vector<CommandPiece> pieces_;
  std::vector<std::optional<gateway::Completion>> answers_;
  size_t unanswered_;
};

// Sets a piece's LBA and TRANSFER LENGTH in `cdb`, a copy of the CDB of the
// command that CommandSplit::plan() cut.
void write_piece_cdb(const CommandPiece& piece, std::span<uint8_t> cdb);

// The logical block length in the parameter data of a READ CAPACITY (10)
// or (16) that ended GOOD, so that a back leg can check a large command's
// block length against the LUN's; nullopt for any other command or data too
// short to hold it.
std::optional<uint32_t> capacity_block_length(std::span<const uint8_t> cdb,
                                              std::span<const uint8_t> data);

}  // namespace isergw::fabric_ib
