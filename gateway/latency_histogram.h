// Command latency as a fixed-bucket histogram of plain counts, kept per
// session on its worker (no atomics on the data path) and merged when
// Prometheus scrapes.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace isergw::gateway {

class LatencyHistogram {
 public:
  // 25 µs doubling to about 0.8 s: the fastest RAM-backed command over
  // loopback lands in the first buckets, and a command slower than a second
  // is a stall whose exact length matters less than that it happened.
  static constexpr size_t kBucketCount = 16;
  static constexpr double kFirstBoundSeconds = 25e-6;

  static constexpr double upper_bound(size_t bucket) {
    return kFirstBoundSeconds * static_cast<double>(uint64_t{1} << bucket);
  }

  void observe(std::chrono::steady_clock::duration elapsed) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    size_t bucket = 0;
    while (bucket < kBucketCount && seconds > upper_bound(bucket))
      ++bucket;
    ++counts_[bucket];
    sum_seconds_ += seconds;
  }

  void merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i)
      counts_[i] += other.counts_[i];
    sum_seconds_ += other.sum_seconds_;
  }

  // Per bucket, not cumulative; the last one counts what is above every bound.
  const std::array<uint64_t, kBucketCount + 1>& counts() const { return counts_; }
  uint64_t count() const {
    uint64_t total = 0;
    for (const uint64_t n : counts_)
      total += n;
    return total;
  }
  double sum_seconds() const { return sum_seconds_; }

 private:
  std::array<uint64_t, kBucketCount + 1> counts_{};
  double sum_seconds_ = 0;
};

}  // namespace isergw::gateway
