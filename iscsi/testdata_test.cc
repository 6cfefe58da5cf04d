// Every PDU of the streams captured from tgtd and libiscsi (testdata/,
// see testdata/README.md) decodes, and re-encodes to the same bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "iscsi/pdu_encoder.h"
#include "iscsi/pdu_stream.h"

namespace isergw::iscsi {
namespace {

struct Capture {
  std::string name;  // testdata/<name>.bin
  bool header_digest = false;
};

const Capture kCaptures[] = {
    {"inq.0.initiator"},
    {"inq.0.target"},
    {"inq_digest.0.initiator", true},
    {"inq_digest.0.target", true},
    {"ls.0.initiator"},
    {"ls.0.target"},
    {"ls.1.initiator"},
    {"ls.1.target"},
    // iscsi-ls -s logs in to the digest target too, and libiscsi's default
    // offer "None,CRC32C" meets tgtd's "CRC32C,None".
    {"ls.2.initiator", true},
    {"ls.2.target", true},
    {"ls.3.initiator"},
    {"ls.3.target"},
    {"readcapacity16.0.initiator"},
    {"readcapacity16.0.target"},
    {"read10.0.initiator"},
    {"read10.0.target"},
    {"read10.1.initiator"},
    {"read10.1.target"},
    {"write10.0.initiator"},
    {"write10.0.target"},
    {"write10.1.initiator"},
    {"write10.1.target"},
};

std::vector<std::uint8_t> read_capture(const std::string& name) {
  std::ifstream in("iscsi/testdata/" + name + ".bin", std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<StreamPdu> decode_all(const Capture& capture, const std::vector<std::uint8_t>& bytes) {
  DecodeOptions options{.header_digest = capture.header_digest,
                        .max_recv_data_segment_length = kMaxDataSegmentLength};
  PduStreamReader reader(bytes, options);
  std::vector<StreamPdu> pdus;
  while (true) {
    auto next = reader.next();
    EXPECT_TRUE(next.has_value()) << capture.name << ": " << next.error().describe();
    if (!next || !next->has_value()) break;
    pdus.push_back(std::move(**next));
  }
  EXPECT_EQ(reader.offset(), bytes.size()) << capture.name;
  return pdus;
}

class CaptureTest : public ::testing::TestWithParam<Capture> {};

TEST_P(CaptureTest, EveryPduDecodesAndReencodesByteIdentically) {
  const auto bytes = read_capture(GetParam().name);
  ASSERT_FALSE(bytes.empty());
  const auto pdus = decode_all(GetParam(), bytes);
  ASSERT_FALSE(pdus.empty());
  for (const StreamPdu& pdu : pdus) {
    const EncodeOptions options{.header_digest = pdu.digests_active && GetParam().header_digest};
    std::vector<std::uint8_t> out(encoded_length(pdu.pdu, options));
    auto written = encode_pdu(pdu.pdu, options, out);
    ASSERT_TRUE(written.has_value()) << written.error().describe();
    ASSERT_EQ(*written, pdu.length) << "PDU at " << pdu.offset;
    EXPECT_TRUE(std::equal(out.begin(), out.end(), bytes.begin() + pdu.offset))
        << GetParam().name << ": PDU at byte " << pdu.offset << " ("
        << opcode_name(pdu_opcode(pdu.pdu)) << ") re-encodes differently";
  }
}

INSTANTIATE_TEST_SUITE_P(Captures, CaptureTest, ::testing::ValuesIn(kCaptures),
                         [](const auto& info) {
                           std::string name = info.param.name;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

std::map<Opcode, int> opcode_counts(const std::vector<std::string>& names) {
  std::map<Opcode, int> counts;
  for (const auto& name : names) {
    for (const Capture& capture : kCaptures) {
      if (capture.name != name) continue;
      const auto bytes = read_capture(name);
      for (const auto& pdu : decode_all(capture, bytes))
        ++counts[pdu_opcode(pdu.pdu)];
    }
  }
  return counts;
}

TEST(CaptureContentTest, LoginCarriesTheInitiatorName) {
  const Capture capture{"inq.0.initiator"};
  const auto bytes = read_capture(capture.name);  // the PDUs' data points into it
  const auto pdus = decode_all(capture, bytes);
  ASSERT_FALSE(pdus.empty());
  const auto* login = std::get_if<LoginRequest>(&pdus.front().pdu);
  ASSERT_NE(login, nullptr);
  const std::string text(login->data.begin(), login->data.end());
  EXPECT_NE(text.find("InitiatorName=iqn.2024-01.org.isergw:initiator"), std::string::npos);
  // Without CHAP, libiscsi skips the security stage (RFC 7143 §6.3).
  EXPECT_EQ(login->csg, LoginStage::kLoginOperationalNegotiation);
}

TEST(CaptureContentTest, InquiryDataComesBackInDataIn) {
  const Capture capture{"inq.0.target"};
  const auto bytes = read_capture(capture.name);
  bool found = false;
  for (const auto& pdu : decode_all(capture, bytes)) {
    if (const auto* data_in = std::get_if<DataIn>(&pdu.pdu)) {
      const std::string text(data_in->data.begin(), data_in->data.end());
      found = found || text.find("IET") != std::string::npos;
    }
  }
  EXPECT_TRUE(found) << "tgtd's INQUIRY vendor 'IET' not seen";
}

TEST(CaptureContentTest, DigestStreamUsesHeaderDigestsAfterLogin) {
  const Capture capture{"inq_digest.0.target", true};
  const auto bytes = read_capture(capture.name);
  const auto pdus = decode_all(capture, bytes);
  ASSERT_GE(pdus.size(), 2u);
  EXPECT_FALSE(pdus.front().digests_active);
  EXPECT_TRUE(pdus.back().digests_active);
}

TEST(CaptureContentTest, WritesGoByR2tAndDataOut) {
  const auto initiator = opcode_counts({"write10.1.initiator"});
  const auto target = opcode_counts({"write10.1.target"});
  EXPECT_GT(initiator.count(Opcode::kScsiDataOut), 0u);
  EXPECT_GT(target.count(Opcode::kR2t), 0u);
  EXPECT_GT(target.count(Opcode::kScsiResponse), 0u);
}

TEST(CaptureContentTest, DiscoveryUsesText) {
  const auto counts = opcode_counts({"ls.0.initiator", "ls.0.target"});
  EXPECT_GT(counts.count(Opcode::kTextRequest), 0u);
  EXPECT_GT(counts.count(Opcode::kTextResponse), 0u);
  EXPECT_GT(counts.count(Opcode::kLogoutRequest), 0u);
  EXPECT_GT(counts.count(Opcode::kLogoutResponse), 0u);
}

}  // namespace
}  // namespace isergw::iscsi
