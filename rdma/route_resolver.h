// Which RDMA device the CM would take to reach an address, found the way a
// connect finds it (address resolution, then route resolution) but without
// connecting: for health checks, off the I/O path. Blocking.
#pragma once

#include <chrono>
#include <string>

#include "common/expected.h"
#include "rdma/cm_id.h"

namespace isergw::rdma {

// The device's name (rxe0, siw2, mlx5_0, ...), or why there is none: no
// RDMA CM on this machine, no device that reaches the address, or no answer
// within `timeout`.
Expected<std::string, std::string> resolve_rdma_route(SocketAddress destination,
                                                      std::chrono::milliseconds timeout);

}  // namespace isergw::rdma
