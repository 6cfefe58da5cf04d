#include "gateway/dpdk_memory.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <vector>

namespace isergw::gateway {
namespace {

std::once_flag started;
Expected<void, std::string> start_result;
bool uses_hugepages = false;

void start_once(const DpdkMemoryOptions& options) {
  uses_hugepages = !options.force_no_huge && hugepages_available();
  // Each gateway process has its own memory: no shared config file (which
  // also fails where /var/run is read-only), no telemetry socket, no PCI scan.
  std::vector<std::string> args = {"isergw",
                                   "--no-pci",
                                   "--no-shconf",
                                   "--no-telemetry",
                                   "-l",
                                   "0",
                                   "--log-level=lib.eal:error"};
  if (uses_hugepages) {
    args.push_back("--file-prefix=isergw-" + std::to_string(getpid()));
    args.push_back("--in-memory");
  } else {
    // --in-memory conflicts with --no-huge, which keeps memory in the process anyway.
    args.push_back("--no-huge");
    args.push_back("-m");
    args.push_back(std::to_string(options.no_huge_megabytes));
  }
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    start_result =
        Unexpected{std::string("DPDK memory could not start (") + rte_strerror(rte_errno) + "); " +
                   (uses_hugepages ? "hugepages were found" : "ran with --no-huge")};
  }
}

}  // namespace

bool hugepages_available() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long value = 0;
  while (meminfo >> key >> value) {
    if (key == "HugePages_Free:") return value > 0;
    meminfo.ignore(256, '\n');
  }
  return false;
}

Expected<void, std::string> start_dpdk_memory(const DpdkMemoryOptions& options) {
  std::call_once(started, start_once, options);
  return start_result;
}

bool dpdk_uses_hugepages() {
  return uses_hugepages;
}

}  // namespace isergw::gateway
