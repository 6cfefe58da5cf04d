// What a built-in back end keeps its blocks in. Two implementations:
// RamStore (sparse memory) and NullStore (nothing). The SCSI layer checks
// every range against size() before it calls in, so the stores only assert.
#pragma once

#include <cstdint>
#include <span>

#include "common/expected.h"

namespace isergw::backend_ram {

enum class StoreError {
  // The store could not commit memory for a chunk (allocation failed or the
  // configured budget is spent).
  kOutOfMemory,
};

class BlockStore {
 public:
  virtual ~BlockStore() = default;

  // Capacity in bytes.
  virtual uint64_t size() const = 0;
  // Copies [offset, offset + out.size()) into out; unwritten bytes read as 0.
  virtual void read(uint64_t offset, std::span<uint8_t> out) const = 0;
  virtual Expected<void, StoreError> write(uint64_t offset, std::span<const uint8_t> data) = 0;
  // Deallocates a range: afterwards it reads as zeros (SBC-3 LBPRZ = 1).
  virtual void discard(uint64_t offset, uint64_t length) = 0;
};

}  // namespace isergw::backend_ram
