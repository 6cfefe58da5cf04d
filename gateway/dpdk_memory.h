// Starts DPDK's environment abstraction layer once per process, for its
// memory only: the gateway uses DPDK for hugepage-backed buffer pools, not for
// its threads or its devices.
#pragma once

#include <cstddef>
#include <string>

#include "common/expected.h"

namespace isergw::gateway {

struct DpdkMemoryOptions {
  // Memory to reserve when hugepages are absent and EAL runs with --no-huge.
  size_t no_huge_megabytes = 256;
  // Force --no-huge even where hugepages exist (tests, small machines).
  bool force_no_huge = false;
};

// Whether the kernel has free hugepages for DPDK to use.
bool hugepages_available();

// Starts EAL, with hugepages if there are any and with --no-huge otherwise.
// Later calls return the first call's result: EAL cannot start twice.
Expected<void, std::string> start_dpdk_memory(const DpdkMemoryOptions& options);

// Whether the running EAL uses hugepages (false under --no-huge).
bool dpdk_uses_hugepages();

}  // namespace isergw::gateway
