// A reliable-connected QP made on a CM id, so the CM drives its state
// transitions, with the work requests iSER needs: Send (and Send with
// Invalidate for the SCSI Response), RDMA Write, RDMA Read and receives.
// Destroy it before its CM id.
#pragma once

#include <infiniband/verbs.h>

#include <cstdint>
#include <memory>
#include <span>

#include "common/expected.h"
#include "rdma/cm_id.h"
#include "rdma/completion_queue.h"
#include "rdma/protection_domain.h"
#include "rdma/send_queue.h"
#include "rdma/verbs_error.h"

namespace isergw::rdma {

struct QueuePairOptions {
  CompletionQueue* send_cq = nullptr;
  CompletionQueue* receive_cq = nullptr;
  std::uint32_t max_send_wr = 64;
  std::uint32_t max_receive_wr = 64;
  std::uint32_t max_send_sge = 2;
  std::uint32_t max_receive_sge = 1;
  std::uint32_t max_inline_data = 0;
};

class QueuePair : public SendQueue {
 public:
  static Expected<std::unique_ptr<QueuePair>, VerbsError> create(CmId& id, ProtectionDomain& pd,
                                                                 const QueuePairOptions& options);
  ~QueuePair() override;
  QueuePair(const QueuePair&) = delete;
  QueuePair& operator=(const QueuePair&) = delete;

  ibv_qp* get() const { return qp_; }
  std::uint32_t number() const { return qp_->qp_num; }

  Expected<void, VerbsError> post_receive(std::uint64_t wr_id, std::span<const ibv_sge> sges);
  Expected<void, VerbsError> post_send(std::uint64_t wr_id, std::span<const ibv_sge> sges,
                                       bool signaled = true);
  // Invalidates the peer's rkey as the Send lands (RFC 7145): only
  // toward an initiator whose CM private data allowed it.
  Expected<void, VerbsError> post_send_with_invalidate(std::uint64_t wr_id,
                                                       std::span<const ibv_sge> sges,
                                                       std::uint32_t rkey_to_invalidate);
  // A Write posted before a Send on the same QP lands before it, so a read's
  // data needs no completion of its own before the SCSI Response goes.
  Expected<void, VerbsError> post_rdma_write(std::uint64_t wr_id, std::span<const ibv_sge> sges,
                                             std::uint64_t remote_address, std::uint32_t rkey,
                                             bool signaled = false);
  Expected<void, VerbsError> post_rdma_read(std::uint64_t wr_id, std::span<const ibv_sge> sges,
                                            std::uint64_t remote_address, std::uint32_t rkey);

  // The same work requests, built to be chained (wr.next) and posted as one
  // list: one doorbell for many. `sges` must outlive the post.
  static ibv_send_wr send_request(std::uint64_t wr_id, std::span<const ibv_sge> sges,
                                  bool signaled);
  static ibv_send_wr send_with_invalidate_request(std::uint64_t wr_id,
                                                  std::span<const ibv_sge> sges,
                                                  std::uint32_t rkey_to_invalidate);
  static ibv_send_wr rdma_write_request(std::uint64_t wr_id, std::span<const ibv_sge> sges,
                                        std::uint64_t remote_address, std::uint32_t rkey,
                                        bool signaled);
  static ibv_send_wr rdma_read_request(std::uint64_t wr_id, std::span<const ibv_sge> sges,
                                       std::uint64_t remote_address, std::uint32_t rkey);
  Expected<void, VerbsError> post_list(ibv_send_wr& first) override;

 private:
  QueuePair(CmId& id, ibv_qp* qp) : id_(id), qp_(qp) {}
  Expected<void, VerbsError> post(ibv_send_wr& wr, const char* what);

  CmId& id_;
  ibv_qp* qp_;
};

}  // namespace isergw::rdma
