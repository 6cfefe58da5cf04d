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
  return info;
}

void BuiltInBackLeg::submit(Task& task, FrontLeg& front) {
  ++commands_;
  if (task.write && task.expected_data_transfer_length > 0) {
    // The disk needs all of a write's data at once: store and forward.
    front.pull(
        task, 0, task.expected_data_transfer_length,
        [this, &task, &front](std::vector<DataSlice> slices) { execute(task, front, slices); });
    return;
  }
  execute(task, front, {});
}

void BuiltInBackLeg::execute(Task& task, FrontLeg& front, const std::vector<DataSlice>& data_out) {
  std::vector<std::span<const uint8_t>> spans;
  spans.reserve(data_out.size());
  for (const DataSlice& slice : data_out)
    spans.push_back(slice.bytes);

  backend_ram::ScsiCommand command;
  command.cdb = task.cdb;
  command.lun = task.lun;
  command.expected_data_transfer_length = task.expected_data_transfer_length;
  command.direction = task.write  ? backend_ram::DataDirection::kWrite
                      : task.read ? backend_ram::DataDirection::kRead
                                  : backend_ram::DataDirection::kNone;
  command.data_out = spans;

  // Read data lands in a pool buffer when one holds it; larger reads (up to
  // 16 MiB) take heap memory, a cost only the built-in back end pays.
  // EDTL is the host's to choose, up to 4 GiB, while the disk never answers
  // more than kMaxTransferBytes: sized by EDTL alone, one READ could make the
  // gateway allocate and zero gigabytes. The disk reckons residuals from
  // EDTL, not from this buffer, so the cap changes nothing on the wire.
  std::shared_ptr<const void> owner;
  std::span<uint8_t> data_in;
  const uint32_t read_length = task.read ? std::min(task.expected_data_transfer_length,
                                                    backend_ram::ScsiDisk::kMaxTransferBytes)
                                         : 0;
  if (read_length > 0) {
    Buffer buffer = read_length <= pool_.buffer_size() ? pool_.acquire() : Buffer();
    if (buffer) {
      data_in = std::span<uint8_t>(buffer.data(), read_length);
      owner = std::make_shared<Buffer>(std::move(buffer));
    } else {
      // Not zeroed: only the bytes the disk writes are ever sent, and
      // zeroing up to 16 MiB per command was most of a large read's cost.
      auto heap = std::make_shared_for_overwrite<uint8_t[]>(read_length);
      data_in = std::span<uint8_t>(heap.get(), read_length);
      owner = heap;
    }
  }

  const backend_ram::ScsiResult result = disk_->execute(command, data_in);
  if (result.data_in_length > 0) {
    front.push(task, 0, data_in.first(result.data_in_length), owner);
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
