// A shared receive queue: one pool of posted receives for many QPs, so a
// worker with many iSER connections does not keep a full CmdSN window of
// receives posted on each of them.
#pragma once

#include <infiniband/verbs.h>

#include <cstdint>
#include <memory>
#include <span>

#include "common/expected.h"
#include "rdma/protection_domain.h"
#include "rdma/verbs_error.h"

namespace isergw::rdma {

class SharedReceiveQueue {
 public:
  static Expected<std::unique_ptr<SharedReceiveQueue>, VerbsError> create(ProtectionDomain& pd,
                                                                          std::uint32_t max_wr,
                                                                          std::uint32_t max_sge);
  ~SharedReceiveQueue();
  SharedReceiveQueue(const SharedReceiveQueue&) = delete;
  SharedReceiveQueue& operator=(const SharedReceiveQueue&) = delete;

  ibv_srq* get() const { return srq_; }
  Expected<void, VerbsError> post_receive(std::uint64_t wr_id, std::span<const ibv_sge> sges);

 private:
  explicit SharedReceiveQueue(ibv_srq* srq) : srq_(srq) {}

  ibv_srq* srq_;
};

}  // namespace isergw::rdma
