// Fixed-size data buffers from a DPDK mempool, one pool per worker.
//
// Every byte the gateway relays lands in one of these buffers and leaves from
// it: a TCP fabric receives a data segment straight into one, and an RDMA
// fabric registers the pool's memory once with each protection domain (the
// memory chunks are listed for that), so nothing is registered on the I/O
// path. A pool belongs to one worker thread: its ring is single-producer,
// single-consumer, and nothing in it is locked.
//
// Forward progress. The pool is cut into three budgets by what a buffer's
// holder waits for before it gives the buffer back (ARCHITECTURE.md,
// "Buffer admission"):
//   - kClaimed: data the gateway asks for (an R2T, an RDMA Read) and the
//     built-in disk's read data. Claimed whole, before anything is asked,
//     and granted in the order claims were made. A granted claim waits only
//     for the host's data and for the storage to take it, never for
//     another buffer.
//   - kHostData: write data a host sent unasked (immediate data,
//     unsolicited Data-Out) or fetched ahead of the storage's ask. Its
//     holder may wait for a claim and for the storage's window.
//   - kStorageData: data a storage returned for a host (Data-In on a TCP
//     back leg). Its holder waits only for the host to read it.
// Since no budget's holders wait for a buffer of their own budget, and a
// waiting claim needs nothing that its waiting holds back, no set of
// holders can wait on each other in a circle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"

struct rte_mempool;

namespace isergw::gateway {

class BufferPool;

enum class BufferUse : uint8_t { kClaimed, kHostData, kStorageData };
inline constexpr size_t kBufferUses = 3;

// The buffers one connection (or session) has taken of one budget and not
// yet given back, wherever they went since (a task, a back leg's send
// queue). The pool lends no more to an account that holds its share: the
// one stuck behind a stalled storage or a slow host waits there, and the
// rest of the budget stays for the others.
struct BufferAccount {
  explicit BufferAccount(BufferUse use) : use(use) {}
  const BufferUse use;
  size_t held = 0;
};

// One buffer, returned to its pool when the handle goes away.
class Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();

  explicit operator bool() const { return data_ != nullptr; }
  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<uint8_t> bytes() const { return {data_, size_}; }

 private:
  friend class BufferPool;
  Buffer(BufferPool* pool, uint8_t* data, size_t size, BufferUse use,
         std::shared_ptr<BufferAccount> account)
      : pool_(pool), data_(data), size_(size), use_(use), account_(std::move(account)) {}
  void release();

  BufferPool* pool_ = nullptr;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  BufferUse use_ = BufferUse::kHostData;
  std::shared_ptr<BufferAccount> account_;
};

struct BufferPoolOptions {
  std::string name;  // unique per process, e.g. "worker0"
  size_t buffer_size = 128 * 1024;
  size_t buffer_count = 512;
  // A worker's data pool is cut into the budgets above. A pool with one use
  // of its own (an iSER back leg's command buffers, which commands take in
  // turn) is not: acquire() without an account lends all of it.
  bool budgets = true;
};

// What a claim is granted: its buffers, in order.
using ClaimGranted = std::function<void(std::vector<Buffer>)>;

// A claim waiting for its turn. Dropping the handle withdraws the claim
// (the command was aborted, the session is gone): its callback never runs.
class PendingClaim {
 public:
  struct Waiter;
  PendingClaim() = default;
  explicit PendingClaim(std::shared_ptr<Waiter> waiter) : waiter_(std::move(waiter)) {}
  PendingClaim(PendingClaim&&) noexcept = default;
  PendingClaim& operator=(PendingClaim&& other) noexcept;
  ~PendingClaim();
  explicit operator bool() const { return waiter_ != nullptr; }

 private:
  std::shared_ptr<Waiter> waiter_;
};

class BufferPool {
 public:
  // Needs start_dpdk_memory() to have succeeded.
  static Expected<std::unique_ptr<BufferPool>, std::string> create(
      const BufferPoolOptions& options);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // How a waiting claim is served once buffers return: the worker posts
  // the call to its loop, so a claim is never granted inside the release
  // of a buffer deep in some other command's code. Unset, claims are
  // served at once (for tests that drive the pool by hand).
  void set_deferral(std::function<void(std::function<void()>)> defer) { defer_ = std::move(defer); }

