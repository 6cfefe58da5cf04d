// Everything registered with one protection domain, and the keys of any
// address range inside it. The gateway registers each buffer pool's memory
// chunks once per PD at start-up (as SPDK does), so a work request finds its
// lkey (and a back leg its rkey) by address, and nothing is registered on
// the I/O path.
#pragma once

#include <infiniband/verbs.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "common/expected.h"
#include "rdma/memory_region.h"
#include "rdma/protection_domain.h"
#include "rdma/verbs_error.h"

namespace isergw::rdma {

struct MemoryKeys {
  std::uint32_t lkey = 0;
  std::uint32_t rkey = 0;

  friend bool operator==(const MemoryKeys&, const MemoryKeys&) = default;
};

// Disjoint address ranges and their keys; no verbs, so it is tested alone.
class RegionIndex {
 public:
  // False when the range overlaps one already there.
  bool add(std::uintptr_t base, std::size_t length, MemoryKeys keys);
  // The keys of the one range that holds all of [address, address + length);
  // nullopt when no range does (a range that straddles two registrations
  // needs two work requests' worth of SGEs, which the caller must split).
  std::optional<MemoryKeys> find(const void* address, std::size_t length) const;
  std::size_t size() const { return ranges_.size(); }

 private:
  struct Range {
    std::size_t length;
    MemoryKeys keys;
  };
  std::map<std::uintptr_t, Range> ranges_;
};

class MemoryMap {
 public:
  using ChunkVisitor = std::function<void(void*, std::size_t)>;

  MemoryMap(ProtectionDomain& pd, int access) : pd_(pd), access_(access) {}

  // Registers with the map's access, or with `access` where given (memory
  // a peer reads and writes, beside memory only this side's work touches).
  Expected<void, VerbsError> add(void* address, std::size_t length,
                                 std::optional<int> access = std::nullopt);

  // Registers every chunk a pool lists, e.g.
  //   map.add_chunks([&](auto& visit) { pool.for_each_memory_chunk(visit); });
  // Stops at the first failure, which names the chunk.
  Expected<void, VerbsError> add_chunks(const std::function<void(const ChunkVisitor&)>& for_each,
                                        std::optional<int> access = std::nullopt);

  std::optional<MemoryKeys> find(const void* address, std::size_t length) const {
    return index_.find(address, length);
  }
  // One scatter-gather entry for a range inside the map.
  std::optional<ibv_sge> sge(const void* address, std::uint32_t length) const;

  std::size_t registered_bytes() const { return registered_bytes_; }
  std::size_t region_count() const { return regions_.size(); }
  ProtectionDomain& protection_domain() const { return pd_; }

 private:
  ProtectionDomain& pd_;
  int access_;
  std::vector<MemoryRegion> regions_;
  RegionIndex index_;
  std::size_t registered_bytes_ = 0;
};

}  // namespace isergw::rdma
