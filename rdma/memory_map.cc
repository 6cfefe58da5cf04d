#include "rdma/memory_map.h"

#include <cerrno>
#include <cstdio>

namespace isergw::rdma {

bool RegionIndex::add(std::uintptr_t base, std::size_t length, MemoryKeys keys) {
  if (length == 0) return false;
  auto next = ranges_.lower_bound(base);
  if (next != ranges_.end() && next->first < base + length) return false;
  if (next != ranges_.begin()) {
    auto previous = std::prev(next);
    if (previous->first + previous->second.length > base) return false;
  }
  ranges_.emplace_hint(next, base, Range{length, keys});
  return true;
}

std::optional<MemoryKeys> RegionIndex::find(const void* address, std::size_t length) const {
  const auto start = reinterpret_cast<std::uintptr_t>(address);
  auto after = ranges_.upper_bound(start);
  if (after == ranges_.begin()) return std::nullopt;
  const auto& [base, range] = *std::prev(after);
  const std::uintptr_t end = base + range.length;
  if (start >= end || length > end - start) return std::nullopt;
  return range.keys;
}

Expected<void, VerbsError> MemoryMap::add(void* address, std::size_t length,
                                          std::optional<int> access) {
  auto region = MemoryRegion::register_memory(pd_, address, length, access.value_or(access_));
  if (!region) return Unexpected{region.error()};
  if (!index_.add(reinterpret_cast<std::uintptr_t>(address), length,
                  {region->lkey(), region->rkey()})) {
    char where[64];
    std::snprintf(where, sizeof(where), " at %p", address);
    return Unexpected{verbs_error("MemoryMap::add", EEXIST,
                                  human_bytes(length) + where + " overlaps a registered range")};
  }
  registered_bytes_ += length;
  regions_.push_back(std::move(*region));
  return {};
}

Expected<void, VerbsError> MemoryMap::add_chunks(
    const std::function<void(const ChunkVisitor&)>& for_each, std::optional<int> access) {
  std::optional<VerbsError> failure;
  for_each([&](void* address, std::size_t length) {
    if (failure) return;
    if (auto ok = add(address, length, access); !ok) failure = ok.error();
  });
  if (failure) return Unexpected{std::move(*failure)};
  return {};
}

std::optional<ibv_sge> MemoryMap::sge(const void* address, std::uint32_t length) const {
  auto keys = find(address, length);
  if (!keys) return std::nullopt;
  return ibv_sge{
      .addr = reinterpret_cast<std::uint64_t>(address), .length = length, .lkey = keys->lkey};
}

}  // namespace isergw::rdma
