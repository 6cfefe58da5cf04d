#include "gateway/buffer_pool.h"

#include <rte_errno.h>
#include <rte_mempool.h>

#include <algorithm>
#include <utility>

namespace isergw::gateway {

Buffer::Buffer(Buffer&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      account_(std::move(other.account_)) {}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::exchange(other.pool_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    account_ = std::move(other.account_);
  }
  return *this;
}

Buffer::~Buffer() {
  release();
}

void Buffer::release() {
  if (data_ != nullptr) pool_->put(data_);
  if (account_) --account_->held;
  account_.reset();
  pool_ = nullptr;
  data_ = nullptr;
  size_ = 0;
}

Expected<std::unique_ptr<BufferPool>, std::string> BufferPool::create(
    const BufferPoolOptions& options) {
  if (options.buffer_size == 0 || options.buffer_count == 0) {
    return Unexpected{std::string("buffer pool '") + options.name + "' needs a size and a count"};
  }
  BufferPoolOptions resolved = options;
  const size_t count = resolved.buffer_count;
  if (resolved.high_watermark == 0) resolved.high_watermark = count - count / 8;
  if (resolved.low_watermark == 0) {
    resolved.low_watermark = std::min(count * 5 / 8, resolved.high_watermark - 1);
  }
  if (resolved.share == 0) resolved.share = std::max<size_t>(1, count / 8);
  if (resolved.low_watermark >= resolved.high_watermark ||
      resolved.high_watermark > resolved.buffer_count) {
    return Unexpected{"buffer pool '" + options.name +
                      "' needs low watermark < high watermark <= buffer count"};
  }
  // One worker takes and returns buffers: a single-producer, single-consumer
  // ring and no per-lcore cache (workers are not DPDK lcores).
  rte_mempool* pool = rte_mempool_create(
      ("isergw-" + options.name).c_str(), static_cast<unsigned>(options.buffer_count),
      static_cast<unsigned>(options.buffer_size), 0, 0, nullptr, nullptr, nullptr, nullptr,
      SOCKET_ID_ANY, RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
  if (pool == nullptr) {
    return Unexpected{"buffer pool '" + options.name + "' of " +
                      std::to_string(options.buffer_count) + " x " +
                      std::to_string(options.buffer_size) +
                      " bytes could not be allocated: " + rte_strerror(rte_errno)};
  }
  return std::unique_ptr<BufferPool>(new BufferPool(pool, resolved));
}

BufferPool::BufferPool(rte_mempool* pool, const BufferPoolOptions& options)
    : pool_(pool), options_(options) {}

BufferPool::~BufferPool() {
  rte_mempool_free(pool_);
}

Buffer BufferPool::acquire(std::shared_ptr<BufferAccount> account) {
  if (account && account->held >= options_.share) {
    ++share_refusals_;
    return {};
  }
  void* object = nullptr;
  if (rte_mempool_get(pool_, &object) != 0) {
    ++exhausted_;
    return {};
  }
  if (++in_use_ >= options_.high_watermark) under_pressure_ = true;
  if (account) ++account->held;
  return Buffer(this, static_cast<uint8_t*>(object), options_.buffer_size, std::move(account));
}

void BufferPool::put(uint8_t* data) {
  rte_mempool_put(pool_, data);
  if (--in_use_ <= options_.low_watermark) under_pressure_ = false;
}

void BufferPool::for_each_memory_chunk(const std::function<void(void*, size_t)>& visit) const {
  rte_mempool_mem_iter(
      pool_,
      [](rte_mempool*, void* opaque, rte_mempool_memhdr* chunk, unsigned) {
        (*static_cast<const std::function<void(void*, size_t)>*>(opaque))(chunk->addr, chunk->len);
      },
      const_cast<std::function<void(void*, size_t)>*>(&visit));
}

}  // namespace isergw::gateway
