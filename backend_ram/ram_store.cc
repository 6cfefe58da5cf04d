#include "backend_ram/ram_store.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdlib>
#include <cstring>

namespace isergw::backend_ram {
namespace {

bool all_zero(std::span<const uint8_t> data) {
  return std::all_of(data.begin(), data.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace

Expected<std::unique_ptr<RamStore>, std::string> RamStore::create(uint64_t size,
                                                                  RamStoreOptions options) {
  if (size == 0) return Unexpected{std::string("ram:// store size must not be zero")};
  if (!std::has_single_bit(options.chunk_size) || options.chunk_size < 4096) {
    return Unexpected{"ram:// chunk size " + std::to_string(options.chunk_size) +
                      " must be a power of two of at least 4096"};
  }
  const uint64_t chunk_count = (size - 1) / options.chunk_size + 1;
  // calloc leaves the table's pages uncommitted until a chunk is recorded in
  // them; it also fails cleanly where new[] would throw.
  auto** table = static_cast<uint8_t**>(std::calloc(chunk_count, sizeof(uint8_t*)));
  if (table == nullptr) {
    return Unexpected{"ram:// cannot reserve the chunk table for " + std::to_string(chunk_count) +
                      " chunks"};
  }
  return std::unique_ptr<RamStore>(new RamStore(size, options, table, chunk_count));
}

RamStore::RamStore(uint64_t size, const RamStoreOptions& options, uint8_t** table,
                   uint64_t chunk_count)
    : size_(size),
      chunk_size_(options.chunk_size),
      chunk_shift_(static_cast<unsigned>(std::countr_zero(options.chunk_size))),
      memory_limit_(options.memory_limit),
      table_(table),
      chunk_count_(chunk_count) {}

RamStore::~RamStore() {
  // Free only what was allocated: walking untouched table pages would not
  // commit them (they read as the shared zero page), and null means skip.
  for (uint64_t i = 0; i < chunk_count_ && committed_chunks_ > 0; ++i) {
    if (table_[i] != nullptr) {
      std::free(table_[i]);
      --committed_chunks_;
    }
  }
  std::free(table_);
}

uint8_t* RamStore::allocate_chunk(uint64_t index) {
  if (memory_limit_ != 0 && (committed_chunks_ + 1) * chunk_size_ > memory_limit_) return nullptr;
  // calloc of a large block maps fresh zero pages: only the pages a write
  // touches are committed.
  auto* chunk = static_cast<uint8_t*>(std::calloc(1, chunk_size_));
  if (chunk == nullptr) return nullptr;
  table_[index] = chunk;
  ++committed_chunks_;
  return chunk;
}

void RamStore::read(uint64_t offset, std::span<uint8_t> out) const {
  assert(offset <= size_ && out.size() <= size_ - offset);
  while (!out.empty()) {
    const uint64_t index = offset >> chunk_shift_;
    const uint64_t within = offset & (chunk_size_ - 1);
    const size_t length = static_cast<size_t>(std::min<uint64_t>(out.size(), chunk_size_ - within));
    const uint8_t* chunk = table_[index];
    if (chunk == nullptr) {
      std::memset(out.data(), 0, length);
    } else {
      std::memcpy(out.data(), chunk + within, length);
    }
    out = out.subspan(length);
    offset += length;
  }
}

Expected<void, StoreError> RamStore::write(uint64_t offset, std::span<const uint8_t> data) {
  assert(offset <= size_ && data.size() <= size_ - offset);
  while (!data.empty()) {
    const uint64_t index = offset >> chunk_shift_;
    const uint64_t within = offset & (chunk_size_ - 1);
    const size_t length =
        static_cast<size_t>(std::min<uint64_t>(data.size(), chunk_size_ - within));
    const std::span<const uint8_t> piece = data.first(length);
    uint8_t* chunk = table_[index];
    // Zeros into a never-written chunk change nothing: a disk zeroed by
    // mkfs or WRITE SAME stays sparse.
    if (chunk == nullptr && !all_zero(piece)) {
      chunk = allocate_chunk(index);
      if (chunk == nullptr) return Unexpected{StoreError::kOutOfMemory};
    }
    if (chunk != nullptr) std::memcpy(chunk + within, piece.data(), length);
    data = data.subspan(length);
    offset += length;
  }
  return {};
}

void RamStore::discard(uint64_t offset, uint64_t length) {
  assert(offset <= size_ && length <= size_ - offset);
  while (length > 0) {
    const uint64_t index = offset >> chunk_shift_;
    const uint64_t within = offset & (chunk_size_ - 1);
    const uint64_t piece = std::min(length, chunk_size_ - within);
    uint8_t* chunk = table_[index];
    if (chunk != nullptr) {
      const bool whole_chunk = within == 0 && (piece == chunk_size_ || offset + piece == size_);
      if (whole_chunk) {
        std::free(chunk);
        table_[index] = nullptr;
        --committed_chunks_;
      } else {
        std::memset(chunk + within, 0, static_cast<size_t>(piece));
      }
    }
    length -= piece;
    offset += piece;
  }
}

}  // namespace isergw::backend_ram
