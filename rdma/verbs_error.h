// Errors from ibverbs and rdmacm, as one line an admin can act on: the verb
// that failed, what it was doing, errno by name, and for memory registration
// whether RLIMIT_MEMLOCK is the likely cause.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace isergw::rdma {

struct VerbsError {
  std::string verb;      // e.g. "ibv_reg_mr"
  int error_number = 0;  // an errno value
  std::string context;   // e.g. "64 MiB at 0x7f3c00000000 on rxe0"
  std::string hint;      // what to do about it, when we know

  // "ibv_reg_mr (64 MiB at 0x7f3c00000000 on rxe0): Cannot allocate memory
  // [ENOMEM]; RLIMIT_MEMLOCK is ...".
  std::string describe() const;
};

VerbsError verbs_error(std::string_view verb, int error_number, std::string context = {});

// The soft RLIMIT_MEMLOCK in bytes; nullopt when unlimited.
std::optional<std::uint64_t> memlock_limit();

// Why a registration of `bytes` that failed with error_number may have hit
// RLIMIT_MEMLOCK, or "" when the limit cannot be the cause. siw (soft-iWARP)
// counts registered memory against the limit even for root, and rxe and
// hardware drivers do for a process without CAP_IPC_LOCK; the kernel then
// answers ENOMEM (or EPERM), which reads like an out-of-memory condition.
std::string memlock_hint(int error_number, std::size_t bytes, std::optional<std::uint64_t> limit);

// "64 MiB", "4 KiB", "100 B": sizes in error messages.
std::string human_bytes(std::uint64_t bytes);

}  // namespace isergw::rdma
