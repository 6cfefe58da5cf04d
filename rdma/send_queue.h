// A QP's send queue as the posting code sees it: something that takes a
// linked list of send work requests in one post. QueuePair is the real one;
// tests stand in their own.
#pragma once

#include <infiniband/verbs.h>

#include <cstddef>
#include <vector>

#include "common/expected.h"
#include "rdma/verbs_error.h"

namespace isergw::rdma {

// One send work request and its one gather entry, unlinked: a list is
// linked only where it is posted, once its storage no longer moves.
struct SendWork {
  ibv_send_wr request;
  ibv_sge sge;
};

class SendQueue {
 public:
  virtual ~SendQueue() = default;
  // Posts `first` and every request chained behind it.
  virtual Expected<void, VerbsError> post_list(ibv_send_wr& first) = 0;
};

// Links `work` (request i's sg_list to its own sge, next to request i + 1)
// and posts it as one list: one doorbell for all of it.
Expected<void, VerbsError> post_work(SendQueue& queue, std::vector<SendWork>& work);

// The bytes posting `work` puts on the wire: its RDMA Writes' and Sends'
// data (an RDMA Read sends only its request).
std::size_t bytes_sent_by(const std::vector<SendWork>& work);

}  // namespace isergw::rdma
