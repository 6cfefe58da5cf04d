// The URLs that name a built-in back end in the configuration: ram://SIZE
// and null://SIZE, SIZE in bytes or with a K, M, G or T suffix (powers of
// 1024; KiB, MiB, GiB and TiB are accepted too).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "backend_ram/scsi_disk.h"
#include "common/expected.h"

namespace isergw::backend_ram {

enum class BackendKind : uint8_t { kRam, kNull };

struct BackendUrl {
  BackendKind kind;
  uint64_t size;  // bytes, a positive multiple of the block size
  friend bool operator==(const BackendUrl&, const BackendUrl&) = default;
};

// True for ram:// and null:// URLs, whether or not the rest is valid: lets
// the caller tell "built-in" from "some other back end" before parsing.
bool is_builtin_url(std::string_view url);

// The error says what was wrong and what would be right, for the admin.
Expected<BackendUrl, std::string> parse_backend_url(std::string_view url,
                                                    uint32_t block_size = 512);

// The disk a parsed URL describes: a sparse RamStore or a NullStore behind it.
Expected<ScsiDisk, std::string> open_backend(const BackendUrl& url, DiskConfig config);

}  // namespace isergw::backend_ram
