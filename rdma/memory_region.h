// One registered memory region. The gateway registers whole pool chunks at
// start-up through MemoryMap, never per I/O.
#pragma once

#include <infiniband/verbs.h>

#include <cstddef>
#include <cstdint>

#include "common/expected.h"
#include "rdma/protection_domain.h"
#include "rdma/verbs_error.h"

namespace isergw::rdma {

// Access for memory that only this side's work requests touch, plus the
// target of the peer's RDMA Reads and Writes where a back leg advertises it.
inline constexpr int kLocalAccess = IBV_ACCESS_LOCAL_WRITE;
inline constexpr int kRemoteAccess =
    IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE;

// The access a buffer that receives RDMA Read data needs: iWARP writes Read
// responses into it as tagged RDMA Writes, so it needs REMOTE_WRITE there.
inline int read_sink_access(const Device& device) {
  return device.is_iwarp() ? kLocalAccess | IBV_ACCESS_REMOTE_WRITE : kLocalAccess;
}

class MemoryRegion {
 public:
  // A failure with ENOMEM or EPERM carries a hint when RLIMIT_MEMLOCK may be
  // the cause.
  static Expected<MemoryRegion, VerbsError> register_memory(ProtectionDomain& pd, void* address,
                                                            std::size_t length, int access);
  MemoryRegion(MemoryRegion&& other) noexcept : mr_(other.mr_) { other.mr_ = nullptr; }
  MemoryRegion& operator=(MemoryRegion&& other) noexcept;
  MemoryRegion(const MemoryRegion&) = delete;
  MemoryRegion& operator=(const MemoryRegion&) = delete;
  ~MemoryRegion();

  std::uint32_t lkey() const { return mr_->lkey; }
  std::uint32_t rkey() const { return mr_->rkey; }
  void* address() const { return mr_->addr; }
  std::size_t length() const { return mr_->length; }

 private:
  explicit MemoryRegion(ibv_mr* mr) : mr_(mr) {}

  ibv_mr* mr_;
};

}  // namespace isergw::rdma
