#include "rdma/posting_thread.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

namespace isergw::rdma {
namespace {

// Enough for the lists in hand at once: the one being posted, the one
// queued behind it, and the worker's own.
constexpr size_t kSpareLists = 4;

}  // namespace

PostingThread::PostingThread() : thread_([this] { run(); }) {
  // The name shows in top -H and perf beside the worker it serves.
  pthread_setname_np(thread_.native_handle(), "isergw-post");
}

PostingThread::~PostingThread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void PostingThread::post(SendQueue& queue, std::vector<SendWork>& work,
                         std::shared_ptr<const FailureSink> failed) {
  if (work.empty()) return;
  {
    std::lock_guard lock(mutex_);
    // Still waiting behind the list being posted: one post takes both.
    if (!jobs_.empty() && jobs_.back().queue == &queue) {
      std::vector<SendWork>& queued = jobs_.back().work;
      queued.insert(queued.end(), work.begin(), work.end());
      work.clear();
      return;
    }
    std::vector<SendWork> list;
    if (!spare_.empty()) {
      list = std::move(spare_.back());
      spare_.pop_back();
    }
    std::swap(list, work);
    jobs_.push_back({&queue, std::move(list), std::move(failed)});
  }
  wake_.notify_one();
}

void PostingThread::forget(const SendQueue& queue) {
  std::unique_lock lock(mutex_);
  std::erase_if(jobs_, [&](const Job& job) { return job.queue == &queue; });
  posted_.wait(lock, [&] { return posting_ != &queue; });
}

bool PostingThread::holds(const SendQueue& queue) const {
  std::lock_guard lock(mutex_);
  return posting_ == &queue || std::any_of(jobs_.begin(), jobs_.end(),
                                           [&](const Job& job) { return job.queue == &queue; });
}

std::uint64_t PostingThread::posts() const {
  std::lock_guard lock(mutex_);
  return posts_;
}

void PostingThread::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    posting_ = job.queue;
    lock.unlock();

    auto result = post_work(*job.queue, job.work);
    if (!result && job.failed) (*job.failed)(result.error());
    job.work.clear();

    lock.lock();
    ++posts_;
    posting_ = nullptr;
    if (spare_.size() < kSpareLists) spare_.push_back(std::move(job.work));
    posted_.notify_all();
  }
}

}  // namespace isergw::rdma
