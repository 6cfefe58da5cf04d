#include "backend_ram/backend_url.h"

#include <array>
#include <cctype>
#include <memory>

#include "backend_ram/null_store.h"
#include "backend_ram/ram_store.h"

namespace isergw::backend_ram {
namespace {

constexpr std::string_view kRamScheme = "ram://";
constexpr std::string_view kNullScheme = "null://";

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// 0 when the suffix is not one we know.
unsigned suffix_shift(std::string_view suffix) {
  struct Unit {
    std::string_view short_form;
    std::string_view long_form;
    unsigned shift;
  };
  static constexpr std::array<Unit, 4> kUnits = {{
      {"K", "KiB", 10},
      {"M", "MiB", 20},
      {"G", "GiB", 30},
      {"T", "TiB", 40},
  }};
  for (const Unit& unit : kUnits) {
    if (equals_ignoring_case(suffix, unit.short_form) ||
        equals_ignoring_case(suffix, unit.long_form)) {
      return unit.shift;
    }
  }
  return 0;
}

}  // namespace

bool is_builtin_url(std::string_view url) {
  return url.starts_with(kRamScheme) || url.starts_with(kNullScheme);
}

Expected<BackendUrl, std::string> parse_backend_url(std::string_view url, uint32_t block_size) {
  if (block_size != 512 && block_size != 4096) {
    return Unexpected{"block size " + std::to_string(block_size) +
                      " is not supported; use 512 or 4096"};
  }
  BackendKind kind;
  std::string_view scheme;
  if (url.starts_with(kRamScheme)) {
    kind = BackendKind::kRam;
    scheme = kRamScheme;
  } else if (url.starts_with(kNullScheme)) {
    kind = BackendKind::kNull;
    scheme = kNullScheme;
  } else {
    return Unexpected{"'" + std::string(url) +
                      "' is not a built-in back end; use ram://SIZE or null://SIZE"};
  }
  const std::string_view size_text = url.substr(scheme.size());
  const std::string prefix = std::string(scheme) + " size";
  if (size_text.empty()) {
    return Unexpected{std::string(scheme) + " needs a size, e.g. " + std::string(scheme) + "1G"};
  }
  size_t digits = 0;
  uint64_t number = 0;
  while (digits < size_text.size() && size_text[digits] >= '0' && size_text[digits] <= '9') {
    const uint64_t digit = static_cast<uint64_t>(size_text[digits] - '0');
    if (number > (UINT64_MAX - digit) / 10) {
      return Unexpected{prefix + " '" + std::string(size_text) + "' is too large"};
    }
    number = number * 10 + digit;
    ++digits;
  }
  if (digits == 0) {
    return Unexpected{prefix + " '" + std::string(size_text) +
                      "' is not a number; use bytes or a number with K, M, G or T"};
  }
  const std::string_view suffix = size_text.substr(digits);
  uint64_t size = number;
  if (!suffix.empty()) {
    const unsigned shift = suffix_shift(suffix);
    if (shift == 0) {
      return Unexpected{prefix + " '" + std::string(size_text) + "' has an unknown suffix '" +
                        std::string(suffix) + "'; use K, M, G or T"};
    }
    if (number > (UINT64_MAX >> shift)) {
      return Unexpected{prefix + " '" + std::string(size_text) + "' is too large"};
    }
    size = number << shift;
  }
  if (size == 0) return Unexpected{prefix + " must not be zero"};
  if (size % block_size != 0) {
    return Unexpected{prefix + " '" + std::string(size_text) + "' (" + std::to_string(size) +
                      " bytes) is not a multiple of the " + std::to_string(block_size) +
                      "-byte block size"};
  }
  return BackendUrl{kind, size};
}

Expected<ScsiDisk, std::string> open_backend(const BackendUrl& url, DiskConfig config) {
  if (url.kind == BackendKind::kNull) {
    if (config.product == DiskConfig{}.product) config.product = "NULL DISK";
    return ScsiDisk::create(std::move(config), std::make_unique<NullStore>(url.size));
  }
  auto store = RamStore::create(url.size);
  if (!store) return Unexpected{store.error()};
  return ScsiDisk::create(std::move(config), std::move(store).value());
}

}  // namespace isergw::backend_ram
