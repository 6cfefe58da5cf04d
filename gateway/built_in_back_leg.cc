#include "gateway/built_in_back_leg.h"

#include <algorithm>
#include <memory>
#include <vector>

namespace isergw::gateway {

BackLegInfo BuiltInBackLeg::info() const {
  BackLegInfo info;
  info.back_end = url_;
  info.state = "logged in";
  info.commands = commands_;
  info.in_flight = static_cast<uint32_t>(waiting_.size());
  return info;
}

backend_ram::ScsiCommand BuiltInBackLeg::scsi_command(const Task& task) const {
  backend_ram::ScsiCommand command;
  command.cdb = task.cdb;
  command.lun = task.lun;
  command.expected_data_transfer_length = task.expected_data_transfer_length;
  command.direction = task.write  ? backend_ram::DataDirection::kWrite
                      : task.read ? backend_ram::DataDirection::kRead
                                  : backend_ram::DataDirection::kNone;
  return command;
}

void BuiltInBackLeg::submit(Task& task, FrontLeg& front) {
  ++commands_;
  const backend_ram::ScsiCommand command = scsi_command(task);
  if (const uint32_t length = disk_->data_out_length(command); length > 0) {
    // The disk needs all of a write's data at once: store and forward. Only
    // what the CDB transfers is asked for, whatever EDTL the host declared;
    // the disk reckons the residual.
    front.pull(task, 0, length, [this, &task, &front](std::vector<DataSlice> slices) {
      execute(task, front, slices, {});
    });
    return;
  }
  const uint32_t read_length = disk_->data_in_length(command);
  if (read_length == 0) {
    execute(task, front, {}, {});
    return;
  }
  // Read data waits in the pool for the host to take it: claimed whole
  // before the disk runs, in turn with the other sessions' claims.
  const size_t count = (size_t{read_length} + pool_.buffer_size() - 1) / pool_.buffer_size();
  std::vector<Buffer> buffers;
  PendingClaim pending;
  switch (pool_.claim(count, claims_, buffers, pending,
                      [this, &task, &front](std::vector<Buffer> granted) {
                        waiting_.erase(&task);
                        execute(task, front, {}, std::move(granted));
                      })) {
    case BufferPool::ClaimOutcome::kGranted:
      execute(task, front, {}, std::move(buffers));
      break;
    case BufferPool::ClaimOutcome::kWaiting:
      waiting_.emplace(&task, std::move(pending));
      break;
    case BufferPool::ClaimOutcome::kRefused:
      // Larger than a claim: only a disk whose MAXIMUM TRANSFER LENGTH is
      // above the pool's gets here; it answers from the CDB, with no data.
      execute(task, front, {}, {});
      break;
  }
}

void BuiltInBackLeg::execute(Task& task, FrontLeg& front, const std::vector<DataSlice>& data_out,
                             std::vector<Buffer> data_in) {
  std::vector<std::span<const uint8_t>> spans;
  spans.reserve(data_out.size());
  for (const DataSlice& slice : data_out)
    spans.push_back(slice.bytes);
  backend_ram::ScsiCommand command = scsi_command(task);
  command.data_out = spans;

  std::vector<std::span<uint8_t>> pieces;
  pieces.reserve(data_in.size());
  for (const Buffer& buffer : data_in)
    pieces.push_back(buffer.bytes());
  const backend_ram::ScsiResult result = disk_->execute(command, pieces);
  // Each buffer's bytes go to the host from the buffer itself, which lives
  // until they have left.
  uint32_t offset = 0;
  for (Buffer& buffer : data_in) {
    if (offset >= result.data_in_length) break;
    const auto length =
        static_cast<uint32_t>(std::min<size_t>(buffer.size(), result.data_in_length - offset));
    const std::span<const uint8_t> bytes(buffer.data(), length);
    front.push(task, offset, bytes, std::make_shared<const Buffer>(std::move(buffer)));
    offset += length;
  }
  Completion completion;
  completion.status = static_cast<uint8_t>(result.status);
  const auto sense = result.sense.bytes();
  completion.sense.assign(sense.begin(), sense.end());
  completion.residual_overflow = result.residual == backend_ram::Residual::kOverflow;
  completion.residual_underflow = result.residual == backend_ram::Residual::kUnderflow;
  completion.residual_count = result.residual_count;
  front.complete(task, completion);
}

}  // namespace isergw::gateway
