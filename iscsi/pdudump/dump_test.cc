#include "iscsi/pdudump/dump.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "iscsi/pdu_test_util.h"
#include "iscsi/pdudump/stream_input.h"

namespace isergw::iscsi::pdudump {
namespace {

using Json = nlohmann::json;
using ::isergw::iscsi::testing::bytes_of;
using ::isergw::iscsi::testing::encode;

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct DumpResult {
  int status;
  std::vector<Json> lines;
  std::string err;
};

DumpResult run(std::span<const std::uint8_t> input, const DumpOptions& options = {}) {
  std::ostringstream out;
  std::ostringstream err;
  DumpResult result{dump_stream(input, options, out, err), {}, err.str()};
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);)
    result.lines.push_back(Json::parse(line));
  return result;
}

TEST(DumpTest, LoginKeysAndFields) {
  const auto result = run(read_file("iscsi/testdata/inq.0.initiator.bin"));
  ASSERT_EQ(result.status, 0) << result.err;
  ASSERT_FALSE(result.lines.empty());
  const Json& login = result.lines.front();
  EXPECT_EQ(login["opcode"], "Login Request");
  EXPECT_EQ(login["offset"], 0);
  EXPECT_EQ(login["flags"]["T"], true);
  EXPECT_EQ(login["flags"]["CSG"], "LoginOperationalNegotiation");
  EXPECT_EQ(login["flags"]["NSG"], "FullFeaturePhase");
  EXPECT_EQ(login["keys"][0]["key"], "InitiatorName");
  EXPECT_EQ(login["keys"][0]["value"], "iqn.2024-01.org.isergw:initiator");
  bool saw_inquiry = false;
  for (const Json& line : result.lines) {
    if (line["opcode"] == "SCSI Command" && line["cdb"].get<std::string>().starts_with("12")) {
      saw_inquiry = true;
      EXPECT_EQ(line["flags"]["R"], true);
      EXPECT_EQ(line["lun"], "0x0001000000000000");
    }
  }
  EXPECT_TRUE(saw_inquiry);
  EXPECT_EQ(result.lines.back()["opcode"], "Logout Request");
}

TEST(DumpTest, DataInStatusAndSequenceNumbers) {
  const auto result = run(read_file("iscsi/testdata/inq.0.target.bin"));
  ASSERT_EQ(result.status, 0) << result.err;
  bool saw_data_in = false;
  for (const Json& line : result.lines) {
    if (line["opcode"] != "SCSI Data-In") continue;
    saw_data_in = true;
    EXPECT_TRUE(line.contains("data_sn"));
    EXPECT_TRUE(line.contains("buffer_offset"));
    EXPECT_TRUE(line.contains("exp_cmd_sn"));
    EXPECT_GT(line["data_segment_length"].get<int>(), 0);
  }
  EXPECT_TRUE(saw_data_in);
}

TEST(DumpTest, HeaderDigestOption) {
  const auto bytes = read_file("iscsi/testdata/inq_digest.0.initiator.bin");
  DumpOptions options;
  options.header_digest = true;
  const auto with = run(bytes, options);
  EXPECT_EQ(with.status, 0) << with.err;
  EXPECT_EQ(with.lines.back()["digests_checked"], true);
  // Read without the digest, the digest bytes after the first full feature
  // phase PDU are taken for the next BHS.
  const auto without = run(bytes);
  EXPECT_EQ(without.status, 1);
  EXPECT_NE(without.err.find("malformed PDU at stream byte"), std::string::npos) << without.err;
}

TEST(DumpTest, MalformedInputNamesOffsetAndRule) {
  auto stream = encode(NopIn{});
  auto bad = encode(NopIn{});
  bad[0] = 0x1f;
  stream.insert(stream.end(), bad.begin(), bad.end());
  const auto result = run(stream);
  EXPECT_EQ(result.status, 1);
  ASSERT_EQ(result.lines.size(), 1u);
  EXPECT_NE(result.err.find("stream byte 48: byte 48 (Opcode): reserved opcode 0x1f"),
            std::string::npos)
      << result.err;
}

TEST(DumpTest, TruncatedStream) {
  auto stream = encode(NopOut{.immediate = true, .data = bytes_of("abcd")});
  stream.resize(50);
  const auto result = run(stream);
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find("[truncated]"), std::string::npos) << result.err;
}

TEST(DumpTest, MalformedKeysAreReportedInTheLine) {
  const auto text = bytes_of(std::string("NoEqualsSign\0", 13));
  const auto result = run(encode(TextRequest{.itt = 1, .data = text}));
  EXPECT_EQ(result.status, 1);
  ASSERT_EQ(result.lines.size(), 1u);
  EXPECT_TRUE(result.lines[0].contains("keys_error"));
}

