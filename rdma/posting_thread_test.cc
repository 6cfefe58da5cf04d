#include "rdma/posting_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace isergw::rdma {
namespace {

using Ids = std::vector<std::uint64_t>;

// A send queue that records the lists posted to it, checks they are linked
// as one list, and can hold the posting thread inside a post until the test
// lets it go.
class RecordingQueue : public SendQueue {
 public:
  Expected<void, VerbsError> post_list(ibv_send_wr& first) override {
    Ids ids;
    for (const ibv_send_wr* wr = &first; wr != nullptr; wr = wr->next) {
      ids.push_back(wr->wr_id);
      if (wr->num_sge != 1 || wr->sg_list->addr != address_of(wr->wr_id)) badly_linked_ = true;
    }
    std::unique_lock lock(mutex_);
    posting_thread_ = std::this_thread::get_id();
    inside_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !holding_; });
    lists_.push_back(ids);
    inside_ = false;
    changed_.notify_all();
    if (failing_) return Unexpected{verbs_error("ibv_post_send", ENOMEM, "test queue")};
    return {};
  }

  static std::uint64_t address_of(std::uint64_t id) { return 0x1000 + id * 16; }

  void hold() {
    std::lock_guard lock(mutex_);
    holding_ = true;
  }
  void release() {
    std::lock_guard lock(mutex_);
    holding_ = false;
    changed_.notify_all();
  }
  void wait_until_inside() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return inside_; });
  }
  void fail() { failing_ = true; }

  std::vector<Ids> lists() const {
    std::lock_guard lock(mutex_);
    return lists_;
  }
  bool badly_linked() const { return badly_linked_; }
  std::thread::id posting_thread() const {
    std::lock_guard lock(mutex_);
    return posting_thread_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool holding_ = false;
  bool inside_ = false;
  std::atomic<bool> failing_ = false;
  std::atomic<bool> badly_linked_ = false;
  std::vector<Ids> lists_;
  std::thread::id posting_thread_;
};

std::vector<SendWork> work_of(const Ids& ids) {
  std::vector<SendWork> work;
  for (std::uint64_t id : ids) {
    SendWork one{};
    one.request.wr_id = id;
    one.request.opcode = IBV_WR_SEND;
    one.sge.addr = RecordingQueue::address_of(id);
    one.sge.length = 48;
    work.push_back(one);
  }
  return work;
}

TEST(PostingThreadTest, PostsTheListsOfEachQueueInTheOrderHandedOver) {
  RecordingQueue first, second;
  {
    PostingThread poster;
    for (std::uint64_t turn = 0; turn < 50; ++turn) {
      auto work = work_of({turn * 2, turn * 2 + 1});
      poster.post(turn % 2 == 0 ? first : second, work, nullptr);
      EXPECT_TRUE(work.empty());
    }
  }  // joins after posting what is queued
  Ids seen_first, seen_second;
  for (const Ids& list : first.lists())
    seen_first.insert(seen_first.end(), list.begin(), list.end());
  for (const Ids& list : second.lists())
    seen_second.insert(seen_second.end(), list.begin(), list.end());
  Ids want_first, want_second;
  for (std::uint64_t turn = 0; turn < 50; ++turn) {
    Ids& want = turn % 2 == 0 ? want_first : want_second;
    want.push_back(turn * 2);
    want.push_back(turn * 2 + 1);
  }
  EXPECT_EQ(seen_first, want_first);
  EXPECT_EQ(seen_second, want_second);
  EXPECT_FALSE(first.badly_linked());
  EXPECT_FALSE(second.badly_linked());
}

TEST(PostingThreadTest, ListsWaitingBehindAPostGoOutAsOnePost) {
  RecordingQueue queue;
  PostingThread poster;
  queue.hold();
  auto a = work_of({1, 2});
  poster.post(queue, a, nullptr);
  queue.wait_until_inside();
  auto b = work_of({3});
  auto c = work_of({4, 5});
  poster.post(queue, b, nullptr);
  poster.post(queue, c, nullptr);
  queue.release();
  while (poster.posts() < 2)
    std::this_thread::yield();
  EXPECT_EQ(queue.lists(), (std::vector<Ids>{{1, 2}, {3, 4, 5}}));
  EXPECT_FALSE(queue.badly_linked());
}

TEST(PostingThreadTest, ForgetDropsWhatIsQueuedForThatQueueOnly) {
  RecordingQueue busy, gone, other;
  PostingThread poster;
  busy.hold();
  auto a = work_of({1});
  poster.post(busy, a, nullptr);
  busy.wait_until_inside();
  auto b = work_of({2});
  auto c = work_of({3});
  poster.post(gone, b, nullptr);
  poster.post(other, c, nullptr);
  poster.forget(gone);  // not being posted: returns at once
  busy.release();
  while (poster.posts() < 2)
    std::this_thread::yield();
  EXPECT_EQ(busy.lists(), (std::vector<Ids>{{1}}));
  EXPECT_TRUE(gone.lists().empty());
  EXPECT_EQ(other.lists(), (std::vector<Ids>{{3}}));
}

TEST(PostingThreadTest, ForgetReturnsOnlyOnceThePostInProgressHasEnded) {
  RecordingQueue queue;
  PostingThread poster;
  queue.hold();
  auto a = work_of({1});
  poster.post(queue, a, nullptr);
  queue.wait_until_inside();
  std::atomic<bool> forgotten = false;
  std::vector<Ids> seen_on_return;
  std::thread forgetting([&] {
    poster.forget(queue);
    seen_on_return = queue.lists();
    forgotten = true;
  });
  EXPECT_FALSE(forgotten);
  queue.release();
  forgetting.join();
  // The list was recorded before forget() let the queue go.
  EXPECT_EQ(seen_on_return, (std::vector<Ids>{{1}}));
}

TEST(PostingThreadTest, HoldsAQueueWhileItsListsAreQueuedOrBeingPosted) {
  RecordingQueue busy, waiting, other;
  PostingThread poster;
  EXPECT_FALSE(poster.holds(busy));
  busy.hold();
  auto a = work_of({1});
  poster.post(busy, a, nullptr);
  busy.wait_until_inside();
  auto b = work_of({2});
  poster.post(waiting, b, nullptr);
  EXPECT_TRUE(poster.holds(busy));     // being posted
  EXPECT_TRUE(poster.holds(waiting));  // queued behind it
  EXPECT_FALSE(poster.holds(other));
  busy.release();
  while (poster.posts() < 2)
    std::this_thread::yield();
  EXPECT_FALSE(poster.holds(busy));
  EXPECT_FALSE(poster.holds(waiting));
}

TEST(PostingThreadTest, AFailedPostIsReportedFromThePostingThread) {
  RecordingQueue queue;
  queue.fail();
  std::mutex mutex;
  std::string reported;
  std::thread::id reported_on;
  auto sink = std::make_shared<const PostingThread::FailureSink>([&](const VerbsError& error) {
    std::lock_guard lock(mutex);
    reported = error.describe();
    reported_on = std::this_thread::get_id();
  });
  {
    PostingThread poster;
    auto work = work_of({7});
    poster.post(queue, work, sink);
  }
  std::lock_guard lock(mutex);
  EXPECT_NE(reported.find("ibv_post_send"), std::string::npos) << reported;
  EXPECT_EQ(reported_on, queue.posting_thread());
  EXPECT_NE(reported_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace isergw::rdma
