// Proves that every wrapped system library compiles, links and runs in this
// build: one small real call into each.
#include <benchmark/benchmark.h>
#include <gtest/gtest.h>
#include <infiniband/verbs.h>
#include <isa-l/crc.h>
#include <openssl/evp.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <rdma/rdma_cma.h>
#include <rte_eal.h>
#include <rte_mempool.h>
#include <systemd/sd-daemon.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

extern "C" {
#include <libisns/isns.h>
}

namespace {

TEST(SystemLibraries, LibsystemdNotifiesNobodyOutsideSystemd) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(sd_notify(0, "READY=1"), 0);  // 0: no socket to tell, not an error
}

TEST(SystemLibraries, LibisnsParsesAPortal) {
  isns_portal_info_t portal{};
  ASSERT_TRUE(isns_portal_parse(&portal, "127.0.0.1:3205", nullptr));
  EXPECT_EQ(ntohs(portal.addr.sin6_port), 3205);
}

TEST(SystemLibraries, IsalComputesTheIscsiCrc32c) {
  // RFC 3720 B.4: 32 bytes of zeros have CRC32C 0x8a9136aa.
  std::array<unsigned char, 32> zeros{};
  EXPECT_EQ(crc32_iscsi(zeros.data(), zeros.size(), 0xffffffff) ^ 0xffffffff, 0x8a9136aaU);
}

TEST(SystemLibraries, OpensslHashesMd5) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  ASSERT_EQ(EVP_Digest("abc", 3, digest.data(), &length, EVP_md5(), nullptr), 1);
  EXPECT_EQ(length, 16U);
  EXPECT_EQ(digest[0], 0x90);  // MD5("abc") = 900150983cd24fb0...
}

TEST(SystemLibraries, VerbsAndCmListDevices) {
  int count = -1;
  ibv_device** devices = ibv_get_device_list(&count);
  // Machines without RDMA report zero devices; that is a valid answer.
  EXPECT_GE(count, 0);
  if (devices != nullptr) ibv_free_device_list(devices);
  rdma_event_channel* channel = rdma_create_event_channel();
  if (channel != nullptr) rdma_destroy_event_channel(channel);
}

TEST(SystemLibraries, DpdkCreatesAMempoolWithoutHugepages) {
  std::array<const char*, 8> args = {"isergw-test",    "--no-huge", "--no-pci", "--no-shconf",
                                     "--no-telemetry", "-l",        "0",        "-m"};
  std::array<char*, 10> argv{};
  std::string memory = "64";
  std::string log_level = "--log-level=error";
  for (size_t i = 0; i < args.size(); ++i)
    argv[i] = const_cast<char*>(args[i]);
  argv[8] = memory.data();
  argv[9] = log_level.data();
  ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0);
  rte_mempool* pool = rte_mempool_create("probe", 63, 4096, 0, 0, nullptr, nullptr, nullptr,
                                         nullptr, SOCKET_ID_ANY, 0);
  ASSERT_NE(pool, nullptr);
  void* buffer = nullptr;
  EXPECT_EQ(rte_mempool_get(pool, &buffer), 0);
  rte_mempool_put(pool, buffer);
  rte_mempool_free(pool);
  rte_eal_cleanup();
}

TEST(SystemLibraries, AsioRunsATimer) {
  boost::asio::io_context context;
  boost::asio::steady_timer timer(context, std::chrono::milliseconds(1));
  bool fired = false;
  timer.async_wait([&](const boost::system::error_code& error) { fired = !error; });
  context.run();
  EXPECT_TRUE(fired);
}

TEST(SystemLibraries, BeastFormatsAResponse) {
  boost::beast::http::response<boost::beast::http::string_body> response{
      boost::beast::http::status::ok, 11};
  response.body() = "ok";
  response.prepare_payload();
  std::ostringstream out;
  out << response;
  EXPECT_NE(out.str().find("Content-Length: 2"), std::string::npos);
}

TEST(SystemLibraries, PrometheusSerializesACounter) {
  prometheus::Registry registry;
  auto& family =
      prometheus::BuildCounter().Name("isergw_probe_total").Help("probe").Register(registry);
  family.Add({{"fabric", "tcp"}}).Increment(3);
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_NE(text.find("isergw_probe_total{fabric=\"tcp\"} 3"), std::string::npos);
}

TEST(SystemLibraries, JsonRoundTrips) {
  const auto value = nlohmann::json::parse(R"({"listen":["tcp://127.0.0.1:3260"]})");
  EXPECT_EQ(value["listen"][0].get<std::string>(), "tcp://127.0.0.1:3260");
}

TEST(SystemLibraries, BenchmarkRegistersAndRuns) {
  int runs = 0;
  benchmark::RegisterBenchmark("probe", [&runs](benchmark::State& state) {
    for (auto _ : state)
      ++runs;
  })->Iterations(5);
  std::array<char*, 1> argv{const_cast<char*>("probe")};
  int argc = 1;
  benchmark::Initialize(&argc, argv.data());
  testing::internal::CaptureStdout();
  EXPECT_EQ(benchmark::RunSpecifiedBenchmarks(), 1U);
  testing::internal::GetCapturedStdout();
  EXPECT_EQ(runs, 5);
}

}  // namespace
