#include "control/api_json.h"

#include <chrono>

namespace isergw::control {

using nlohmann::json;

namespace {

const char* digest_name(iscsi::DigestType digest) {
  return digest == iscsi::DigestType::kCrc32c ? "CRC32C" : "None";
}

json latency_to_json(const gateway::LatencyHistogram& histogram) {
  const uint64_t count = histogram.count();
  return {{"count", count}, {"mean_seconds", count == 0 ? 0.0 : histogram.sum_seconds() / count}};
}

json connection_to_json(const gateway::ConnectionStatistics& connection) {
  return {{"pdus_received", connection.pdus_received},
          {"pdus_sent", connection.pdus_sent},
          {"bytes_received", connection.bytes_received},
          {"bytes_sent", connection.bytes_sent},
          {"digest_errors", connection.digest_errors},
          {"buffer_waits", connection.buffer_waits},
          {"headers_read_ahead", connection.headers_read_ahead},
          {"writes", connection.writes},
          {"rdma_work_requests", connection.rdma_work_requests},
          {"rdma_doorbells", connection.rdma_doorbells},
          {"rdma_completion_errors", connection.rdma_completion_errors},
          {"rdma_lists_handed_over", connection.rdma_lists_handed_over}};
}

}  // namespace

json parameters_to_json(const iscsi::NegotiatedParameters& parameters) {
  const iscsi::SessionParameters& session = parameters.session;
  const iscsi::ConnectionParameters& connection = parameters.connection;
  return {
      {"HeaderDigest", digest_name(connection.header_digest)},
      {"DataDigest", digest_name(connection.data_digest)},
      {"AuthMethod", connection.auth_method},
      {"MaxRecvDataSegmentLength", connection.max_recv_data_segment_length},
      {"MaxSendDataSegmentLength", connection.max_send_data_segment_length},
      {"InitialR2T", session.initial_r2t},
      {"ImmediateData", session.immediate_data},
      {"MaxBurstLength", session.max_burst_length},
      {"FirstBurstLength", session.first_burst_length},
      {"MaxOutstandingR2T", session.max_outstanding_r2t},
      {"MaxConnections", session.max_connections},
      {"DataPDUInOrder", session.data_pdu_in_order},
      {"DataSequenceInOrder", session.data_sequence_in_order},
      {"ErrorRecoveryLevel", session.error_recovery_level},
      {"DefaultTime2Wait", session.default_time2wait},
      {"DefaultTime2Retain", session.default_time2retain},
      {"RDMAExtensions", session.rdma_extensions},
  };
}

json session_to_json(const gateway::SessionInfo& session) {
  const auto& statistics = session.statistics;
  json front_statistics = connection_to_json(session.stream);
  front_statistics.update({{"commands", statistics.commands},
                           {"read_bytes", statistics.bytes_read},
                           {"written_bytes", statistics.bytes_written},
                           {"r2ts", statistics.r2ts},
                           {"fetched_ahead_bytes", statistics.bytes_fetched_ahead},
                           {"fetch_ahead_declined", statistics.fetch_ahead_declined},
                           {"landed_bytes", statistics.bytes_landed},
                           {"rejects", statistics.rejects},
                           {"out_of_window_commands", statistics.out_of_window_commands},
                           {"latency", latency_to_json(statistics.front_latency)}});
  json front{
      {"peer", session.peer},
      {"logged_in", session.logged_in},
      {"type", session.discovery ? "discovery" : "normal"},
      {"initiator", session.initiator_name},
      {"target", session.target_name},
      {"tsih", session.tsih},
      {"age_seconds", std::chrono::duration<double>(session.age).count()},
      {"active_tasks", session.active_tasks},
      {"statistics", std::move(front_statistics)},
  };
  front["parameters"] = session.parameters ? parameters_to_json(*session.parameters) : json();
  json back;  // null: discovery sessions and logins in progress have no back leg
  if (session.back) {
    const gateway::BackLegInfo& info = *session.back;
    back = {{"back_end", info.back_end},
            {"state", info.state},
            {"tsih", info.tsih},
            {"commands", info.commands},
            {"in_flight", info.in_flight},
            {"refused_commands", info.refused_commands},
            {"split_commands", info.split_commands},
            {"latency", latency_to_json(statistics.back_latency)},
            {"connection", info.connection ? connection_to_json(*info.connection) : json()}};
    back["parameters"] = info.parameters ? parameters_to_json(*info.parameters) : json();
  }
  return {{"id", session.id},
          {"worker", session.worker},
          {"fabric", session.fabric},
          {"front", std::move(front)},
          {"back", std::move(back)}};
}

json task_to_json(const gateway::TaskInfo& task) {
  const char* direction = task.read && task.write ? "bidirectional"
                          : task.write            ? "write"
                          : task.read             ? "read"
                                                  : "none";
  return {{"id", task.id},
          {"itt", task.itt},
          {"cmd_sn", task.cmd_sn},
          {"lun", task.lun >> 48},  // the single-level LUN of SAM's flat addressing
          {"operation_code", task.operation_code},
          {"direction", direction},
          {"expected_data_transfer_length", task.expected_data_transfer_length},
          {"state", gateway::task_state_name(task.state)},
          {"age_seconds", std::chrono::duration<double>(task.age).count()},
          {"in_state_seconds", std::chrono::duration<double>(task.in_state).count()}};
}

json portal_to_json(const gateway::PortalInfo& portal) {
  return {{"url", portal.url},
          {"bound_port", portal.bound_port},
          {"listening", portal.listening},
          {"connections", portal.connections},
          {"logins_in_progress", portal.logins_in_progress},
          {"refused", portal.refused}};
}

json health_to_json(const gateway::BackEndHealth& health) {
  return {{"target", health.target},
          {"back_end", health.back_end},
          {"healthy", health.healthy},
          {"detail", health.detail}};
}

}  // namespace isergw::control
