// How a worker posts its send lists on a device: from its loop, or from a
// posting thread of its own for that device (rdma/posting_thread.h).
//
// On hardware a post is a doorbell write, cheaper than any hand-off, so
// "auto" posts from the loop. On a soft device (rxe, siw) a post is a
// system call in which the kernel does the wire's work for the list, and
// the two costs trade places with the list's size: a list of a few small
// Sends and Writes is over before a hand-off would have woken the thread,
// while a list that sends a 128 KiB read's data stalls the loop, and with
// it the storage's next PDUs, for as long as the wire takes. So "auto"
// hands a soft device's list to the thread only when it sends
// kBulkListBytes or more, or when the thread still holds lists of that QP
// (they must go out in order); docs/PERFORMANCE.md has the measurements.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace isergw::rdma {

enum class PostingMode { kAuto, kThread, kInline };

inline std::string_view posting_mode_name(PostingMode mode) {
  switch (mode) {
    case PostingMode::kThread:
      return "thread";
    case PostingMode::kInline:
      return "inline";
    case PostingMode::kAuto:
      break;
  }
  return "auto";
}

inline std::optional<PostingMode> parse_posting_mode(std::string_view text) {
  for (PostingMode mode : {PostingMode::kAuto, PostingMode::kThread, PostingMode::kInline}) {
    if (text == posting_mode_name(mode)) return mode;
  }
  return std::nullopt;
}

// A list sending this much (RDMA Write and Send data) goes to the posting
// thread under "auto": a 64 KiB Write is 64 packets at rxe's usual MTU.
inline constexpr std::size_t kBulkListBytes = 64 * 1024;

// Whether a worker needs a posting thread for a device.
inline bool wants_posting_thread(PostingMode mode, bool soft_device) {
  return mode == PostingMode::kThread || (mode == PostingMode::kAuto && soft_device);
}

// Whether a list that sends `bytes` goes to the posting thread, where the
// device has one.
inline bool hands_over(PostingMode mode, std::size_t bytes) {
  return mode == PostingMode::kThread || bytes >= kBulkListBytes;
}

}  // namespace isergw::rdma
