#include "rdma/send_queue.h"

namespace isergw::rdma {

Expected<void, VerbsError> post_work(SendQueue& queue, std::vector<SendWork>& work) {
  if (work.empty()) return {};
  for (size_t i = 0; i < work.size(); ++i) {
    work[i].request.sg_list = &work[i].sge;
    work[i].request.num_sge = 1;
    work[i].request.next = i + 1 < work.size() ? &work[i + 1].request : nullptr;
  }
  return queue.post_list(work.front().request);
}

std::size_t bytes_sent_by(const std::vector<SendWork>& work) {
  std::size_t bytes = 0;
  for (const SendWork& one : work) {
    if (one.request.opcode != IBV_WR_RDMA_READ) bytes += one.sge.length;
  }
  return bytes;
}

}  // namespace isergw::rdma