TEST(DumpTest, KeysSplitByTheContinueBit) {
  auto stream = encode(TextResponse{.final = false, .continues = true, .data = bytes_of("Targe")});
  const auto rest = encode(TextResponse{.data = bytes_of(std::string("tName=iqn.x\0", 12))});
  stream.insert(stream.end(), rest.begin(), rest.end());
  const auto result = run(stream);
  ASSERT_EQ(result.status, 0) << result.err;
  ASSERT_EQ(result.lines.size(), 2u);
  EXPECT_EQ(result.lines[0]["keys_continue_in_next_pdu"], true);
  EXPECT_EQ(result.lines[1]["keys"][0]["key"], "TargetName");
  EXPECT_EQ(result.lines[1]["keys"][0]["value"], "iqn.x");
}

TEST(DumpTest, InvalidUtf8InKeysDoesNotThrow) {
  const auto text = bytes_of(std::string("TargetAlias=\xff\xfe\0", 15));
  const auto result = run(encode(TextResponse{.data = text}));
  EXPECT_EQ(result.status, 0) << result.err;
  ASSERT_EQ(result.lines.size(), 1u);
}

// The shape of `tshark -q -z follow,tcp,raw,0`: the first node flush left,
// the second indented by a tab.
std::string tshark_follow(const std::vector<std::uint8_t>& first,
                          const std::vector<std::uint8_t>& second) {
  auto hex = [](const std::vector<std::uint8_t>& bytes) {
    std::string out;
    char digits[3];
    for (auto b : bytes) {
      std::snprintf(digits, sizeof digits, "%02x", b);
      out += digits;
    }
    return out;
  };
  return "\n===================================================================\n"
         "Follow: tcp,raw\nFilter: tcp.stream eq 0\nNode 0: 127.0.0.1:41000\n"
         "Node 1: 127.0.0.1:3260\n" +
         hex(first) + "\n\t" + hex(second) +
         "\n===================================================================\n";
}

TEST(DumpTest, TsharkFollowTextPicksANode) {
  const auto request = encode(NopOut{.immediate = true, .itt = 7});
  const auto response = encode(NopIn{.itt = 7});
  const auto text = bytes_of(tshark_follow(request, response));
  DumpOptions options;
  options.node = 1;
  auto result = run(text, options);
  ASSERT_EQ(result.status, 0) << result.err;
  ASSERT_EQ(result.lines.size(), 1u);
  EXPECT_EQ(result.lines[0]["opcode"], "NOP-In");
  options.node = 0;
  result = run(text, options);
  ASSERT_EQ(result.lines.size(), 1u);
  EXPECT_EQ(result.lines[0]["opcode"], "NOP-Out");
  result = run(text);
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("both directions"), std::string::npos);
}

// tshark's real text of the inq capture gives the same PDUs as the raw
// streams split from it.
TEST(DumpTest, RealTsharkFollowTextMatchesRawStreams) {
  const auto text = read_file("iscsi/testdata/inq.0.follow.txt");
  for (int node : {0, 1}) {
    DumpOptions options;
    options.node = node;
    const auto from_text = run(text, options);
    const auto from_raw = run(read_file(node == 0 ? "iscsi/testdata/inq.0.initiator.bin"
                                                  : "iscsi/testdata/inq.0.target.bin"));
    ASSERT_EQ(from_text.status, 0) << from_text.err;
    ASSERT_FALSE(from_text.lines.empty());
    EXPECT_EQ(from_text.lines, from_raw.lines);
  }
}

TEST(StreamInputTest, BareHexDumpAndErrors) {
  auto parsed = parse_hex_stream(bytes_of("0a0B\nff\n"), std::nullopt);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, (std::vector<std::uint8_t>{0x0a, 0x0b, 0xff}));
  auto odd = parse_hex_stream(bytes_of("0a0\n"), std::nullopt);
  ASSERT_FALSE(odd.has_value());
  EXPECT_EQ(odd.error().line, 1u);
  EXPECT_NE(odd.error().message.find("odd number"), std::string::npos);
  auto bad = parse_hex_stream(bytes_of("00\n0g\n"), std::nullopt);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().line, 2u);
  EXPECT_NE(bad.error().message.find("column 2"), std::string::npos);
  EXPECT_FALSE(parse_hex_stream(bytes_of("00\n"), 2).has_value());
  EXPECT_TRUE(looks_like_tshark_follow(bytes_of("=====\n")));
  EXPECT_TRUE(looks_like_tshark_follow(bytes_of("\n\n=====\n")));
  EXPECT_FALSE(looks_like_tshark_follow(bytes_of("\n\n")));
  EXPECT_FALSE(looks_like_tshark_follow(bytes_of("\x43\x81")));
}

}  // namespace
}  // namespace isergw::iscsi::pdudump