  // A kHostData or kStorageData buffer, charged to `account` (which names
  // the budget), or an empty Buffer when that budget is spent or the
  // account holds its share: the caller waits where waiting is safe, or
  // refuses. Never blocks. Without an account: a kHostData buffer outside
  // any share (login and text data, a few KiB).
  Buffer acquire(std::shared_ptr<BufferAccount> account = nullptr);
  // `count` kHostData buffers or none: data fetched ahead of the storage's
  // ask, which is worth its buffers only while they are to be had.
  std::vector<Buffer> acquire_all(size_t count, const std::shared_ptr<BufferAccount>& account);

  enum class ClaimOutcome { kGranted, kWaiting, kRefused };
  // Claims `count` kClaimed buffers for one piece of data the gateway is
  // about to ask for, charged to `account` (kClaimed). kGranted: they are
  // in `buffers` now. kWaiting: `pending` holds the claim's place in line,
  // and `granted` runs later with them. kRefused: more than max_claim(),
  // which could never be granted.
  ClaimOutcome claim(size_t count, std::shared_ptr<BufferAccount> account,
                     std::vector<Buffer>& buffers, PendingClaim& pending, ClaimGranted granted);

  const std::string& name() const { return options_.name; }
  size_t buffer_size() const { return options_.buffer_size; }
  size_t capacity() const { return options_.buffer_count; }
  size_t in_use() const { return in_use_; }
  size_t available() const { return capacity() - in_use_; }
  size_t budget(BufferUse use) const { return budget_[index(use)]; }
  size_t in_use(BufferUse use) const { return in_use_by_use_[index(use)]; }
  // What one account of kHostData or kStorageData may hold.
  size_t share() const { return share_; }
  // The most one claim takes, and what one account of claims may hold.
  size_t max_claim() const { return max_claim_; }
  size_t max_claim_bytes() const { return max_claim_ * options_.buffer_size; }
  // The same for a pool of these options, before it exists.
  static size_t max_claim_bytes(const BufferPoolOptions& options);

  // Buffers not lent because their budget was spent.
  uint64_t exhausted_count() const { return exhausted_; }
  // Buffers not lent because their account held its share.
  uint64_t share_refusals() const { return share_refusals_; }
  // Claims waiting now; claims that had to wait, and for how long in all.
  size_t claims_waiting() const { return waiting_; }
  uint64_t claims_waited() const { return claims_waited_; }
  uint64_t claim_wait_nanoseconds() const { return claim_wait_ns_; }

  // Calls visit(address, length) for each contiguous chunk of the pool's
  // memory, for RDMA registration.
  void for_each_memory_chunk(const std::function<void(void*, size_t)>& visit) const;

 private:
  friend class Buffer;
  friend class PendingClaim;
  BufferPool(rte_mempool* pool, const BufferPoolOptions& options);
  static size_t index(BufferUse use) { return static_cast<size_t>(use); }
  Buffer take(BufferUse use, std::shared_ptr<BufferAccount> account);
  bool claim_fits(size_t count, const BufferAccount& account) const;
  void put(uint8_t* data, BufferUse use);
  void withdraw(PendingClaim::Waiter& waiter);
  void schedule_serving();
  void serve_claims();

  rte_mempool* pool_;
  BufferPoolOptions options_;
  size_t budget_[kBufferUses] = {};
  size_t in_use_by_use_[kBufferUses] = {};
  size_t share_ = 1;
  size_t max_claim_ = 1;
  size_t in_use_ = 0;
  uint64_t exhausted_ = 0;
  uint64_t share_refusals_ = 0;

  std::function<void(std::function<void()>)> defer_;
  std::deque<std::shared_ptr<PendingClaim::Waiter>> waiters_;
  size_t waiting_ = 0;  // waiters_ that were not withdrawn
  bool serving_scheduled_ = false;
  bool serving_ = false;
  uint64_t claims_waited_ = 0;
  uint64_t claim_wait_ns_ = 0;
};

}  // namespace isergw::gateway
