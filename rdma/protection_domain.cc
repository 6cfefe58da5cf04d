#include "rdma/protection_domain.h"

#include <cerrno>

namespace isergw::rdma {

Expected<std::unique_ptr<ProtectionDomain>, VerbsError> ProtectionDomain::allocate(Device& device) {
  ibv_pd* pd = ibv_alloc_pd(device.context());
  if (pd == nullptr) return Unexpected{verbs_error("ibv_alloc_pd", errno, device.name())};
  return std::unique_ptr<ProtectionDomain>(new ProtectionDomain(device, pd));
}

ProtectionDomain::~ProtectionDomain() {
  ibv_dealloc_pd(pd_);
}

}  // namespace isergw::rdma
