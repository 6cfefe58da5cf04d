// The front role on TCP: a front session (gateway/front_session.h) whose
// PDUs travel over one TCP connection. Write data the host does not send
// unasked is solicited with R2Ts and arrives as Data-Out; read data leaves
// as Data-In, the status riding in the last one where it can.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fabric_tcp/pdu_stream.h"
#include "gateway/front_session.h"

namespace isergw::fabric_tcp {

class TargetSession : public gateway::FrontSession, public PduStreamHandler {
 public:
  TargetSession(boost::asio::ip::tcp::socket socket, gateway::BufferPool& pool,
                std::shared_ptr<const gateway::TargetMap> targets,
                gateway::FrontSessionOptions options, ClosedCallback on_closed);
  ~TargetSession() override;

  void close(const std::string& reason) override;
  std::string_view fabric() const override { return "tcp"; }
  const gateway::ConnectionStatistics& connection_statistics() const override {
    return stream_->statistics();
  }

  // PduStreamHandler
  void on_pdu(InboundPdu& inbound) override { received_pdu(inbound); }
  std::optional<gateway::DataLanding> landing_for(const iscsi::Pdu& pdu, uint32_t length) override;
  bool may_wait_for_buffer() override { return !awaiting_solicited_data(); }
  bool answer_data_digest_error(InboundPdu& inbound) override {
    reject_data_digest_error(inbound);
    return true;
  }
  void on_closed(const std::string& reason) override { connection_closed(reason); }

  // FrontLeg
  void push(gateway::Task& task, uint32_t offset, std::span<const uint8_t> data,
            std::shared_ptr<const void> owner) override;
  void complete(gateway::Task& task, const gateway::Completion& completion) override;

 private:
  struct R2tSequence {
    uint32_t ttt;
    uint32_t offset;
    uint32_t length;
    uint32_t received = 0;
    uint32_t next_data_sn = 0;
  };
  struct TcpTask : FrontTask {
    using FrontTask::FrontTask;
    // Vectors, not deques: a deque allocates even empty, and most commands
    // never solicit data; these hold a handful at most.
    std::vector<R2tSequence> r2ts;                      // sent, data still arriving
    std::vector<std::pair<uint32_t, uint32_t>> wanted;  // ranges to solicit
    uint32_t r2t_sn = 0;
    uint32_t data_in_sn = 0;
    uint32_t data_in_burst = 0;  // bytes in the current Data-In sequence
    // The command's last Data-In, held back until its status, which rides
    // in it when it can (RFC 7143 §11.7.4).
    std::optional<iscsi::DataIn> held_data_in;
    std::shared_ptr<const void> held_owner;
  };

  // FrontSession
  void begin_receiving() override { stream_->start(); }
  void send(const iscsi::Pdu& pdu, DataOwner owner) override {
    stream_->send(pdu, std::move(owner));
  }
  void close_after_sending(const std::string& reason) override {
    stream_->close_after_sending(reason);
  }
  bool is_open() const override { return stream_->is_open(); }
  void pause_receiving() override { stream_->pause_reading(); }
  void resume_receiving() override { stream_->resume_reading(); }
  void adjust_login_policy(iscsi::NegotiationPolicy& policy) override;
  void begin_full_feature(const iscsi::NegotiatedParameters& parameters) override;
  std::unique_ptr<FrontTask> make_task(uint32_t write_length) override {
    return std::make_unique<TcpTask>(write_length);
  }
  void fetch(FrontTask& front_task, uint32_t from, uint32_t to) override;
  bool accept_solicited_data_out(FrontTask& front_task, const iscsi::DataOut& data_out) override;
  void on_write_data(FrontTask& front_task) override;
  uint32_t data_pdus_sent(const FrontTask& front_task) const override;

  // Sends R2Ts for the wanted ranges, as many as MaxOutstandingR2T allows.
  void solicit(TcpTask& task);
  // The outstanding R2T sequence that carries `ttt`, or r2ts.end().
  static std::vector<R2tSequence>::iterator find_r2t(TcpTask& task, uint32_t ttt);
  void send_held_data_in(TcpTask& task);

  std::shared_ptr<PduStream> stream_;
};

}  // namespace isergw::fabric_tcp
