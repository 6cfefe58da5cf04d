// A protection domain: the scope of memory registrations and QPs. The gateway
// allocates one per device and registers its buffer pools into it once.
#pragma once

#include <infiniband/verbs.h>

#include <memory>

#include "common/expected.h"
#include "rdma/device.h"
#include "rdma/verbs_error.h"

namespace isergw::rdma {

class ProtectionDomain {
 public:
  static Expected<std::unique_ptr<ProtectionDomain>, VerbsError> allocate(Device& device);
  ~ProtectionDomain();
  ProtectionDomain(const ProtectionDomain&) = delete;
  ProtectionDomain& operator=(const ProtectionDomain&) = delete;

  ibv_pd* get() const { return pd_; }
  Device& device() const { return device_; }

 private:
  ProtectionDomain(Device& device, ibv_pd* pd) : device_(device), pd_(pd) {}

  Device& device_;
  ibv_pd* pd_;
};

}  // namespace isergw::rdma
