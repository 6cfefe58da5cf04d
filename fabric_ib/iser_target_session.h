// The front role on iSER: a front session (gateway/front_session.h) whose
// PDUs travel as Sends on an iSER connection. Write data the host did not
// send with the command is RDMA Read from the buffer its write STag names;
// read data is RDMA Written into the buffer its read STag names, as the back
// leg pushes it (cut-through); the status follows in a Send, with
// Invalidate of the command's STag where the host allowed it.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "fabric_ib/iser_connection.h"
#include "gateway/front_session.h"

namespace isergw::fabric_ib {

class IserTargetSession : public gateway::FrontSession, public IserConnectionHandler {
 public:
  IserTargetSession(std::unique_ptr<IserConnection> connection, boost::asio::io_context& io,
                    gateway::BufferPool& pool, std::shared_ptr<const gateway::TargetMap> targets,
                    gateway::FrontSessionOptions options, ClosedCallback on_closed);
  ~IserTargetSession() override;

  void close(const std::string& reason) override { connection_->close(reason); }
  std::string_view fabric() const override { return "iser"; }
  const gateway::ConnectionStatistics& connection_statistics() const override {
    return connection_->statistics();
  }
  std::string_view rdma_device() const override { return connection_->device_name(); }

  // IserConnectionHandler
  void on_message(const iser::ControlHeader& header, std::span<const uint8_t> iscsi_pdu) override;
  void on_connection_closed(const std::string& reason) override;

  // FrontLeg
  void push(gateway::Task& task, uint32_t offset, std::span<const uint8_t> data,
            std::shared_ptr<const void> owner) override;

 private:
  struct IserTask : FrontTask {
    IserTask(uint32_t write_length, const iser::ControlHeader& stags)
        : FrontTask(write_length), header(stags) {}
    // The STags and addresses the host advertised with the command.
    iser::ControlHeader header;
  };

  // FrontSession
  void begin_receiving() override {}
  void send(const iscsi::Pdu& pdu, gateway::DataOwner owner) override;
  void close_after_sending(const std::string& reason) override {
    connection_->close_after_sending(reason);
  }
  bool is_open() const override { return connection_->is_open(); }
  // The host sends nothing while its login waits for the back end.
  void pause_receiving() override {}
  void resume_receiving() override {}
  void adjust_login_policy(iscsi::NegotiationPolicy& policy) override;
  void begin_full_feature(const iscsi::NegotiatedParameters& parameters) override;
  std::unique_ptr<FrontTask> make_task(uint32_t write_length) override {
    return std::make_unique<IserTask>(write_length, delivering_);
  }
  void fetch(FrontTask& front_task, uint32_t from, uint32_t to) override;
  // An RDMA Read from the host's write STag, which stays valid until the
  // status: the gateway's own act, so it may come before the storage asks.
  bool fetches_ahead() const override { return true; }
  bool accept_solicited_data_out(FrontTask& front_task, const iscsi::DataOut& data_out) override;
  bool declares_max_recv_data_segment_length() const override { return false; }
  // No Data-In and no R2T travel on iSER.
  uint32_t data_pdus_sent(const FrontTask&) const override { return 0; }
  void send_status(FrontTask& ended, iscsi::ScsiResponse& response,
                   gateway::DataOwner owner) override;

  // RDMA Reads [from, to) of a task, into the memory set aside for it, at
  // most a pool buffer each.
  void read_from_host(uint32_t itt, uint64_t id, uint32_t from, uint32_t to);

  std::unique_ptr<IserConnection> connection_;
  // The iSER header of the PDU being delivered, for the task it starts.
  iser::ControlHeader delivering_;
  boost::asio::io_context& io_;
  bool full_feature_sent_ = false;
  // Charged with the immediate data this host sends.
  std::shared_ptr<gateway::BufferAccount> unasked_ =
      std::make_shared<gateway::BufferAccount>(gateway::BufferUse::kHostData);
};

}  // namespace isergw::fabric_ib
