#include "iscsi/pdudump/pdu_json.h"

#include <cstdio>
#include <string>

#include "iscsi/pdu_encoder.h"

namespace isergw::iscsi::pdudump {
namespace {

using Json = nlohmann::ordered_json;

std::string hex32(std::uint32_t value) {
  char buffer[11];
  std::snprintf(buffer, sizeof buffer, "0x%08x", value);
  return buffer;
}

std::string hex64(std::uint64_t value) {
  char buffer[19];
  std::snprintf(buffer, sizeof buffer, "0x%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

std::string hex_bytes(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::string stage_name(LoginStage stage) {
  switch (stage) {
    case LoginStage::kSecurityNegotiation:
      return "SecurityNegotiation";
    case LoginStage::kLoginOperationalNegotiation:
      return "LoginOperationalNegotiation";
    case LoginStage::kFullFeaturePhase:
      return "FullFeaturePhase";
  }
  return std::to_string(static_cast<int>(stage));
}

void add_data_length(Json& out, std::span<const std::uint8_t> data) {
  out["data_segment_length"] = data.size();
}

struct FieldWriter {
  Json& out;

  void operator()(const NopOut& p) {
    out["flags"] = {{"I", p.immediate}};
    out["lun"] = hex64(p.lun);
    out["itt"] = hex32(p.itt);
    out["ttt"] = hex32(p.ttt);
    out["cmd_sn"] = p.cmd_sn;
    out["exp_stat_sn"] = p.exp_stat_sn;
    add_data_length(out, p.data);
  }
  void operator()(const NopIn& p) {
    out["lun"] = hex64(p.lun);
    out["itt"] = hex32(p.itt);
    out["ttt"] = hex32(p.ttt);
    out["stat_sn"] = p.stat_sn;
    out["exp_cmd_sn"] = p.exp_cmd_sn;
    out["max_cmd_sn"] = p.max_cmd_sn;
    add_data_length(out, p.data);
  }
  void operator()(const ScsiCommand& p) {
    out["flags"] = {{"I", p.immediate}, {"F", p.final}, {"R", p.read}, {"W", p.write}};
    out["task_attribute"] = static_cast<int>(p.task_attribute);
    out["lun"] = hex64(p.lun);
    out["itt"] = hex32(p.itt);
    out["expected_data_transfer_length"] = p.expected_data_transfer_length;
    out["cmd_sn"] = p.cmd_sn;
    out["exp_stat_sn"] = p.exp_stat_sn;
    out["cdb"] = hex_bytes(p.cdb) + hex_bytes(p.extended_cdb);
    if (p.bidi_read_expected_data_transfer_length) {
      out["bidi_read_expected_data_transfer_length"] = *p.bidi_read_expected_data_transfer_length;
    }
    if (!p.other_ahs.empty()) out["other_ahs"] = hex_bytes(p.other_ahs);
    add_data_length(out, p.data);
  }
  void operator()(const ScsiResponse& p) {
    out["flags"] = {{"o", p.bidi_read_overflow},
                    {"u", p.bidi_read_underflow},
                    {"O", p.residual_overflow},
                    {"U", p.residual_underflow}};
    out["response"] = p.response;
    out["status"] = p.status;
    out["itt"] = hex32(p.itt);
    out["snack_tag"] = hex32(p.snack_tag);
    out["stat_sn"] = p.stat_sn;
    out["exp_cmd_sn"] = p.exp_cmd_sn;
    out["max_cmd_sn"] = p.max_cmd_sn;
    out["exp_data_sn"] = p.exp_data_sn;
    out["bidi_read_residual_count"] = p.bidi_read_residual_count;
    out["residual_count"] = p.residual_count;
    add_data_length(out, p.data);
    if (!p.data.empty()) out["sense"] = hex_bytes(p.data);
  }
  void operator()(const TaskManagementRequest& p) {
    out["flags"] = {{"I", p.immediate}};
    out["function"] = static_cast<int>(p.function);
    out["lun"] = hex64(p.lun);
    out["itt"] = hex32(p.itt);
    out["referenced_task_tag"] = hex32(p.referenced_task_tag);
    out["cmd_sn"] = p.cmd_sn;
    out["exp_stat_sn"] = p.exp_stat_sn;
    out["ref_cmd_sn"] = p.ref_cmd_sn;
    out["exp_data_sn"] = p.exp_data_sn;
  }
  void operator()(const TaskManagementResponse& p) {
    out["response"] = static_cast<int>(p.response);
    out["itt"] = hex32(p.itt);
    out["stat_sn"] = p.stat_sn;
    out["exp_cmd_sn"] = p.exp_cmd_sn;
    out["max_cmd_sn"] = p.max_cmd_sn;
  }
  void operator()(const LoginRequest& p) {
    out["flags"] = {{"T", p.transit},
                    {"C", p.continues},
                    {"CSG", stage_name(p.csg)},
                    {"NSG", stage_name(p.nsg)}};
    out["version_max"] = p.version_max;
    out["version_min"] = p.version_min;
    out["isid"] = hex_bytes(p.isid);
    out["tsih"] = p.tsih;
    out["itt"] = hex32(p.itt);
    out["cid"] = p.cid;
    out["cmd_sn"] = p.cmd_sn;
    out["exp_stat_sn"] = p.exp_stat_sn;
    add_data_length(out, p.data);
  }
  void operator()(const LoginResponse& p) {
    out["flags"] = {{"T", p.transit},
                    {"C", p.continues},
                    {"CSG", stage_name(p.csg)},
                    {"NSG", stage_name(p.nsg)}};
    out["version_max"] = p.version_max;
    out["version_active"] = p.version_active;
    out["isid"] = hex_bytes(p.isid);
    out["tsih"] = p.tsih;
    out["itt"] = hex32(p.itt);
    out["stat_sn"] = p.stat_sn;
    out["exp_cmd_sn"] = p.exp_cmd_sn;
    out["max_cmd_sn"] = p.max_cmd_sn;
    out["status_class"] = static_cast<int>(p.status_class);
    out["status_detail"] = p.status_detail;
    add_data_length(out, p.data);
  }
  void operator()(const TextRequest& p) {
    out["flags"] = {{"I", p.immediate}, {"F", p.final}, {"C", p.continues}};
    out["lun"] = hex64(p.lun);
    out["itt"] = hex32(p.itt);
    out["ttt"] = hex32(p.ttt);
    out["cmd_sn"] = p.cmd_sn;
    out["exp_stat_sn"] = p.exp_stat_sn;
    add_data_length(out, p.data);
  }
  void operator()(const TextResponse& p) {
    out["flags"] = {{"F", p.final}, {"C", p.continues}};
    out["lun"] = hex64(p.lun);
    out["itt"] = hex32(p.itt);
    out["ttt"] = hex32(p.ttt);
    out["stat_sn"] = p.stat_sn;
    out["exp_cmd_sn"] = p.exp_cmd_sn;
    out["max_cmd_sn"] = p.max_cmd_sn;
    add_data_length(out, p.data);
  }
  void operator()(const DataOut& p) {
    out["flags"] = {{"F", p.final}};
    out["lun"] = hex64(p.lun);
    out["itt"] = hex32(p.itt);
    out["ttt"] = hex32(p.ttt);
    out["exp_stat_sn"] = p.exp_stat_sn;
    out["data_sn"] = p.data_sn;
    out["buffer_offset"] = p.buffer_offset;
    add_data_length(out, p.data);
  }
  void operator()(const DataIn& p) {
    out["flags"] = {{"F", p.final},
                    {"A", p.acknowledge},
                    {"O", p.residual_overflow},
                    {"U", p.residual_underflow},
                    {"S", p.status_present}};
    if (p.status_present) out["status"] = p.status;
    out["lun"] = hex64(p.lun);
    out["itt"] = hex32(p.itt);
    out["ttt"] = hex32(p.ttt);
    if (p.status_present) out["stat_sn"] = p.stat_sn;
    out["exp_cmd_sn"] = p.exp_cmd_sn;
    out["max_cmd_sn"] = p.max_cmd_sn;
    out["data_sn"] = p.data_sn;
    out["buffer_offset"] = p.buffer_offset;
    out["residual_count"] = p.residual_count;
    add_data_length(out, p.data);
  }
  void operator()(const LogoutRequest& p) {
    out["flags"] = {{"I", p.immediate}};
    out["reason"] = static_cast<int>(p.reason);
    out["itt"] = hex32(p.itt);
    out["cid"] = p.cid;
    out["cmd_sn"] = p.cmd_sn;
    out["exp_stat_sn"] = p.exp_stat_sn;
  }
  void operator()(const LogoutResponse& p) {
    out["response"] = static_cast<int>(p.response);
    out["itt"] = hex32(p.itt);
    out["stat_sn"] = p.stat_sn;
    out["exp_cmd_sn"] = p.exp_cmd_sn;
    out["max_cmd_sn"] = p.max_cmd_sn;
    out["time2wait"] = p.time2wait;
    out["time2retain"] = p.time2retain;
  }
  void operator()(const SnackRequest& p) {
    out["type"] = static_cast<int>(p.type);
    out["lun"] = hex64(p.lun);
    out["itt"] = hex32(p.itt);
    out["ttt_or_snack_tag"] = hex32(p.ttt_or_snack_tag);
    out["exp_stat_sn"] = p.exp_stat_sn;
    out["beg_run"] = p.beg_run;
    out["run_length"] = p.run_length;
  }
  void operator()(const R2t& p) {
    out["lun"] = hex64(p.lun);
    out["itt"] = hex32(p.itt);
    out["ttt"] = hex32(p.ttt);
    out["stat_sn"] = p.stat_sn;
    out["exp_cmd_sn"] = p.exp_cmd_sn;
    out["max_cmd_sn"] = p.max_cmd_sn;
    out["r2t_sn"] = p.r2t_sn;
    out["buffer_offset"] = p.buffer_offset;
    out["desired_data_transfer_length"] = p.desired_data_transfer_length;
  }
  void operator()(const AsyncMessage& p) {
    out["lun"] = hex64(p.lun);
    out["stat_sn"] = p.stat_sn;
    out["exp_cmd_sn"] = p.exp_cmd_sn;
    out["max_cmd_sn"] = p.max_cmd_sn;
    out["async_event"] = static_cast<int>(p.async_event);
    out["async_vcode"] = p.async_vcode;
    out["parameter1"] = p.parameter1;
    out["parameter2"] = p.parameter2;
    out["parameter3"] = p.parameter3;
    add_data_length(out, p.data);
  }
  void operator()(const Reject& p) {
    out["reason"] = static_cast<int>(p.reason);
    out["stat_sn"] = p.stat_sn;
    out["exp_cmd_sn"] = p.exp_cmd_sn;
    out["max_cmd_sn"] = p.max_cmd_sn;
    out["data_sn_or_r2t_sn"] = p.data_sn_or_r2t_sn;
    add_data_length(out, p.data);
    out["rejected_header"] = hex_bytes(p.data);
  }
};

}  // namespace

void PduJsonWriter::add_keys(Json& out, std::span<const std::uint8_t> data, bool continues,
                             TextKeyAccumulator& accumulator) {
  auto keys = accumulator.add(data, continues);
  if (!keys) {
    out["keys_error"] = keys.error().message();
    saw_key_errors_ = true;
    accumulator.reset();
    return;
  }
  if (!keys->has_value()) {
    out["keys_continue_in_next_pdu"] = true;
    return;
  }
  Json list = Json::array();
  for (const TextKey& key : **keys)
    list.push_back({{"key", key.key}, {"value", key.value}});
  out["keys"] = std::move(list);
}

Json PduJsonWriter::to_json(const StreamPdu& pdu) {
  Json out;
  out["offset"] = pdu.offset;
  out["length"] = pdu.length;
  const Opcode opcode = pdu_opcode(pdu.pdu);
  out["opcode"] = std::string(opcode_name(opcode));
  char code[5];
  std::snprintf(code, sizeof code, "0x%02x", static_cast<unsigned>(opcode));
  out["opcode_value"] = code;
  out["ahs_length"] = encoded_header_length(pdu.pdu, {}) - kBhsLength;
  std::visit(FieldWriter{out}, pdu.pdu);
  if (digests_negotiated_ && pdu.digests_active) out["digests_checked"] = true;
  if (const auto* p = std::get_if<LoginRequest>(&pdu.pdu)) {
    add_keys(out, p->data, p->continues, login_keys_);
  } else if (const auto* p = std::get_if<LoginResponse>(&pdu.pdu)) {
    add_keys(out, p->data, p->continues, login_keys_);
  } else if (const auto* p = std::get_if<TextRequest>(&pdu.pdu)) {
    add_keys(out, p->data, p->continues, text_keys_);
  } else if (const auto* p = std::get_if<TextResponse>(&pdu.pdu)) {
    add_keys(out, p->data, p->continues, text_keys_);
  }
  return out;
}

}  // namespace isergw::iscsi::pdudump
