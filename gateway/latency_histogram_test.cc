#include "gateway/latency_histogram.h"

#include <gtest/gtest.h>

namespace isergw::gateway {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(LatencyHistogramTest, BoundsDoubleFrom25Microseconds) {
  EXPECT_DOUBLE_EQ(LatencyHistogram::upper_bound(0), 25e-6);
  EXPECT_DOUBLE_EQ(LatencyHistogram::upper_bound(1), 50e-6);
  EXPECT_NEAR(LatencyHistogram::upper_bound(LatencyHistogram::kBucketCount - 1), 0.8192, 1e-9);
}

TEST(LatencyHistogramTest, ObservationsLandInTheirBucket) {
  LatencyHistogram histogram;
  histogram.observe(microseconds(10));         // bucket 0
  histogram.observe(microseconds(25));         // the bound itself is inside bucket 0
  histogram.observe(microseconds(26));         // bucket 1
  histogram.observe(milliseconds(3));          // 3.2 ms bound: bucket 7
  histogram.observe(std::chrono::seconds(5));  // above every bound
  const auto& counts = histogram.counts();
  EXPECT_EQ(counts[0], 2U);
  EXPECT_EQ(counts[1], 1U);
  EXPECT_EQ(counts[7], 1U);
  EXPECT_EQ(counts[LatencyHistogram::kBucketCount], 1U);
  EXPECT_EQ(histogram.count(), 5U);
  EXPECT_NEAR(histogram.sum_seconds(), 5.003061, 1e-9);
}

TEST(LatencyHistogramTest, MergeAddsCountsAndSums) {
  LatencyHistogram a;
  LatencyHistogram b;
  a.observe(microseconds(10));
  b.observe(microseconds(10));
  b.observe(milliseconds(1));
  a.merge(b);
  EXPECT_EQ(a.counts()[0], 2U);
  EXPECT_EQ(a.count(), 3U);
  EXPECT_NEAR(a.sum_seconds(), 0.00102, 1e-12);
}

}  // namespace
}  // namespace isergw::gateway
