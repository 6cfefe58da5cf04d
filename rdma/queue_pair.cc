#include "rdma/queue_pair.h"

#include <cerrno>

namespace isergw::rdma {

Expected<std::unique_ptr<QueuePair>, VerbsError> QueuePair::create(
    CmId& id, ProtectionDomain& pd, const QueuePairOptions& options) {
  ibv_qp_init_attr attributes{};
  attributes.send_cq = options.send_cq ? options.send_cq->get() : nullptr;
  attributes.recv_cq = options.receive_cq ? options.receive_cq->get() : nullptr;
  attributes.qp_type = IBV_QPT_RC;
  attributes.cap.max_send_wr = options.max_send_wr;
  attributes.cap.max_recv_wr = options.max_receive_wr;
  attributes.cap.max_send_sge = options.max_send_sge;
  attributes.cap.max_recv_sge = options.max_receive_sge;
  attributes.cap.max_inline_data = options.max_inline_data;
  // Only signaled work requests complete, so a Write ahead of its Send
  // costs no completion.
  attributes.sq_sig_all = 0;
  if (rdma_create_qp(id.get(), pd.get(), &attributes) != 0) {
    return Unexpected{verbs_error("rdma_create_qp", errno,
                                  std::to_string(options.max_send_wr) + " send and " +
                                      std::to_string(options.max_receive_wr) +
                                      " receive entries on " + pd.device().name())};
  }
  return std::unique_ptr<QueuePair>(new QueuePair(id, id.get()->qp));
}

QueuePair::~QueuePair() {
  if (id_.get()->qp == qp_) rdma_destroy_qp(id_.get());
}

Expected<void, VerbsError> QueuePair::post_receive(std::uint64_t wr_id,
                                                   std::span<const ibv_sge> sges) {
  ibv_recv_wr wr{};
  wr.wr_id = wr_id;
  wr.sg_list = const_cast<ibv_sge*>(sges.data());
  wr.num_sge = static_cast<int>(sges.size());
  ibv_recv_wr* bad = nullptr;
  if (int err = ibv_post_recv(qp_, &wr, &bad); err != 0) {
    return Unexpected{verbs_error("ibv_post_recv", err, "QP " + std::to_string(number()))};
  }
  return {};
}

Expected<void, VerbsError> QueuePair::post(ibv_send_wr& wr, const char* what) {
  ibv_send_wr* bad = nullptr;
  if (int err = ibv_post_send(qp_, &wr, &bad); err != 0) {
    return Unexpected{verbs_error("ibv_post_send", err,
                                  std::string(what) + " on QP " + std::to_string(number()))};
  }
  return {};
}

ibv_send_wr QueuePair::send_request(std::uint64_t wr_id, std::span<const ibv_sge> sges,
                                    bool signaled) {
  ibv_send_wr wr{};
  wr.wr_id = wr_id;
  wr.sg_list = const_cast<ibv_sge*>(sges.data());
  wr.num_sge = static_cast<int>(sges.size());
  wr.opcode = IBV_WR_SEND;
  wr.send_flags = signaled ? IBV_SEND_SIGNALED : 0;
  return wr;
}

ibv_send_wr QueuePair::send_with_invalidate_request(std::uint64_t wr_id,
                                                    std::span<const ibv_sge> sges,
                                                    std::uint32_t rkey_to_invalidate) {
  ibv_send_wr wr = send_request(wr_id, sges, true);
  wr.opcode = IBV_WR_SEND_WITH_INV;
  wr.invalidate_rkey = rkey_to_invalidate;
  // libsiw (rdma-core 44) sends the STag in wr.rdma.rkey instead, so without
  // it the host is asked to invalidate STag 0 and fails the receive with a
  // remote invalid request error. Other providers do not read wr.rdma for a
  // Send.
  wr.wr.rdma.rkey = rkey_to_invalidate;
  return wr;
}

ibv_send_wr QueuePair::rdma_write_request(std::uint64_t wr_id, std::span<const ibv_sge> sges,
                                          std::uint64_t remote_address, std::uint32_t rkey,
                                          bool signaled) {
  ibv_send_wr wr = send_request(wr_id, sges, signaled);
  wr.opcode = IBV_WR_RDMA_WRITE;
  wr.wr.rdma.remote_addr = remote_address;
  wr.wr.rdma.rkey = rkey;
  return wr;
}

ibv_send_wr QueuePair::rdma_read_request(std::uint64_t wr_id, std::span<const ibv_sge> sges,
                                         std::uint64_t remote_address, std::uint32_t rkey) {
  ibv_send_wr wr = send_request(wr_id, sges, true);
  wr.opcode = IBV_WR_RDMA_READ;
  wr.wr.rdma.remote_addr = remote_address;
  wr.wr.rdma.rkey = rkey;
  return wr;
}

Expected<void, VerbsError> QueuePair::post_send(std::uint64_t wr_id, std::span<const ibv_sge> sges,
                                                bool signaled) {
  ibv_send_wr wr = send_request(wr_id, sges, signaled);
  return post(wr, "Send");
}

Expected<void, VerbsError> QueuePair::post_send_with_invalidate(std::uint64_t wr_id,
                                                                std::span<const ibv_sge> sges,
                                                                std::uint32_t rkey_to_invalidate) {
  ibv_send_wr wr = send_with_invalidate_request(wr_id, sges, rkey_to_invalidate);
  return post(wr, "Send with Invalidate");
}

Expected<void, VerbsError> QueuePair::post_rdma_write(std::uint64_t wr_id,
                                                      std::span<const ibv_sge> sges,
                                                      std::uint64_t remote_address,
                                                      std::uint32_t rkey, bool signaled) {
  ibv_send_wr wr = rdma_write_request(wr_id, sges, remote_address, rkey, signaled);
  return post(wr, "RDMA Write");
}

Expected<void, VerbsError> QueuePair::post_rdma_read(std::uint64_t wr_id,
                                                     std::span<const ibv_sge> sges,
                                                     std::uint64_t remote_address,
                                                     std::uint32_t rkey) {
  ibv_send_wr wr = rdma_read_request(wr_id, sges, remote_address, rkey);
  return post(wr, "RDMA Read");
}

Expected<void, VerbsError> QueuePair::post_list(ibv_send_wr& first) {
  return post(first, "a list of work requests");
}

}  // namespace isergw::rdma
