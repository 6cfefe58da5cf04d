// The back role on TCP: the gateway as an iSCSI initiator toward storage,
// one connection per relayed session (RFC 7143, error recovery level 0).
//
// It is the back leg of one front session. It logs in to the storage on the
// host's behalf before the host's own login completes, gives each of the
// host's commands an ITT and a CmdSN of its own, answers the storage's R2Ts
// with write data pulled from the front, hands each Data-In to the front as
// it lands (cut-through, from the buffer it was received into), and passes
// status, task management answers and asynchronous messages back.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "fabric_tcp/pdu_stream.h"
#include "gateway/legs.h"
#include "gateway/portal_address.h"
#include "iscsi/chap.h"
#include "iscsi/login_initiator.h"

namespace isergw::fabric_tcp {

struct InitiatorSessionOptions {
  gateway::PortalAddress portal;
  std::string target_name;
  std::string back_end;  // the back-end URL with secrets masked, for logs
  // Set: the name the gateway logs in under for every host (identity
  // "gateway"); unset: the host's own name and ISID (identity "passthrough").
  std::optional<std::string> gateway_name;
  std::optional<iscsi::ChapCredentials> chap;
  std::optional<iscsi::ChapCredentials> target_chap;
  uint32_t max_burst_length = 256 * 1024;
  uint32_t first_burst_length = 64 * 1024;
  // Connecting and logging in together; shorter than the front's login
  // timeout, so the host hears why its login failed.
  std::chrono::seconds login_timeout{10};
  std::chrono::seconds nop_interval{15};
  std::chrono::seconds nop_timeout{15};
  std::chrono::seconds logout_timeout{3};
};

struct InitiatorSessionStatistics {
  uint64_t commands = 0;
  uint64_t bytes_read = 0;     // Data-In from the storage
  uint64_t bytes_written = 0;  // immediate data and Data-Out to the storage
  uint64_t r2ts = 0;
  uint64_t task_management = 0;
  uint64_t async_messages = 0;
  uint64_t queued_for_window = 0;  // commands that waited for the storage's window
};

class InitiatorSession : public gateway::BackLeg,
                         public PduStreamHandler,
                         public std::enable_shared_from_this<InitiatorSession> {
 public:
  InitiatorSession(boost::asio::any_io_executor executor, gateway::BufferPool& pool,
                   InitiatorSessionOptions options);
  ~InitiatorSession() override;

  // BackLeg
  void open(gateway::FrontLeg& front, const gateway::HostIdentity& host,
            gateway::OpenDone done) override;
  void close() override;
  void submit(gateway::Task& task, gateway::FrontLeg& front) override;
  void abort(gateway::Task& task) override;
  void manage(const gateway::TaskManagement& request, gateway::ManageDone done) override;
  uint32_t command_window() const override;
  gateway::BackLegInfo info() const override;

  // PduStreamHandler
  void on_pdu(InboundPdu& inbound) override;
  void on_closed(const std::string& reason) override;

  const InitiatorSessionStatistics& statistics() const { return statistics_; }

 private:
  enum class State { kIdle, kConnecting, kLoggingIn, kFullFeature, kLoggingOut, kClosed };

  struct BackTask {
    gateway::Task* task = nullptr;  // null once the front has aborted it
    gateway::FrontLeg* front = nullptr;
    uint64_t lun = 0;
    uint32_t cmd_sn = 0;
    bool sent = false;
    uint32_t next_data_sn = 0;
    std::chrono::steady_clock::time_point sent_at;
  };

  struct Management {
    gateway::ManageDone done;
    iscsi::TaskManagementFunction function;
    uint64_t lun;
    uint32_t referenced_itt;  // ABORT TASK
  };

  void connect(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints);
  void start_login(boost::asio::ip::tcp::socket socket);
  void handle_login(const iscsi::LoginResponse& response);
  void finish_open(const gateway::BackOpenResult& result);
  void fail(const std::string& reason);
  // Tells whoever waits on this back leg, once: the front's login while it
  // opens, the front itself after.
  void report_failure(const std::string& reason);

  void send_command(uint32_t itt);
  void send_waiting();
  void handle_r2t(const iscsi::R2t& r2t);
  void send_data_out(uint32_t itt, uint32_t ttt, uint32_t offset, uint32_t length,
                     std::vector<gateway::DataSlice> slices);
  void handle_data_in(const iscsi::DataIn& data_in, InboundPdu& inbound);
  void handle_response(const iscsi::ScsiResponse& response);
  void handle_task_management(const iscsi::TaskManagementResponse& response);
  void handle_nop_in(const iscsi::NopIn& nop);
  void handle_async(const iscsi::AsyncMessage& message);
  void finish_task(uint32_t itt, gateway::Completion completion);

  // Every PDU from the storage carries its window; status PDUs carry StatSN.
  void update_window(uint32_t exp_cmd_sn, uint32_t max_cmd_sn);
  void acknowledge_status(uint32_t stat_sn);
  uint32_t allocate_itt();
  void protocol_error(const std::string& why);

  void schedule_timer();
  void on_timer();
  void logout();

  boost::asio::any_io_executor executor_;
  gateway::BufferPool& pool_;
  InitiatorSessionOptions options_;
  State state_ = State::kIdle;
  std::shared_ptr<InitiatorSession> self_;  // alive while the connection is
  std::shared_ptr<PduStream> stream_;
  std::optional<iscsi::LoginInitiator> login_;
  std::chrono::steady_clock::time_point deadline_;

  gateway::FrontLeg* front_ = nullptr;
  gateway::OpenDone open_done_;

  iscsi::NegotiatedParameters parameters_;
  uint16_t tsih_ = 0;
  uint32_t cmd_sn_ = 0;
  uint32_t exp_cmd_sn_ = 0;
  uint32_t max_cmd_sn_ = 0;
  uint32_t exp_stat_sn_ = 0;
  uint32_t next_itt_ = 1;
  std::unordered_map<uint32_t, BackTask> tasks_;
  std::deque<uint32_t> waiting_;                         // ITTs of commands the window holds back
  std::unordered_map<uint32_t, Management> management_;  // by ITT
  uint32_t logout_itt_ = iscsi::kReservedTag;

  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point last_heard_;
  std::optional<uint32_t> ping_itt_;
  std::chrono::steady_clock::time_point ping_sent_;

  InitiatorSessionStatistics statistics_;
};

}  // namespace isergw::fabric_tcp
