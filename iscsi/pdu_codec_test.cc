// Encode -> decode round trips for every opcode, checking each field both in
// the decoded struct and at its RFC 7143 §11 offset in the encoded bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "iscsi/pdu_test_util.h"

namespace isergw::iscsi {
namespace {

using testing::be32_at;
using testing::bytes_of;
using testing::decode_as;
using testing::encode;

constexpr std::uint64_t kLun = 0x0001000000000000;

TEST(PduCodecTest, NopOut) {
  const auto ping = bytes_of("ping!");
  NopOut pdu{.immediate = true,
             .lun = kLun,
             .itt = 0x11,
             .ttt = 0x22,
             .cmd_sn = 0x33,
             .exp_stat_sn = 0x44,
             .data = ping};
  const auto bytes = encode(pdu);
  ASSERT_EQ(bytes.size(), 48u + 8);
  EXPECT_EQ(bytes[0], 0x40);
  EXPECT_EQ(bytes[1], 0x80);
  EXPECT_EQ(bytes[7], 5);  // DataSegmentLength
  EXPECT_EQ(be32_at(bytes, 20), 0x22u);
  EXPECT_EQ(be32_at(bytes, 24), 0x33u);
  EXPECT_EQ(be32_at(bytes, 28), 0x44u);
  EXPECT_EQ(bytes[53], 0);  // padding
  const auto out = decode_as<NopOut>(bytes);
  EXPECT_TRUE(out.immediate);
  EXPECT_EQ(out.lun, kLun);
  EXPECT_EQ(out.itt, 0x11u);
  EXPECT_EQ(out.ttt, 0x22u);
  EXPECT_EQ(out.cmd_sn, 0x33u);
  EXPECT_EQ(out.exp_stat_sn, 0x44u);
  EXPECT_TRUE(std::ranges::equal(out.data, ping));
}

TEST(PduCodecTest, NopIn) {
  NopIn pdu{.lun = kLun,
            .itt = kReservedTag,
            .ttt = 0x22,
            .stat_sn = 0x33,
            .exp_cmd_sn = 0x44,
            .max_cmd_sn = 0x55};
  const auto bytes = encode(pdu);
  ASSERT_EQ(bytes.size(), 48u);
  EXPECT_EQ(bytes[0], 0x20);
  EXPECT_EQ(be32_at(bytes, 32), 0x55u);
  const auto out = decode_as<NopIn>(bytes);
  EXPECT_EQ(out.lun, kLun);
  EXPECT_EQ(out.itt, kReservedTag);
  EXPECT_EQ(out.ttt, 0x22u);
  EXPECT_EQ(out.stat_sn, 0x33u);
  EXPECT_EQ(out.exp_cmd_sn, 0x44u);
  EXPECT_EQ(out.max_cmd_sn, 0x55u);
  EXPECT_TRUE(out.data.empty());
}

TEST(PduCodecTest, ScsiCommandWithImmediateData) {
  const auto data = bytes_of("immediate data!!");
  ScsiCommand pdu{.immediate = false,
                  .final = false,
                  .read = false,
                  .write = true,
                  .task_attribute = TaskAttribute::kOrdered,
                  .lun = kLun,
                  .itt = 0x10203040,
                  .expected_data_transfer_length = 8192,
                  .cmd_sn = 7,
                  .exp_stat_sn = 9,
                  .cdb = {0x2a, 0, 0, 0, 0, 1, 0, 0, 0x10, 0},
                  .data = data};
  const auto bytes = encode(pdu);
  EXPECT_EQ(bytes[0], 0x01);
  EXPECT_EQ(bytes[1], 0x22);  // F=0 R=0 W=1 ATTR=2
  EXPECT_EQ(bytes[4], 0);
  EXPECT_EQ(be32_at(bytes, 20), 8192u);
  EXPECT_EQ(bytes[32], 0x2a);
  const auto out = decode_as<ScsiCommand>(bytes);
  EXPECT_FALSE(out.immediate);
  EXPECT_FALSE(out.final);
  EXPECT_FALSE(out.read);
  EXPECT_TRUE(out.write);
  EXPECT_EQ(out.task_attribute, TaskAttribute::kOrdered);
  EXPECT_EQ(out.lun, kLun);
  EXPECT_EQ(out.itt, 0x10203040u);
  EXPECT_EQ(out.expected_data_transfer_length, 8192u);
  EXPECT_EQ(out.cmd_sn, 7u);
  EXPECT_EQ(out.exp_stat_sn, 9u);
  EXPECT_EQ(out.cdb, pdu.cdb);
  EXPECT_TRUE(out.extended_cdb.empty());
  EXPECT_FALSE(out.bidi_read_expected_data_transfer_length);
  EXPECT_TRUE(std::ranges::equal(out.data, data));
}

TEST(PduCodecTest, ScsiCommandWithExtendedCdbAndBidiAhs) {
  // A 32-byte CDB: 16 in the BHS, 16 in the Extended CDB AHS (§11.2.2.3).
  std::vector<std::uint8_t> tail(16);
  std::iota(tail.begin(), tail.end(), 0xa0);
  ScsiCommand pdu{.final = true,
                  .read = true,
                  .write = true,
                  .itt = 1,
                  .cdb = {0x7f, 0, 0, 0, 0, 0, 0, 0x18},
                  .extended_cdb = tail,
                  .bidi_read_expected_data_transfer_length = 4096};
  const auto bytes = encode(pdu);
  // Extended CDB AHS: 3 + 17 = 20 bytes; bidi AHS: 8 bytes; 7 words.
  EXPECT_EQ(bytes[4], 7);
  ASSERT_EQ(bytes.size(), 48u + 28);
  EXPECT_EQ(load_be16(bytes.data() + 48), 17);
  EXPECT_EQ(bytes[50], 1);
  EXPECT_EQ(bytes[52], 0xa0);
  EXPECT_EQ(load_be16(bytes.data() + 68), 5);
  EXPECT_EQ(bytes[70], 2);
  EXPECT_EQ(be32_at(bytes, 72), 4096u);
  const auto out = decode_as<ScsiCommand>(bytes);
  EXPECT_TRUE(out.read);
  EXPECT_TRUE(out.write);
  EXPECT_TRUE(std::ranges::equal(out.extended_cdb, tail));
  EXPECT_EQ(out.bidi_read_expected_data_transfer_length, 4096u);
  EXPECT_TRUE(out.other_ahs.empty());
}

TEST(PduCodecTest, ScsiCommandKeepsUnknownAhsVerbatim) {
  // Type 0x3f, AHSLength 3: the AHS-specific byte plus two bytes, padded.
  const std::vector<std::uint8_t> unknown = {0x00, 0x03, 0x3f, 0xaa, 0xbb, 0xcc, 0x00, 0x00};
  ScsiCommand pdu{.itt = 5, .other_ahs = unknown};
  const auto bytes = encode(pdu);
  EXPECT_EQ(bytes[4], 2);
  const auto out = decode_as<ScsiCommand>(bytes);
  EXPECT_TRUE(std::ranges::equal(out.other_ahs, unknown));
  EXPECT_TRUE(std::ranges::equal(encode(out), bytes));
}

TEST(PduCodecTest, ScsiResponse) {
  const std::vector<std::uint8_t> sense = {0x00, 0x04, 0x70, 0x00, 0x05, 0x00};
  ScsiResponse pdu{.bidi_read_overflow = true,
                   .residual_underflow = true,
                   .response = kResponseCommandCompleted,
                   .status = 0x02,
                   .itt = 0x99,
                   .snack_tag = 0x1234,
                   .stat_sn = 3,
                   .exp_cmd_sn = 4,
                   .max_cmd_sn = 5,
                   .exp_data_sn = 6,
                   .bidi_read_residual_count = 7,
                   .residual_count = 8,
                   .data = sense};
  const auto bytes = encode(pdu);
  EXPECT_EQ(bytes[0], 0x21);
  EXPECT_EQ(bytes[1], 0x80 | 0x10 | 0x02);
  EXPECT_EQ(bytes[3], 0x02);
  EXPECT_EQ(be32_at(bytes, 44), 8u);
  const auto out = decode_as<ScsiResponse>(bytes);
  EXPECT_TRUE(out.bidi_read_overflow);
  EXPECT_FALSE(out.bidi_read_underflow);
  EXPECT_FALSE(out.residual_overflow);
  EXPECT_TRUE(out.residual_underflow);
  EXPECT_EQ(out.response, kResponseCommandCompleted);
  EXPECT_EQ(out.status, 0x02);
  EXPECT_EQ(out.itt, 0x99u);
  EXPECT_EQ(out.snack_tag, 0x1234u);
  EXPECT_EQ(out.stat_sn, 3u);
  EXPECT_EQ(out.exp_cmd_sn, 4u);
  EXPECT_EQ(out.max_cmd_sn, 5u);
  EXPECT_EQ(out.exp_data_sn, 6u);
  EXPECT_EQ(out.bidi_read_residual_count, 7u);
  EXPECT_EQ(out.residual_count, 8u);
  EXPECT_TRUE(std::ranges::equal(out.data, sense));
}

TEST(PduCodecTest, TaskManagementRequest) {
  TaskManagementRequest pdu{.immediate = true,
                            .function = TaskManagementFunction::kLogicalUnitReset,
                            .lun = kLun,
                            .itt = 1,
                            .referenced_task_tag = 2,
                            .cmd_sn = 3,
                            .exp_stat_sn = 4,
                            .ref_cmd_sn = 5,
                            .exp_data_sn = 6};
  const auto bytes = encode(pdu);
  EXPECT_EQ(bytes[0], 0x42);
  EXPECT_EQ(bytes[1], 0x85);
  EXPECT_EQ(be32_at(bytes, 36), 6u);
  const auto out = decode_as<TaskManagementRequest>(bytes);
  EXPECT_TRUE(out.immediate);
  EXPECT_EQ(out.function, TaskManagementFunction::kLogicalUnitReset);
  EXPECT_EQ(out.lun, kLun);
  EXPECT_EQ(out.itt, 1u);
  EXPECT_EQ(out.referenced_task_tag, 2u);
  EXPECT_EQ(out.cmd_sn, 3u);
  EXPECT_EQ(out.exp_stat_sn, 4u);
  EXPECT_EQ(out.ref_cmd_sn, 5u);
  EXPECT_EQ(out.exp_data_sn, 6u);
}

TEST(PduCodecTest, TaskManagementResponse) {
  TaskManagementResponse pdu{.response = TaskManagementResponseCode::kTaskDoesNotExist,
                             .itt = 1,
                             .stat_sn = 2,
                             .exp_cmd_sn = 3,
                             .max_cmd_sn = 4};
  const auto bytes = encode(pdu);
  EXPECT_EQ(bytes[0], 0x22);
  EXPECT_EQ(bytes[2], 1);
  const auto out = decode_as<TaskManagementResponse>(bytes);
  EXPECT_EQ(out.response, TaskManagementResponseCode::kTaskDoesNotExist);
  EXPECT_EQ(out.itt, 1u);
  EXPECT_EQ(out.stat_sn, 2u);
  EXPECT_EQ(out.exp_cmd_sn, 3u);
  EXPECT_EQ(out.max_cmd_sn, 4u);
}

TEST(PduCodecTest, LoginRequest) {
  const auto keys = bytes_of(std::string("InitiatorName=iqn.x\0SessionType=Normal\0", 40));
  LoginRequest pdu{.transit = true,
                   .csg = LoginStage::kSecurityNegotiation,
                   .nsg = LoginStage::kLoginOperationalNegotiation,
                   .version_max = 0,
                   .version_min = 0,
                   .isid = {0x80, 0x12, 0x34, 0x56, 0x78, 0x9a},
                   .tsih = 0,
                   .itt = 0x01020304,
                   .cid = 0x0506,
                   .cmd_sn = 1,
                   .exp_stat_sn = 2,
                   .data = keys};
  const auto bytes = encode(pdu);
  EXPECT_EQ(bytes[0], 0x43);
  EXPECT_EQ(bytes[1], 0x81);  // T, CSG 0, NSG 1
  EXPECT_EQ(bytes[8], 0x80);
  EXPECT_EQ(bytes[13], 0x9a);
  EXPECT_EQ(load_be16(bytes.data() + 20), 0x0506);
  const auto out = decode_as<LoginRequest>(bytes);
  EXPECT_TRUE(out.transit);
  EXPECT_FALSE(out.continues);
  EXPECT_EQ(out.csg, LoginStage::kSecurityNegotiation);
  EXPECT_EQ(out.nsg, LoginStage::kLoginOperationalNegotiation);
  EXPECT_EQ(out.isid, pdu.isid);
  EXPECT_EQ(out.tsih, 0);
  EXPECT_EQ(out.itt, 0x01020304u);
  EXPECT_EQ(out.cid, 0x0506);
  EXPECT_EQ(out.cmd_sn, 1u);
  EXPECT_EQ(out.exp_stat_sn, 2u);
  EXPECT_TRUE(std::ranges::equal(out.data, keys));
}

TEST(PduCodecTest, LoginResponse) {
  LoginResponse pdu{.continues = true,
                    .csg = LoginStage::kLoginOperationalNegotiation,
                    .nsg = LoginStage::kSecurityNegotiation,
                    .version_max = 0,
                    .version_active = 0,
                    .isid = {1, 2, 3, 4, 5, 6},
                    .tsih = 0x0a0b,
                    .itt = 7,
                    .stat_sn = 8,
                    .exp_cmd_sn = 9,
                    .max_cmd_sn = 10,
                    .status_class = LoginStatusClass::kInitiatorError,
                    .status_detail = 0x01};
  const auto bytes = encode(pdu);
  EXPECT_EQ(bytes[0], 0x23);
  EXPECT_EQ(bytes[1], 0x44);
  EXPECT_EQ(load_be16(bytes.data() + 14), 0x0a0b);
  EXPECT_EQ(bytes[36], 2);
  EXPECT_EQ(bytes[37], 1);
  const auto out = decode_as<LoginResponse>(bytes);
  EXPECT_FALSE(out.transit);
  EXPECT_TRUE(out.continues);
  EXPECT_EQ(out.csg, LoginStage::kLoginOperationalNegotiation);
  EXPECT_EQ(out.isid, pdu.isid);
  EXPECT_EQ(out.tsih, 0x0a0b);
  EXPECT_EQ(out.itt, 7u);
  EXPECT_EQ(out.stat_sn, 8u);
  EXPECT_EQ(out.exp_cmd_sn, 9u);
  EXPECT_EQ(out.max_cmd_sn, 10u);
  EXPECT_EQ(out.status_class, LoginStatusClass::kInitiatorError);
  EXPECT_EQ(out.status_detail, 1);
}

TEST(PduCodecTest, TextRequestAndResponse) {
  const auto keys = bytes_of(std::string("SendTargets=All\0", 16));
  TextRequest request{.immediate = true,
                      .final = false,
                      .continues = true,
                      .lun = kLun,
                      .itt = 1,
                      .ttt = 2,
                      .cmd_sn = 3,
                      .exp_stat_sn = 4,
                      .data = keys};
  auto bytes = encode(request);
  EXPECT_EQ(bytes[0], 0x44);
  EXPECT_EQ(bytes[1], 0x40);
  const auto req = decode_as<TextRequest>(bytes);
  EXPECT_TRUE(req.immediate);
  EXPECT_FALSE(req.final);
  EXPECT_TRUE(req.continues);
  EXPECT_EQ(req.lun, kLun);
  EXPECT_EQ(req.itt, 1u);
  EXPECT_EQ(req.ttt, 2u);
  EXPECT_EQ(req.cmd_sn, 3u);
  EXPECT_EQ(req.exp_stat_sn, 4u);
  EXPECT_TRUE(std::ranges::equal(req.data, keys));

  TextResponse response{
      .final = true, .itt = 1, .ttt = kReservedTag, .stat_sn = 5, .exp_cmd_sn = 6, .max_cmd_sn = 7};
  bytes = encode(response);
  EXPECT_EQ(bytes[0], 0x24);
  EXPECT_EQ(bytes[1], 0x80);
  const auto resp = decode_as<TextResponse>(bytes);
  EXPECT_TRUE(resp.final);
  EXPECT_FALSE(resp.continues);
  EXPECT_EQ(resp.ttt, kReservedTag);
  EXPECT_EQ(resp.stat_sn, 5u);
  EXPECT_EQ(resp.exp_cmd_sn, 6u);
  EXPECT_EQ(resp.max_cmd_sn, 7u);
}

TEST(PduCodecTest, DataOut) {
  std::vector<std::uint8_t> data(513, 0x5a);
  DataOut pdu{.final = true,
              .lun = kLun,
              .itt = 1,
              .ttt = 2,
              .exp_stat_sn = 3,
              .data_sn = 4,
              .buffer_offset = 65536,
              .data = data};
  const auto bytes = encode(pdu);
  ASSERT_EQ(bytes.size(), 48u + 516);
  EXPECT_EQ(bytes[0], 0x05);
  EXPECT_EQ(bytes[1], 0x80);
  EXPECT_EQ(be32_at(bytes, 40), 65536u);
  const auto out = decode_as<DataOut>(bytes);
  EXPECT_TRUE(out.final);
  EXPECT_EQ(out.lun, kLun);
  EXPECT_EQ(out.itt, 1u);
  EXPECT_EQ(out.ttt, 2u);
  EXPECT_EQ(out.exp_stat_sn, 3u);
  EXPECT_EQ(out.data_sn, 4u);
  EXPECT_EQ(out.buffer_offset, 65536u);
  EXPECT_TRUE(std::ranges::equal(out.data, data));
}

TEST(PduCodecTest, DataInWithStatus) {
  std::vector<std::uint8_t> data(36, 0x11);
  DataIn pdu{.final = true,
             .acknowledge = true,
             .residual_underflow = true,
             .status_present = true,
             .status = 0,
             .lun = kLun,
             .itt = 1,
             .ttt = kReservedTag,
             .stat_sn = 2,
             .exp_cmd_sn = 3,
             .max_cmd_sn = 4,
             .data_sn = 5,
             .buffer_offset = 6,
             .residual_count = 7,
             .data = data};
  const auto bytes = encode(pdu);
  EXPECT_EQ(bytes[0], 0x25);
  EXPECT_EQ(bytes[1], 0x80 | 0x40 | 0x02 | 0x01);
  EXPECT_EQ(be32_at(bytes, 44), 7u);
  const auto out = decode_as<DataIn>(bytes);
  EXPECT_TRUE(out.final);
  EXPECT_TRUE(out.acknowledge);
  EXPECT_FALSE(out.residual_overflow);
  EXPECT_TRUE(out.residual_underflow);
  EXPECT_TRUE(out.status_present);
  EXPECT_EQ(out.lun, kLun);
  EXPECT_EQ(out.itt, 1u);
  EXPECT_EQ(out.ttt, kReservedTag);
  EXPECT_EQ(out.stat_sn, 2u);
  EXPECT_EQ(out.exp_cmd_sn, 3u);
  EXPECT_EQ(out.max_cmd_sn, 4u);
  EXPECT_EQ(out.data_sn, 5u);
  EXPECT_EQ(out.buffer_offset, 6u);
  EXPECT_EQ(out.residual_count, 7u);
  EXPECT_TRUE(std::ranges::equal(out.data, data));
}

TEST(PduCodecTest, LogoutRequestAndResponse) {
  LogoutRequest request{.immediate = true,
                        .reason = LogoutReason::kRemoveConnectionForRecovery,
                        .itt = 1,
                        .cid = 2,
                        .cmd_sn = 3,
                        .exp_stat_sn = 4};
  auto bytes = encode(request);
  EXPECT_EQ(bytes[0], 0x46);
  EXPECT_EQ(bytes[1], 0x82);
  const auto req = decode_as<LogoutRequest>(bytes);
  EXPECT_TRUE(req.immediate);
  EXPECT_EQ(req.reason, LogoutReason::kRemoveConnectionForRecovery);
  EXPECT_EQ(req.itt, 1u);
  EXPECT_EQ(req.cid, 2);
  EXPECT_EQ(req.cmd_sn, 3u);
  EXPECT_EQ(req.exp_stat_sn, 4u);

  LogoutResponse response{.response = LogoutResponseCode::kCidNotFound,
                          .itt = 1,
                          .stat_sn = 2,
                          .exp_cmd_sn = 3,
                          .max_cmd_sn = 4,
                          .time2wait = 5,
                          .time2retain = 6};
  bytes = encode(response);
  EXPECT_EQ(bytes[0], 0x26);
  EXPECT_EQ(load_be16(bytes.data() + 40), 5);
  EXPECT_EQ(load_be16(bytes.data() + 42), 6);
  const auto resp = decode_as<LogoutResponse>(bytes);
  EXPECT_EQ(resp.response, LogoutResponseCode::kCidNotFound);
  EXPECT_EQ(resp.itt, 1u);
  EXPECT_EQ(resp.stat_sn, 2u);
  EXPECT_EQ(resp.exp_cmd_sn, 3u);
  EXPECT_EQ(resp.max_cmd_sn, 4u);
  EXPECT_EQ(resp.time2wait, 5);
  EXPECT_EQ(resp.time2retain, 6);
}

TEST(PduCodecTest, SnackRequest) {
  SnackRequest pdu{.type = SnackType::kRData,
                   .lun = kLun,
                   .itt = 1,
                   .ttt_or_snack_tag = 2,
                   .exp_stat_sn = 3,
                   .beg_run = 4,
                   .run_length = 5};
  const auto bytes = encode(pdu);
  EXPECT_EQ(bytes[0], 0x10);
  EXPECT_EQ(bytes[1], 0x83);
  const auto out = decode_as<SnackRequest>(bytes);
  EXPECT_EQ(out.type, SnackType::kRData);
  EXPECT_EQ(out.lun, kLun);
  EXPECT_EQ(out.itt, 1u);
  EXPECT_EQ(out.ttt_or_snack_tag, 2u);
  EXPECT_EQ(out.exp_stat_sn, 3u);
  EXPECT_EQ(out.beg_run, 4u);
  EXPECT_EQ(out.run_length, 5u);
}

TEST(PduCodecTest, R2t) {
  R2t pdu{.lun = kLun,
          .itt = 1,
          .ttt = 2,
          .stat_sn = 3,
          .exp_cmd_sn = 4,
          .max_cmd_sn = 5,
          .r2t_sn = 6,
          .buffer_offset = 7,
          .desired_data_transfer_length = 8};
  const auto bytes = encode(pdu);
  EXPECT_EQ(bytes[0], 0x31);
  EXPECT_EQ(be32_at(bytes, 44), 8u);
  const auto out = decode_as<R2t>(bytes);
  EXPECT_EQ(out.lun, kLun);
  EXPECT_EQ(out.itt, 1u);
  EXPECT_EQ(out.ttt, 2u);
  EXPECT_EQ(out.stat_sn, 3u);
  EXPECT_EQ(out.exp_cmd_sn, 4u);
  EXPECT_EQ(out.max_cmd_sn, 5u);
  EXPECT_EQ(out.r2t_sn, 6u);
  EXPECT_EQ(out.buffer_offset, 7u);
  EXPECT_EQ(out.desired_data_transfer_length, 8u);
}

TEST(PduCodecTest, AsyncMessage) {
  const std::vector<std::uint8_t> sense = {0, 2, 0x70, 0};
  AsyncMessage pdu{.lun = kLun,
                   .stat_sn = 1,
                   .exp_cmd_sn = 2,
                   .max_cmd_sn = 3,
                   .async_event = AsyncEvent::kLogoutRequested,
                   .async_vcode = 4,
                   .parameter1 = 5,
                   .parameter2 = 6,
                   .parameter3 = 7,
                   .data = sense};
  const auto bytes = encode(pdu);
  EXPECT_EQ(bytes[0], 0x32);
  EXPECT_EQ(be32_at(bytes, 16), kReservedTag);
  EXPECT_EQ(bytes[36], 1);
  const auto out = decode_as<AsyncMessage>(bytes);
  EXPECT_EQ(out.lun, kLun);
  EXPECT_EQ(out.stat_sn, 1u);
  EXPECT_EQ(out.exp_cmd_sn, 2u);
  EXPECT_EQ(out.max_cmd_sn, 3u);
  EXPECT_EQ(out.async_event, AsyncEvent::kLogoutRequested);
  EXPECT_EQ(out.async_vcode, 4);
  EXPECT_EQ(out.parameter1, 5);
  EXPECT_EQ(out.parameter2, 6);
  EXPECT_EQ(out.parameter3, 7);
  EXPECT_TRUE(std::ranges::equal(out.data, sense));
}

TEST(PduCodecTest, RejectCarriesTheRejectedHeader) {
  const auto rejected = encode(NopOut{.immediate = true});
  Reject pdu{.reason = RejectReason::kProtocolError,
             .stat_sn = 1,
             .exp_cmd_sn = 2,
             .max_cmd_sn = 3,
             .data_sn_or_r2t_sn = 4,
             .data = rejected};
  const auto bytes = encode(pdu);
  EXPECT_EQ(bytes[0], 0x3f);
  EXPECT_EQ(bytes[2], 0x04);
  EXPECT_EQ(bytes[7], 48);
  const auto out = decode_as<Reject>(bytes);
  EXPECT_EQ(out.reason, RejectReason::kProtocolError);
  EXPECT_EQ(out.stat_sn, 1u);
  EXPECT_EQ(out.exp_cmd_sn, 2u);
  EXPECT_EQ(out.max_cmd_sn, 3u);
  EXPECT_EQ(out.data_sn_or_r2t_sn, 4u);
  EXPECT_TRUE(std::ranges::equal(out.data, rejected));
}

TEST(PduCodecTest, OpcodeAndDataAccessorsCoverEveryAlternative) {
  const auto data = bytes_of("x");
  Pdu pdu = R2t{};
  EXPECT_EQ(pdu_opcode(pdu), Opcode::kR2t);
  set_pdu_data(pdu, {});
  EXPECT_TRUE(pdu_data(pdu).empty());
  pdu = TextResponse{};
  set_pdu_data(pdu, data);
  EXPECT_EQ(pdu_opcode(pdu), Opcode::kTextResponse);
  EXPECT_EQ(pdu_data(pdu).size(), 1u);
}

}  // namespace
}  // namespace isergw::iscsi
