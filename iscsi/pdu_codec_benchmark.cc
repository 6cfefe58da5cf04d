// PDUs decoded and encoded per second for the PDUs on the data path and
// the login path.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "iscsi/pdu_decoder.h"
#include "iscsi/pdu_encoder.h"

namespace isergw::iscsi {
namespace {

const std::vector<std::uint8_t>& login_keys() {
  static const std::vector<std::uint8_t> keys = [] {
    const std::string text =
        std::string("TargetPortalGroupTag=1\0HeaderDigest=None\0DataDigest=None\0", 57) +
        std::string("InitialR2T=Yes\0ImmediateData=Yes\0MaxBurstLength=262144\0", 55) +
        std::string("FirstBurstLength=65536\0MaxRecvDataSegmentLength=262144\0", 55);
    return std::vector<std::uint8_t>(text.begin(), text.end());
  }();
  return keys;
}

const std::vector<std::uint8_t>& data_8k() {
  static const std::vector<std::uint8_t> data(8192, 0xa5);
  return data;
}

Pdu sample(int kind) {
  switch (kind) {
    case 0:
      return ScsiCommand{.read = true,
                         .lun = 0x0001000000000000,
                         .itt = 0x1234,
                         .expected_data_transfer_length = 8192,
                         .cmd_sn = 77,
                         .exp_stat_sn = 78,
                         .cdb = {0x28, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0}};
    case 1:
      return DataIn{.final = true,
                    .status_present = true,
                    .itt = 0x1234,
                    .stat_sn = 5,
                    .exp_cmd_sn = 78,
                    .max_cmd_sn = 140,
                    .data = data_8k()};
    default:
      return LoginResponse{.transit = true,
                           .csg = LoginStage::kLoginOperationalNegotiation,
                           .nsg = LoginStage::kFullFeaturePhase,
                           .isid = {0x80, 1, 2, 3, 0, 0},
                           .tsih = 1,
                           .itt = 1,
                           .data = login_keys()};
  }
}

const char* kNames[] = {"ScsiCommand", "DataIn8k", "LoginResponse"};

// state.range(0): PDU kind; state.range(1): HeaderDigest and DataDigest on.
void BM_Decode(benchmark::State& state) {
  const bool digests = state.range(1) != 0;
  const EncodeOptions encode_options{.header_digest = digests, .data_digest = digests};
  const Pdu pdu = sample(static_cast<int>(state.range(0)));
  std::vector<std::uint8_t> wire(encoded_length(pdu, encode_options));
  if (!encode_pdu(pdu, encode_options, wire)) state.SkipWithError("encode failed");
  DecodeOptions options{
      .header_digest = digests, .data_digest = digests, .max_recv_data_segment_length = 262144};
  for (auto _ : state) {
    auto decoded = decode_pdu(wire, options);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(kNames[state.range(0)]) + (digests ? "+digests" : ""));
}
BENCHMARK(BM_Decode)->ArgsProduct({{0, 1, 2}, {0, 1}});

void BM_Encode(benchmark::State& state) {
  const bool digests = state.range(1) != 0;
  const EncodeOptions options{.header_digest = digests, .data_digest = digests};
  const Pdu pdu = sample(static_cast<int>(state.range(0)));
  std::vector<std::uint8_t> out(encoded_length(pdu, options));
  for (auto _ : state) {
    auto written = encode_pdu(pdu, options, out);
    benchmark::DoNotOptimize(written);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(kNames[state.range(0)]) + (digests ? "+digests" : ""));
}
BENCHMARK(BM_Encode)->ArgsProduct({{0, 1, 2}, {0, 1}});

// Header only, as a transport that sends the data from its own buffer does.
void BM_EncodeHeader(benchmark::State& state) {
  const Pdu pdu = sample(1);
  std::vector<std::uint8_t> out(64);
  for (auto _ : state) {
    auto written = encode_header(pdu, {}, out);
    benchmark::DoNotOptimize(written);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeHeader);

}  // namespace
}  // namespace isergw::iscsi
