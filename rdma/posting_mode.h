// Whether a worker posts its send lists on a device from a thread of its
// own (rdma/posting_thread.h) or from its loop. "auto" posts from the loop:
// on hardware a post is a doorbell write, cheaper than any hand-off, and on
// soft devices (rxe, siw), where a post is the wire's work done in a system
// call, the hand-off measured dearer than the stall it spares once a
// polled batch's commands leave in one post and one write
// (docs/PERFORMANCE.md). The thread stays for hosts with cores to spare.
#pragma once

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

inline bool posts_from_thread(PostingMode mode) {
  return mode == PostingMode::kThread;
}

}  // namespace isergw::rdma
