#include "gateway/buffer_pool.h"

#include <rte_errno.h>
#include <rte_mempool.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace isergw::gateway {

struct PendingClaim::Waiter {
  BufferPool* pool;
  size_t count;
  std::shared_ptr<BufferAccount> account;
  ClaimGranted granted;
  std::chrono::steady_clock::time_point since;
  bool withdrawn = false;
};

PendingClaim& PendingClaim::operator=(PendingClaim&& other) noexcept {
  if (this != &other) {
    if (waiter_ && !waiter_->withdrawn) waiter_->pool->withdraw(*waiter_);
    waiter_ = std::move(other.waiter_);
  }
  return *this;
}

PendingClaim::~PendingClaim() {
  if (waiter_ && !waiter_->withdrawn) waiter_->pool->withdraw(*waiter_);
}

Buffer::Buffer(Buffer&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      use_(other.use_),
      account_(std::move(other.account_)) {}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::exchange(other.pool_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    use_ = other.use_;
    account_ = std::move(other.account_);
  }
  return *this;
}

Buffer::~Buffer() {
  release();
}

void Buffer::release() {
  if (account_) --account_->held;
  account_.reset();
  if (data_ != nullptr) pool_->put(data_, use_);
  pool_ = nullptr;
  data_ = nullptr;
  size_ = 0;
}

Expected<std::unique_ptr<BufferPool>, std::string> BufferPool::create(
    const BufferPoolOptions& options) {
  if (options.buffer_size == 0 || options.buffer_count < 4) {
    return Unexpected{std::string("buffer pool '") + options.name +
                      "' needs a size and at least 4 buffers"};
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
  return std::unique_ptr<BufferPool>(new BufferPool(pool, options));
}

namespace {

size_t claimed_budget(size_t count) {
  return count / 4;
}
// Two claims of the largest size can be granted at once.
size_t largest_claim(size_t count) {
  return std::max<size_t>(1, claimed_budget(count) / 2);
}

}  // namespace

size_t BufferPool::max_claim_bytes(const BufferPoolOptions& options) {
  return largest_claim(options.buffer_count) * options.buffer_size;
}

BufferPool::BufferPool(rte_mempool* pool, const BufferPoolOptions& options)
    : pool_(pool), options_(options) {
  // A quarter for what the gateway asks for, a quarter for what storages
  // return, half for what hosts send unasked: unasked write data is the
  // one kind a host can pile up before the gateway sees its commands, and
  // a 4 KiB immediate write takes a whole buffer.
  const size_t count = options.buffer_count;
  if (!options.budgets) {
    budget_[index(BufferUse::kHostData)] = count;
    share_ = count;
    max_claim_ = 0;  // claims are refused: they are for a worker's data pool
    return;
  }
  budget_[index(BufferUse::kClaimed)] = claimed_budget(count);
  budget_[index(BufferUse::kStorageData)] = count / 4;
  budget_[index(BufferUse::kHostData)] = count - 2 * (count / 4);
  // Sixteen connections stuck behind a stalled storage (or sixteen slow
  // readers) take a budget; one connection of a Linux host, 32 writes deep
  // with their immediate data, still fits its share of the default pool.
  share_ = std::max<size_t>(1, count / 16);
  max_claim_ = largest_claim(count);
}

BufferPool::~BufferPool() {
  for (auto& waiter : waiters_)
    waiter->withdrawn = true;
  rte_mempool_free(pool_);
}

Buffer BufferPool::take(BufferUse use, std::shared_ptr<BufferAccount> account) {
  void* object = nullptr;
  if (rte_mempool_get(pool_, &object) != 0) {
    // The budgets add up to the pool, so this is only a backstop.
    ++exhausted_;
    return {};
  }
  ++in_use_;
  ++in_use_by_use_[index(use)];
  if (account) ++account->held;
  return Buffer(this, static_cast<uint8_t*>(object), options_.buffer_size, use, std::move(account));
}

Buffer BufferPool::acquire(std::shared_ptr<BufferAccount> account) {
  const BufferUse use = account ? account->use : BufferUse::kHostData;
  if (use == BufferUse::kClaimed) return {};  // claims go through claim()
  if (account && account->held >= share_) {
    ++share_refusals_;
    return {};
  }
  if (in_use_by_use_[index(use)] >= budget_[index(use)]) {
    ++exhausted_;
    return {};
  }
  return take(use, std::move(account));
}

std::vector<Buffer> BufferPool::acquire_all(size_t count,
                                            const std::shared_ptr<BufferAccount>& account) {
  std::vector<Buffer> taken;
  const size_t host = index(BufferUse::kHostData);
  if (count == 0 || in_use_by_use_[host] + count > budget_[host] ||
      (account && account->held + count > share_)) {
    return taken;
  }
  taken.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    Buffer buffer = take(BufferUse::kHostData, account);
    if (!buffer) return {};
    taken.push_back(std::move(buffer));
  }
  return taken;
}

