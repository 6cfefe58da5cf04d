// A portal the gateway listens on, whatever its fabric: a TCP listener or
// an iSER listener on the RDMA CM.
#pragma once

#include <cstdint>

#include "gateway/portal_address.h"

namespace isergw::gateway {

class Portal {
 public:
  virtual ~Portal() = default;
  virtual const PortalAddress& address() const = 0;
  // The bound port (differs from address().port when that was 0).
  virtual uint16_t bound_port() const = 0;
  virtual void close() = 0;
};

}  // namespace isergw::gateway
