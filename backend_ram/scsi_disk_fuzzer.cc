// Feeds arbitrary CDBs, LUNs, lengths, directions and data-out to a small
// RAM disk. Beyond "no crash": data-in never goes past the span it is given
// (the span is its own heap block, so ASan sees any overrun), and every
// result is one the relay can put on the wire.
//
// Input: flags (1 byte), EDTL (3 bytes), data-in span size (3 bytes), CDB
// length (1 byte), the CDB, data-out split count (1 byte), data-out.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "backend_ram/ram_store.h"
#include "backend_ram/scsi_disk.h"
#include "iscsi/sense.h"

namespace {

using isergw::backend_ram::DataDirection;
using isergw::backend_ram::Residual;
using isergw::backend_ram::ScsiDisk;

// Larger than any data-in the disk produces for a 256-block disk, and bounds
// memory per input.
constexpr uint32_t kMaxLength = 1u << 18;

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint32_t take(size_t bytes) {
    uint32_t value = 0;
    for (size_t i = 0; i < bytes; ++i)
      value = value << 8 | (at_ < size_ ? data_[at_++] : 0);
    return value;
  }
  std::span<const uint8_t> take_span(size_t bytes) {
    const size_t count = std::min(bytes, size_ - at_);
    const std::span<const uint8_t> out(data_ + at_, count);
    at_ += count;
    return out;
  }
  std::span<const uint8_t> rest() { return take_span(size_ - at_); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input input(data, size);
  const uint32_t flags = input.take(1);
  isergw::backend_ram::DiskConfig config;
  config.block_size = (flags & 0x04) ? 4096 : 512;
  config.read_only = (flags & 0x08) != 0;
  config.write_cache = (flags & 0x10) != 0;
  const uint64_t blocks = 256;
  isergw::backend_ram::RamStoreOptions options;
  options.chunk_size = 4096;
  // A budget below the disk's size reaches the WRITE ERROR path too.
  options.memory_limit = (flags & 0x20) ? 16 * 4096 : 0;
  auto store = isergw::backend_ram::RamStore::create(blocks * config.block_size, options);
  check(store.has_value());
  auto disk = ScsiDisk::create(config, std::move(store).value());
  check(disk.has_value());

  isergw::backend_ram::ScsiCommand command;
  constexpr DataDirection kDirections[] = {DataDirection::kNone, DataDirection::kRead,
                                           DataDirection::kWrite, DataDirection::kRead};
  command.direction = kDirections[flags & 0x03];
  command.lun = (flags & 0x40) ? isergw::backend_ram::encode_lun(1) : 0;
  command.expected_data_transfer_length = input.take(3) % (kMaxLength + 1);
  const uint32_t span_size = input.take(3) % (kMaxLength + 1);
  const std::span<const uint8_t> cdb = input.take_span(input.take(1) % 33);
  // Copy the CDB into its own block so a read past its end shows too.
  const std::vector<uint8_t> cdb_copy(cdb.begin(), cdb.end());
  command.cdb = cdb_copy;

  const uint32_t splits = input.take(1) % 8 + 1;
  const std::span<const uint8_t> out = input.rest();
  std::vector<std::vector<uint8_t>> buffers;
  for (uint32_t i = 0; i < splits; ++i) {
    const size_t begin = out.size() * i / splits;
    const size_t end = out.size() * (i + 1) / splits;
    buffers.emplace_back(out.begin() + begin, out.begin() + end);
  }
  // Long enough data-out for whole-block writes without megabyte inputs:
  // the last buffer repeats the input's tail pattern up to EDTL.
  if ((flags & 0x80) && command.direction == DataDirection::kWrite) {
    buffers.emplace_back(command.expected_data_transfer_length, out.empty() ? 0x5A : out.back());
  }
  std::vector<std::span<const uint8_t>> spans(buffers.begin(), buffers.end());
  command.data_out = spans;

  const auto data_in = std::make_unique<uint8_t[]>(span_size);
  const isergw::backend_ram::ScsiResult result =
      disk->execute(command, std::span(data_in.get(), span_size));

  check(result.data_in_length <= command.expected_data_transfer_length);
  check(result.data_in_length <= span_size);
  check(result.residual != Residual::kNone || result.residual_count == 0);
  check(result.residual == Residual::kNone || result.residual_count != 0);
  if (result.status == isergw::iscsi::ScsiStatus::kGood) {
    check(result.sense.empty());
  } else {
    check(result.status == isergw::iscsi::ScsiStatus::kCheckCondition);
    check(result.data_in_length == 0);
    const auto sense = isergw::iscsi::parse_sense(result.sense.bytes());
    check(sense.has_value());
    check(sense->key != isergw::iscsi::SenseKey::kNoSense);
  }
  return 0;
}