bool BufferPool::claim_fits(size_t count, const BufferAccount& account) const {
  const size_t claimed = index(BufferUse::kClaimed);
  return in_use_by_use_[claimed] + count <= budget_[claimed] && account.held + count <= max_claim_;
}

BufferPool::ClaimOutcome BufferPool::claim(size_t count, std::shared_ptr<BufferAccount> account,
                                           std::vector<Buffer>& buffers, PendingClaim& pending,
                                           ClaimGranted granted) {
  if (count == 0) return ClaimOutcome::kGranted;
  if (count > max_claim_ || !account || account->use != BufferUse::kClaimed) {
    return ClaimOutcome::kRefused;
  }
  // First come, first served: a claim that fits still waits behind an
  // earlier one, or a stream of small claims could starve a large one.
  if (waiting_ == 0 && claim_fits(count, *account)) {
    buffers.reserve(buffers.size() + count);
    for (size_t i = 0; i < count; ++i)
      buffers.push_back(take(BufferUse::kClaimed, account));
    return ClaimOutcome::kGranted;
  }
  auto waiter = std::make_shared<PendingClaim::Waiter>(PendingClaim::Waiter{
      this, count, std::move(account), std::move(granted), std::chrono::steady_clock::now()});
  waiters_.push_back(waiter);
  ++waiting_;
  ++claims_waited_;
  pending = PendingClaim(std::move(waiter));
  // The claims ahead may all be held back by their own accounts.
  schedule_serving();
  return ClaimOutcome::kWaiting;
}

void BufferPool::withdraw(PendingClaim::Waiter& waiter) {
  waiter.withdrawn = true;
  waiter.granted = nullptr;
  --waiting_;
  // A withdrawn claim at the head may have held back those behind it.
  schedule_serving();
}

void BufferPool::put(uint8_t* data, BufferUse use) {
  rte_mempool_put(pool_, data);
  --in_use_;
  --in_use_by_use_[index(use)];
  if (use == BufferUse::kClaimed && waiting_ > 0) schedule_serving();
}

void BufferPool::schedule_serving() {
  if (serving_scheduled_ || serving_) return;
  if (!defer_) {
    serve_claims();
    return;
  }
  serving_scheduled_ = true;
  defer_([this] {
    serving_scheduled_ = false;
    serve_claims();
  });
}

void BufferPool::serve_claims() {
  serving_ = true;
  // Claims are granted in order. One whose account holds its share waits
  // for its own buffers to return and lets the others pass (they are of
  // other sessions; a session's claims keep their order, as they share the
  // account); the first one that only lacks room in the budget stops the
  // line until there is room for it.
  size_t position = 0;
  // Accounts with a claim held back in this pass: their later claims wait
  // behind it, so that a session's claims keep their order and a large one
  // is not overtaken for ever by small ones.
  std::vector<const BufferAccount*> held_back;
  while (position < waiters_.size()) {
    std::shared_ptr<PendingClaim::Waiter> waiter = waiters_[position];
    if (waiter->withdrawn) {
      waiters_.erase(waiters_.begin() + static_cast<std::ptrdiff_t>(position));
      continue;
    }
    const bool behind =
        std::find(held_back.begin(), held_back.end(), waiter->account.get()) != held_back.end();
    if (behind || waiter->account->held + waiter->count > max_claim_) {
      if (!behind) held_back.push_back(waiter->account.get());
      ++position;
      continue;
    }
    if (!claim_fits(waiter->count, *waiter->account)) break;
    waiters_.erase(waiters_.begin() + static_cast<std::ptrdiff_t>(position));
    waiter->withdrawn = true;
    --waiting_;
    claim_wait_ns_ += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::steady_clock::now() - waiter->since)
                                                .count());
    std::vector<Buffer> buffers;
    buffers.reserve(waiter->count);
    for (size_t i = 0; i < waiter->count; ++i)
      buffers.push_back(take(BufferUse::kClaimed, waiter->account));
    ClaimGranted granted = std::move(waiter->granted);
    // The callback may claim, withdraw or release: the line is read again
    // from the start afterwards.
    if (granted) granted(std::move(buffers));
    position = 0;
    held_back.clear();
  }
  serving_ = false;
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
