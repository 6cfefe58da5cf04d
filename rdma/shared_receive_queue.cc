#include "rdma/shared_receive_queue.h"

#include <cerrno>

namespace isergw::rdma {

Expected<std::unique_ptr<SharedReceiveQueue>, VerbsError> SharedReceiveQueue::create(
    ProtectionDomain& pd, std::uint32_t max_wr, std::uint32_t max_sge) {
  ibv_srq_init_attr attributes{};
  attributes.attr.max_wr = max_wr;
  attributes.attr.max_sge = max_sge;
  ibv_srq* srq = ibv_create_srq(pd.get(), &attributes);
  if (srq == nullptr) {
    return Unexpected{verbs_error("ibv_create_srq", errno,
                                  std::to_string(max_wr) + " receives on " + pd.device().name())};
  }
  return std::unique_ptr<SharedReceiveQueue>(new SharedReceiveQueue(srq));
}

SharedReceiveQueue::~SharedReceiveQueue() {
  ibv_destroy_srq(srq_);
}

Expected<void, VerbsError> SharedReceiveQueue::post_receive(std::uint64_t wr_id,
                                                            std::span<const ibv_sge> sges) {
  ibv_recv_wr wr{};
  wr.wr_id = wr_id;
  wr.sg_list = const_cast<ibv_sge*>(sges.data());
  wr.num_sge = static_cast<int>(sges.size());
  ibv_recv_wr* bad = nullptr;
  if (int err = ibv_post_srq_recv(srq_, &wr, &bad); err != 0) {
    return Unexpected{verbs_error("ibv_post_srq_recv", err)};
  }
  return {};
}

}  // namespace isergw::rdma
