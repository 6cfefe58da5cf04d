#include "rdma/memory_region.h"

#include <cerrno>
#include <cstdio>

namespace isergw::rdma {

Expected<MemoryRegion, VerbsError> MemoryRegion::register_memory(ProtectionDomain& pd,
                                                                 void* address, std::size_t length,
                                                                 int access) {
  ibv_mr* mr = ibv_reg_mr(pd.get(), address, length, access);
  if (mr == nullptr) {
    const int err = errno;
    char where[64];
    std::snprintf(where, sizeof(where), " at %p on ", address);
    auto error = verbs_error("ibv_reg_mr", err, human_bytes(length) + where + pd.device().name());
    error.hint = memlock_hint(err, length, memlock_limit());
    return Unexpected{std::move(error)};
  }
  return MemoryRegion(mr);
}

MemoryRegion& MemoryRegion::operator=(MemoryRegion&& other) noexcept {
  if (this != &other) {
    if (mr_ != nullptr) ibv_dereg_mr(mr_);
    mr_ = other.mr_;
    other.mr_ = nullptr;
  }
  return *this;
}

MemoryRegion::~MemoryRegion() {
  if (mr_ != nullptr) ibv_dereg_mr(mr_);
}

}  // namespace isergw::rdma
