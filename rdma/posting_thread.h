// Posts send-queue work for one worker's QPs on a device from a thread of
// its own, for soft RDMA devices.
//
// On rxe and siw, posting a user QP's send list is a system call in which
// the kernel does the wire's work for the whole list: it builds and
// checksums the packets and, over a veth pair or loopback, delivers them
// and runs the peer's receive processing too, all on the posting thread
// (rxe_verbs.c: "Utilize process context to do protocol processing"; siw
// sends a user QP's queue in the system call likewise). On the worker's
// own thread that stalls its loop, and with it every other PDU of its
// sessions, for as long as the wire takes. Handed here, that work runs
// beside the loop, as a kernel target's runs in the kernel's tasklets. On
// hardware a post is a write to a doorbell page, and none of this is used.
//
// Lists for one QP are posted in the order they were handed over; lists
// that wait behind one being posted are joined into one post.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "rdma/send_queue.h"
#include "rdma/verbs_error.h"

namespace isergw::rdma {

class PostingThread {
 public:
  // Runs on the posting thread when a list could not be posted: the
  // requests before the failed one went, the rest did not.
  using FailureSink = std::function<void(const VerbsError&)>;

  PostingThread();
  // Posts what is still queued, then joins.
  ~PostingThread();
  PostingThread(const PostingThread&) = delete;
  PostingThread& operator=(const PostingThread&) = delete;

  // Queues `work` for `queue`, after every list queued for it before, and
  // leaves `work` empty, its capacity kept for the next turn's list.
  void post(SendQueue& queue, std::vector<SendWork>& work,
            std::shared_ptr<const FailureSink> failed);

  // Drops what is queued for `queue` and waits until no list of it is being
  // posted; after it the queue may be destroyed.
  void forget(const SendQueue& queue);

  // Whether lists of `queue` are queued or being posted: a list posted
  // elsewhere meanwhile could overtake them.
  bool holds(const SendQueue& queue) const;

  // Posts made so far (lists joined count once), for tests.
  std::uint64_t posts() const;

 private:
  struct Job {
    SendQueue* queue;
    std::vector<SendWork> work;
    std::shared_ptr<const FailureSink> failed;
  };

  void run();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable posted_;
  std::deque<Job> jobs_;
  const SendQueue* posting_ = nullptr;
  // Lists already posted, kept so that handing over costs no allocation.
  std::vector<std::vector<SendWork>> spare_;
  std::uint64_t posts_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace isergw::rdma
