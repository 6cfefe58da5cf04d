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
// A READ or WRITE larger than a command buffer goes as several commands of
// at most one buffer each (command_split.h).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "fabric_ib/command_split.h"
#include "fabric_ib/iser_connection.h"
#include "fabric_ib/rdma_worker.h"
#include "gateway/back_session.h"

namespace isergw::fabric_ib {

class IserInitiatorSession : public gateway::BackSession, public IserConnectionHandler {
 public:
  IserInitiatorSession(RdmaWorker& worker, gateway::BackSessionOptions options);
  ~IserInitiatorSession() override;

  gateway::BackLegInfo info() const override;
  void close() override;
  void abort(gateway::Task& task) override;
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
    // Where its data sits in the host command's: at 0, unless it is one of
    // the commands a large READ or WRITE goes as (`piece`, the `index`th).
    uint32_t offset = 0;
    std::optional<CommandPiece> piece;
    size_t index = 0;
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

  // A READ or WRITE sent as several commands, by task id.
  struct Split {
    CommandSplit plan;
    // Each piece's buffer from its grant until its read data has gone to
    // the front, which it does in order.
    std::vector<std::shared_ptr<CommandBuffer>> buffers;
    size_t delivered = 0;  // pieces whose read data went (or never will)
    bool failed = false;   // a delivered piece failed: no read data after it
  };
  // A command waiting for its command buffer.
  struct BufferWait {
    uint32_t itt = 0;
    std::optional<size_t> piece;
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
  void forget_connection() override { connection_.reset(); }
  void adjust_login_policy(iscsi::NegotiationPolicy& policy) override;
  Expected<void, std::string> begin_full_feature(
      const iscsi::NegotiatedParameters& parameters) override;
  void prepare(uint32_t itt, BackTask& back_task) override;
  void send_command(BackTask& back_task, iscsi::ScsiCommand& command) override;
  bool answered(BackTask& back_task, gateway::Completion& completion) override;
  std::string connecting_hint() const override;

  // Gives command buffers to the queued commands in the order they came,
  // looking again shortly while the worker has none free. Out of order, a
  // later command could take the last buffer while the first waits, and
  // commands leave in order: the session would hold every buffer and send
  // nothing.
  void grant_buffers();
  void gather_write_data(uint32_t itt, std::shared_ptr<CommandBuffer> command);
  // Sends a READ or WRITE larger than a command buffer as several commands;
  // false if it cannot be cut (command_split.h).
  bool split_command(uint32_t itt, const gateway::Task& task);
  void refuse(uint32_t itt, uint64_t bytes, const std::string& why);
  // Passes the read data of an unsplit command to the front.
  void deliver_read_data(BackTask& back_task, const gateway::Completion& completion);
  // Passes the read data of a split command's answered pieces to the front,
  // in order.
  void deliver_pieces(BackTask& back_task);

  RdmaWorker& worker_;
  std::unique_ptr<IserConnection> connection_;
  gateway::BufferPool* command_buffers_ = nullptr;  // the worker's, from full feature on
  std::deque<BufferWait> buffer_queue_;
  boost::asio::steady_timer retry_timer_;
  bool retry_pending_ = false;
  uint64_t refused_commands_ = 0;  // too large to carry; the first one is logged as a warning
  uint64_t split_commands_ = 0;    // sent as several; the first one is logged
  std::unordered_map<uint64_t, Split> splits_;
  // Each LUN's logical block length, from the READ CAPACITY data that
  // passed: what a large command's own lengths must agree with.
  std::unordered_map<uint64_t, uint32_t> block_lengths_;
};

}  // namespace isergw::fabric_ib
