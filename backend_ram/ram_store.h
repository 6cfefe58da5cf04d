// ram://: a sparse RAM disk. Memory is committed a chunk at a time on the
// first write that is not all zeros, so ram://1T costs its chunk table (8
// bytes per chunk, itself untouched until used) until written.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "backend_ram/block_store.h"
#include "common/expected.h"

namespace isergw::backend_ram {

struct RamStoreOptions {
  // A power of two; 1 MiB keeps the table small and a 4 KiB write cheap.
  uint64_t chunk_size = uint64_t{1} << 20;
  // The most chunk memory the store may commit; 0 = no limit. Past it, writes
  // to unallocated chunks fail (the SCSI layer reports WRITE ERROR).
  uint64_t memory_limit = 0;
};

// Not thread-safe: a store belongs to the worker that runs its sessions.
class RamStore final : public BlockStore {
 public:
  static Expected<std::unique_ptr<RamStore>, std::string> create(uint64_t size,
                                                                 RamStoreOptions options = {});
  ~RamStore() override;
  RamStore(const RamStore&) = delete;
  RamStore& operator=(const RamStore&) = delete;

  uint64_t size() const override { return size_; }
  void read(uint64_t offset, std::span<uint8_t> out) const override;
  Expected<void, StoreError> write(uint64_t offset, std::span<const uint8_t> data) override;
  void discard(uint64_t offset, uint64_t length) override;

  // Bytes of chunk memory allocated now.
  uint64_t committed_bytes() const { return committed_chunks_ * chunk_size_; }

 private:
  RamStore(uint64_t size, const RamStoreOptions& options, uint8_t** table, uint64_t chunk_count);
  uint8_t* allocate_chunk(uint64_t index);

  uint64_t size_;
  uint64_t chunk_size_;
  unsigned chunk_shift_;
  uint64_t memory_limit_;
  uint8_t** table_;  // calloc'd, chunk_count_ entries; null = never written.
  uint64_t chunk_count_;
  uint64_t committed_chunks_ = 0;
};

}  // namespace isergw::backend_ram
