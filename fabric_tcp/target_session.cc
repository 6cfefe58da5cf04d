#include "fabric_tcp/target_session.h"

#include <algorithm>

#include "common/log.h"

namespace isergw::fabric_tcp {

namespace asio = boost::asio;
using gateway::Task;

namespace {

std::string endpoint_text(const asio::ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

bool crc32c(iscsi::DigestType digest) {
  return digest == iscsi::DigestType::kCrc32c;
}

}  // namespace

TargetSession::TargetSession(asio::ip::tcp::socket socket, gateway::BufferPool& pool,
                             std::shared_ptr<const gateway::TargetMap> targets,
                             gateway::FrontSessionOptions options, ClosedCallback on_closed)
    : FrontSession(socket.get_executor(), pool, std::move(targets), std::move(options),
                   std::move(on_closed)) {
  boost::system::error_code error;
  const auto remote = socket.remote_endpoint(error);
  peer_ = error ? "unconnected" : endpoint_text(remote);
  const auto local = socket.local_endpoint(error);
  if (!error) {
    local_host_ = local.address().to_string();
    local_port_ = local.port();
  }
  stream_ =
      std::make_shared<PduStream>(std::move(socket), pool_, *this, gateway::BufferUse::kHostData);
}

TargetSession::~TargetSession() = default;

void TargetSession::close(const std::string& reason) {
  stream_->close(reason);
}

void TargetSession::adjust_login_policy(iscsi::NegotiationPolicy& policy) {
  policy.header_digests = {"CRC32C", "None"};
  policy.data_digests = {"CRC32C", "None"};
  // The largest data segment a host may send: one pool buffer receives it.
  policy.max_recv_data_segment_length =
      static_cast<uint32_t>(std::min<size_t>(pool_.buffer_size(), 256 * 1024));
}

void TargetSession::begin_full_feature(const iscsi::NegotiatedParameters& parameters) {
  // Digests and the data segment limit apply from the first PDU after the
  // final Login Response (RFC 7143 §13.1, §13.12).
  const iscsi::ConnectionParameters& connection = parameters.connection;
  stream_->set_decode_options(
      {.header_digest = crc32c(connection.header_digest),
       .data_digest = crc32c(connection.data_digest),
       .max_recv_data_segment_length = connection.max_recv_data_segment_length});
  stream_->set_encode_options({.header_digest = crc32c(connection.header_digest),
                               .data_digest = crc32c(connection.data_digest)});
}

std::vector<TargetSession::R2tSequence>::iterator TargetSession::find_r2t(TcpTask& task,
                                                                          uint32_t ttt) {
  return std::find_if(task.r2ts.begin(), task.r2ts.end(),
                      [ttt](const R2tSequence& r2t) { return r2t.ttt == ttt; });
}

bool TargetSession::accept_solicited_data_out(FrontTask& front_task,
                                              const iscsi::DataOut& data_out) {
  auto& task = static_cast<TcpTask&>(front_task);
  const uint32_t length = static_cast<uint32_t>(data_out.data.size());
  const uint64_t end = uint64_t{data_out.buffer_offset} + length;
  const auto sequence = find_r2t(task, data_out.ttt);
  if (sequence == task.r2ts.end()) {
    protocol_error("Data-Out with TTT " + std::to_string(data_out.ttt) +
                   " that no outstanding R2T carries");
    return false;
  }
  if (data_out.buffer_offset < sequence->offset ||
      end > uint64_t{sequence->offset} + sequence->length) {
    protocol_error("Data-Out at offset " + std::to_string(data_out.buffer_offset) +
                   " outside its R2T's range");
    return false;
  }
  if (data_out.data_sn != sequence->next_data_sn) {
    protocol_error("Data-Out with DataSN " + std::to_string(data_out.data_sn) + " where " +
                   std::to_string(sequence->next_data_sn) + " was expected");
    return false;
  }
  ++sequence->next_data_sn;
  sequence->received += length;
  if (data_out.final || sequence->received == sequence->length) {
    if (sequence->received != sequence->length) {
      protocol_error("R2T sequence ended with " + std::to_string(sequence->received) + " of " +
                     std::to_string(sequence->length) + " bytes");
      return false;
    }
    task.r2ts.erase(sequence);
  }
  return true;
}

std::optional<gateway::DataLanding> TargetSession::landing_for(const iscsi::Pdu& pdu,
                                                               uint32_t length) {
  // Only the very next bytes an outstanding R2T waits for may land in the
  // back leg's memory: each range is then written there once, by a
  // Data-Out that accept_solicited_data_out() will take. Anything else goes
  // to a pool buffer and meets the usual checks.
  const auto* data_out = std::get_if<iscsi::DataOut>(&pdu);
  if (data_out == nullptr || data_out->ttt == iscsi::kReservedTag || length == 0) {
    return std::nullopt;
  }
  auto* task = static_cast<TcpTask*>(find_task(data_out->itt));
  if (task == nullptr || !task->task.write) return std::nullopt;
  const auto sequence = find_r2t(*task, data_out->ttt);
  if (sequence == task->r2ts.end() || data_out->data_sn != sequence->next_data_sn ||
      data_out->buffer_offset != sequence->offset + sequence->received ||
      length > sequence->length - sequence->received) {
    return std::nullopt;
  }
  return landing(task->task, data_out->buffer_offset, length);
}

void TargetSession::fetch(FrontTask& front_task, uint32_t from, uint32_t to) {
  auto& task = static_cast<TcpTask&>(front_task);
  // R2Ts ask for bursts of at most MaxBurstLength, and none crosses the
  // edge of a buffer set aside for the data (FrontSession::landing()), so
  // that each Data-Out lands whole in one: buffers hold the range's next
  // buffer_size() bytes each, counted from `from`.
  const uint32_t base = from;
  const auto size = static_cast<uint32_t>(pool_.buffer_size());
  while (from < to) {
    const uint64_t edge = base + (uint64_t{from - base} / size + 1) * size;
    const auto burst = static_cast<uint32_t>(std::min<uint64_t>(to, edge) - from);
    const uint32_t length = std::min(burst, parameters_.session.max_burst_length);
    task.wanted.emplace_back(from, length);
    from += length;
  }
  solicit(task);
}

void TargetSession::on_write_data(FrontTask& front_task) {
  // An R2T sequence may have ended, leaving room for the next.
  solicit(static_cast<TcpTask&>(front_task));
}

void TargetSession::solicit(TcpTask& task) {
  while (!task.wanted.empty() && task.r2ts.size() < parameters_.session.max_outstanding_r2t) {
    const auto [offset, length] = task.wanted.front();
    task.wanted.erase(task.wanted.begin());
    R2tSequence sequence{next_target_transfer_tag(), offset, length};
    task.r2ts.push_back(sequence);
    iscsi::R2t r2t;
    r2t.lun = task.task.lun;
    r2t.itt = task.task.itt;
    r2t.ttt = sequence.ttt;
    stamp(r2t, false);  // an R2T carries StatSN without advancing it
    r2t.r2t_sn = task.r2t_sn++;
    r2t.buffer_offset = offset;
    r2t.desired_data_transfer_length = length;
    ++statistics_.r2ts;
    stream_->send(r2t);
  }
}

uint32_t TargetSession::data_pdus_sent(const FrontTask& front_task) const {
  const auto& task = static_cast<const TcpTask&>(front_task);
  return task.data_in_sn + task.r2t_sn;
}

void TargetSession::push(Task& task, uint32_t offset, std::span<const uint8_t> data,
                         std::shared_ptr<const void> owner) {
  auto* front_task = static_cast<TcpTask*>(find_task(task.itt));
  if (front_task == nullptr) return;
  const uint32_t max_segment = parameters_.connection.max_send_data_segment_length;
  const uint32_t read_end = task.read_length();
  size_t sent = 0;
  while (sent < data.size()) {
    const uint32_t room = parameters_.session.max_burst_length - front_task->data_in_burst;
    const uint32_t length =
        static_cast<uint32_t>(std::min<size_t>({data.size() - sent, max_segment, room}));
    iscsi::DataIn data_in;
    data_in.lun = task.lun;
    data_in.itt = task.itt;
    data_in.exp_cmd_sn = exp_cmd_sn();
    data_in.max_cmd_sn = max_cmd_sn();
    data_in.data_sn = front_task->data_in_sn++;
    data_in.buffer_offset = offset + static_cast<uint32_t>(sent);
    data_in.data = data.subspan(sent, length);
    front_task->data_in_burst += length;
    // F ends each Data-In sequence of at most MaxBurstLength (RFC 7143
    // §11.7.1, §13.13) and the command's last one.
    const bool last = data_in.buffer_offset + length >= read_end;
    if (last || front_task->data_in_burst == parameters_.session.max_burst_length) {
      data_in.final = true;
      front_task->data_in_burst = 0;
    }
    sent += length;
    if (last && !task.write) {
      // The status always follows the last data; held until then, the two
      // can share a PDU. The host cannot use the data before the status.
      front_task->held_data_in = data_in;
      front_task->held_owner = owner;
      continue;
    }
    stream_->send(data_in, owner);
  }
  statistics_.bytes_read += data.size();
}

void TargetSession::send_held_data_in(TcpTask& task) {
  if (!task.held_data_in) return;
  stream_->send(*task.held_data_in, std::move(task.held_owner));
  task.held_data_in.reset();
}

void TargetSession::complete(Task& task, const gateway::Completion& completion) {
  auto* front_task = static_cast<TcpTask*>(find_task(task.itt));
  if (front_task == nullptr) return;
  if (front_task->held_data_in) {
    // GOOD status without sense rides in the last Data-In (phase collapse):
    // one PDU less per read for the host to handle.
    const bool collapse = completion.response == iscsi::kResponseCommandCompleted &&
                          completion.status == 0 && completion.sense.empty();
    if (!collapse) {
      send_held_data_in(*front_task);
    } else {
      statistics_.front_latency.observe(std::chrono::steady_clock::now() - task.started);
      if (completion.back_round_trip) {
        statistics_.back_latency.observe(*completion.back_round_trip);
      }
      iscsi::DataIn data_in = *front_task->held_data_in;
      std::shared_ptr<const void> owner = std::move(front_task->held_owner);
      data_in.status_present = true;
      data_in.status = completion.status;
      data_in.residual_overflow = completion.residual_overflow;
      data_in.residual_underflow = completion.residual_underflow;
      data_in.residual_count = completion.residual_count;
      end_task(task.itt, Task::State::kCompleted);
      stamp(data_in, true);
      stream_->send(data_in, std::move(owner));
      return;
    }
  }
  FrontSession::complete(task, completion);
}

}  // namespace isergw::fabric_tcp
