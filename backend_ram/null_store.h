// null://: reads return zeros, writes are discarded. Measures a front fabric
// with no storage cost at all.
#pragma once

#include <cassert>
#include <cstring>

#include "backend_ram/block_store.h"

namespace isergw::backend_ram {

class NullStore final : public BlockStore {
 public:
  explicit NullStore(uint64_t size) : size_(size) {}

  uint64_t size() const override { return size_; }
  void read(uint64_t offset, std::span<uint8_t> out) const override {
    assert(offset <= size_ && out.size() <= size_ - offset);
    if (!out.empty()) std::memset(out.data(), 0, out.size());
  }
  Expected<void, StoreError> write(uint64_t offset, std::span<const uint8_t> data) override {
    assert(offset <= size_ && data.size() <= size_ - offset);
    return {};
  }
  void discard(uint64_t offset, uint64_t length) override {
    assert(offset <= size_ && length <= size_ - offset);
  }

 private:
  uint64_t size_;
};

}  // namespace isergw::backend_ram
