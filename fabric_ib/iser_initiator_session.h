// The back role on iSER (RFC 7145): the back session (gateway/back_session.h)
// over one iSER connection, with the gateway as the iSCSI initiator. No
// Data-Out, Data-In or R2T travels: each command names one buffer per
// direction by STag and address, the storage RDMA-Reads the write data from
// it and RDMA-Writes the read data into it, then sends the status.
//
// That buffer is one of the worker's command buffers (rdma_worker.h), which
// hold a whole command: the host's write data is gathered into it before
// the command leaves, and the read data goes to the front from it once the
// status arrives. Immediate and unsolicited data are not used on this leg.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "fabric_ib/iser_connection.h"
#include "fabric_ib/rdma_worker.h"
#include "gateway/back_session.h"

namespace isergw::fabric_ib {

class IserInitiatorSession : public gateway::BackSession, public IserConnectionHandler {
 public:
  IserInitiatorSession(RdmaWorker& worker, gateway::BackSessionOptions options);
  ~IserInitiatorSession() override;

  gateway::BackLegInfo info() const override;
  std::optional<gateway::DataLanding> landing(const gateway::Task& task, uint32_t offset,
                                              uint32_t length) override;

  // IserConnectionHandler
  void on_established() override;
  void on_message(const iser::ControlHeader& header, std::span<const uint8_t> iscsi_pdu) override;
  void on_connection_closed(const std::string& reason) override;

 private:
  // The command buffer of one command: write data at [0, write_length),
  // read data right behind it, each at one address the storage's RDMA
  // reaches.
  struct CommandBuffer {
    gateway::Buffer buffer;
    uint32_t write_length = 0;
    uint32_t read_length = 0;
    // While the write data is being gathered, before the command goes to
    // the storage (which then reads the buffer): the front may receive
    // the data straight into it (landing()).
    bool gathering = false;

    static CommandBuffer lengths_of(const gateway::Task& task) {
      CommandBuffer lengths;
      lengths.write_length = task.write ? task.expected_data_transfer_length : 0;
      lengths.read_length = task.read_length();
      return lengths;
    }
    uint64_t total_length() const { return uint64_t{write_length} + read_length; }
  };

  // BackSession
  void connect(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints) override;
  bool has_connection() const override { return connection_ != nullptr; }
  std::optional<gateway::ConnectionStatistics> connection_statistics() const override {
    if (!connection_) return std::nullopt;
    return connection_->statistics();
  }
  void send(const iscsi::Pdu& pdu, gateway::DataOwner owner) override;
  void close_connection(const std::string& reason) override { connection_->close(reason); }
  void adjust_login_policy(iscsi::NegotiationPolicy& policy) override;
  Expected<void, std::string> begin_full_feature(
      const iscsi::NegotiatedParameters& parameters) override;
  void prepare(uint32_t itt, BackTask& back_task) override;
  void send_command(BackTask& back_task, iscsi::ScsiCommand& command) override;
  void deliver_read_data(BackTask& back_task, const gateway::Completion& completion) override;
  std::string connecting_hint() const override;

  // Gives command buffers to the queued commands in the order they came,
  // looking again shortly while the worker has none free. Out of order, a
  // later command could take the last buffer while the first waits, and
  // commands leave in order: the session would hold every buffer and send
  // nothing.
  void grant_buffers();
  void gather_write_data(uint32_t itt, std::shared_ptr<CommandBuffer> command);

  RdmaWorker& worker_;
  std::unique_ptr<IserConnection> connection_;
  gateway::BufferPool* command_buffers_ = nullptr;  // the worker's, from full feature on
  std::deque<uint32_t> buffer_queue_;               // ITTs
  boost::asio::steady_timer retry_timer_;
  bool retry_pending_ = false;
  uint64_t refused_commands_ = 0;  // too large to carry; the first one is logged as a warning
};

}  // namespace isergw::fabric_ib
