#include "rdma/verbs_error.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace isergw::rdma {

std::string VerbsError::describe() const {
  std::string text = verb;
  if (!context.empty()) text += " (" + context + ")";
  text += ": ";
  text += std::strerror(error_number);
  if (const char* name = strerrorname_np(error_number)) {
    text += " [";
    text += name;
    text += "]";
  }
  if (!hint.empty()) text += "; " + hint;
  return text;
}

VerbsError verbs_error(std::string_view verb, int error_number, std::string context) {
  return VerbsError{std::string(verb), error_number, std::move(context), {}};
}

std::optional<std::uint64_t> memlock_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return std::nullopt;
  }
  return limit.rlim_cur;
}

std::string human_bytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (unit < 4 && bytes >= 1024 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++unit;
  }
  return std::to_string(bytes) + " " + kUnits[unit];
}

std::string memlock_hint(int error_number, std::size_t bytes, std::optional<std::uint64_t> limit) {
  if (error_number != ENOMEM && error_number != EPERM && error_number != EAGAIN) return {};
  if (!limit) return {};
  return "RLIMIT_MEMLOCK is " + human_bytes(*limit) + " and this registration is " +
         human_bytes(bytes) +
         ": soft-iWARP (siw) counts registered memory against it even for root, and other "
         "devices do without CAP_IPC_LOCK; raise it (ulimit -l unlimited, or "
         "LimitMEMLOCK=infinity in the systemd unit)";
}

}  // namespace isergw::rdma
