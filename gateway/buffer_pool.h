// Fixed-size data buffers from a DPDK mempool, one pool per worker.
//
// Every byte the gateway relays lands in one of these buffers and leaves from
// it: a TCP fabric receives a data segment straight into one, and an RDMA
// fabric registers the pool's memory once with each protection domain (the
// memory chunks are listed for that), so nothing is registered on the I/O
// path. A pool belongs to one worker thread: its ring is single-producer,
// single-consumer, and nothing in it is locked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "common/expected.h"

struct rte_mempool;

namespace isergw::gateway {

class BufferPool;

// The buffers one connection has taken and not yet given back, wherever
// they went since (a task, a back leg's send queue). The pool lends no more
// to a connection that holds its share: the one stuck behind a stalled
// storage or a slow host waits there, and the rest of the pool stays for
// the others.
struct BufferAccount {
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
  Buffer(BufferPool* pool, uint8_t* data, size_t size, std::shared_ptr<BufferAccount> account)
      : pool_(pool), data_(data), size_(size), account_(std::move(account)) {}
  void release();

  BufferPool* pool_ = nullptr;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::shared_ptr<BufferAccount> account_;
};

struct BufferPoolOptions {
  std::string name;  // unique per process, e.g. "worker0"
  size_t buffer_size = 128 * 1024;
  size_t buffer_count = 512;
  // Above high_watermark buffers in use, the pool reports pressure until use
  // falls back to low_watermark; meanwhile write data is fetched only when
  // the storage asks for it. What bounds a connection is its share, below.
  size_t high_watermark = 0;  // 0: 7/8 of the count, rounded up
  size_t low_watermark = 0;   // 0: 5/8 of the count, below the high mark
  // An account holding this many buffers gets no more, so that it takes
  // that many stuck connections to empty the pool.
  size_t share = 0;  // 0: an eighth of the count, at least one
};

class BufferPool {
 public:
  // Needs start_dpdk_memory() to have succeeded.
  static Expected<std::unique_ptr<BufferPool>, std::string> create(
      const BufferPoolOptions& options);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // An empty Buffer when the pool is exhausted, or when `account` already
  // holds its share: the caller waits or refuses the command with a
  // retryable status, never blocks. A buffer lent to an account counts in
  // it until it returns.
  Buffer acquire(std::shared_ptr<BufferAccount> account = nullptr);

  const std::string& name() const { return options_.name; }
  size_t buffer_size() const { return options_.buffer_size; }
  size_t capacity() const { return options_.buffer_count; }
  size_t in_use() const { return in_use_; }
  size_t available() const { return capacity() - in_use_; }
  // True from the moment use reaches the high watermark until it drops to
  // the low one.
  bool under_pressure() const { return under_pressure_; }
  uint64_t exhausted_count() const { return exhausted_; }
  size_t share() const { return options_.share; }
  // Buffers not lent because their account held its share.
  uint64_t share_refusals() const { return share_refusals_; }

  // Calls visit(address, length) for each contiguous chunk of the pool's
  // memory, for RDMA registration.
  void for_each_memory_chunk(const std::function<void(void*, size_t)>& visit) const;

 private:
  BufferPool(rte_mempool* pool, const BufferPoolOptions& options);
  friend class Buffer;
  void put(uint8_t* data);

  rte_mempool* pool_;
  BufferPoolOptions options_;
  size_t in_use_ = 0;
  bool under_pressure_ = false;
  uint64_t exhausted_ = 0;
  uint64_t share_refusals_ = 0;
};

}  // namespace isergw::gateway
