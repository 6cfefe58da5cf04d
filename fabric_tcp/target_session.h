// The front role on TCP: one connection from a host, from its login to its
// logout (RFC 7143, one connection per session, error recovery level 0).
//
// The session logs the host in with the login state machine, then relays
// each SCSI command to the back leg of the target it logged in to. As the
// front leg it answers the back's pulls from the immediate and unsolicited
// data the host sent and by soliciting the rest with R2Ts, and it turns the
// back's pushes into Data-In PDUs.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "fabric_tcp/pdu_stream.h"
#include "gateway/latency_histogram.h"
#include "gateway/legs.h"
#include "gateway/target_map.h"
#include "gateway/write_data.h"
#include "iscsi/login_target.h"
#include "iscsi/send_targets.h"
#include "iscsi/text_keys.h"

namespace isergw::fabric_tcp {

struct TargetSessionOptions {
  uint16_t portal_group_tag = 1;
  // The portals SendTargets lists (RFC 7143 Appendix C); an empty host
  // stands for the address the host connected to (a wildcard portal).
  std::vector<iscsi::TargetPortal> portals;
  uint32_t command_window = 128;
  uint32_t max_burst_length = 256 * 1024;
  uint32_t first_burst_length = 64 * 1024;
  uint32_t max_outstanding_r2t = 16;
  std::chrono::seconds login_timeout{15};
  // A quiet connection is pinged with a NOP-In after nop_interval, and
  // closed if the host does not answer within nop_timeout.
  std::chrono::seconds nop_interval{15};
  std::chrono::seconds nop_timeout{15};
};

struct TargetSessionStatistics {
  uint64_t commands = 0;
  uint64_t bytes_read = 0;     // Data-In sent to the host
  uint64_t bytes_written = 0;  // write data received from the host
  uint64_t r2ts = 0;
  uint64_t rejects = 0;
  uint64_t out_of_window_commands = 0;
  gateway::LatencyHistogram front_latency;  // command received to status sent
  gateway::LatencyHistogram back_latency;   // submitted to the back leg to its completion
};

class TargetSession : public PduStreamHandler,
                      public gateway::FrontLeg,
                      public std::enable_shared_from_this<TargetSession> {
 public:
  using ClosedCallback = std::function<void(TargetSession&, const std::string& reason)>;

  TargetSession(boost::asio::ip::tcp::socket socket, gateway::BufferPool& pool,
                std::shared_ptr<const gateway::TargetMap> targets, TargetSessionOptions options,
                ClosedCallback on_closed);
  ~TargetSession() override;

  void start();
  // Ends the session now (admin force-logout, gateway shutdown).
  void close(const std::string& reason);
  // Asks the host to log out within `within` (an Asynchronous Message,
  // RFC 7143 §11.9.1), so that it finishes what it has in flight and
  // closes cleanly; a session not yet logged in is closed at once.
  void request_logout(std::chrono::seconds within);

  const std::string& peer() const { return peer_; }
  bool logged_in() const { return full_feature_; }
  const std::optional<iscsi::LoginTargetResult>& login_result() const;
  const TargetSessionStatistics& statistics() const { return statistics_; }
  size_t active_tasks() const { return tasks_.size(); }
  std::chrono::steady_clock::time_point started() const { return started_; }
  const gateway::BackLeg* back_leg() const { return back_.get(); }
  const PduStreamStatistics& stream_statistics() const { return stream_->statistics(); }

  // PduStreamHandler
  void on_pdu(InboundPdu& inbound) override;
  void on_closed(const std::string& reason) override;

  // FrontLeg
  void pull(gateway::Task& task, uint32_t offset, uint32_t length, gateway::PullDone done) override;
  void push(gateway::Task& task, uint32_t offset, std::span<const uint8_t> data,
            std::shared_ptr<const void> owner) override;
  std::vector<gateway::DataSlice> received(gateway::Task& task, uint32_t offset,
                                           uint32_t max_length) override;
  void complete(gateway::Task& task, const gateway::Completion& completion) override;
  void notify(const iscsi::AsyncMessage& message) override;
  void back_failed(const std::string& reason) override;

 private:
  struct Pull {
    uint32_t offset;
    uint32_t length;
    gateway::PullDone done;
  };
  struct R2tSequence {
    uint32_t ttt;
    uint32_t offset;
    uint32_t length;
    uint32_t received = 0;
    uint32_t next_data_sn = 0;
  };
  struct FrontTask {
    explicit FrontTask(uint32_t length) : write_data(length) {}
    gateway::Task task;
    gateway::WriteData write_data;
    uint32_t unsolicited_end = 0;  // immediate and unsolicited data end here
    uint32_t next_unsolicited_data_sn = 0;
    uint32_t solicited_end = 0;  // R2Ts requested data up to here
    std::vector<Pull> pulls;
    std::deque<R2tSequence> r2ts;                      // sent, data still arriving
    std::deque<std::pair<uint32_t, uint32_t>> wanted;  // ranges to solicit
    uint32_t r2t_sn = 0;
    uint32_t data_in_sn = 0;
    uint32_t data_in_burst = 0;  // bytes in the current Data-In sequence
    // The command's last Data-In, held back until its status, which rides
    // in it when it can (RFC 7143 §11.7.4).
    std::optional<iscsi::DataIn> held_data_in;
    std::shared_ptr<const void> held_owner;
  };

  void handle_login(InboundPdu& inbound);
  void open_back_leg(iscsi::OwnedLoginResponse final_response);
  void on_back_open(const iscsi::OwnedLoginResponse& final_response,
                    const gateway::BackOpenResult& opened);
  void refuse_login(iscsi::OwnedLoginResponse response, iscsi::LoginStatus status,
                    const std::string& reason);
  // `max_cmd_sn`: what the final Login Response told the host.
  void enter_full_feature(uint32_t max_cmd_sn);
  void handle_command(const iscsi::ScsiCommand& command, InboundPdu& inbound);
  void handle_data_out(const iscsi::DataOut& data_out, InboundPdu& inbound);
  void handle_nop_out(const iscsi::NopOut& nop);
  void handle_text(const iscsi::TextRequest& request);
  void handle_task_management(const iscsi::TaskManagementRequest& request);
  void handle_logout(const iscsi::LogoutRequest& request);
  void reject(InboundPdu& inbound, iscsi::RejectReason reason, const std::string& why);
  void protocol_error(const std::string& why);

  // CmdSN rules (RFC 7143 §3.2.2.1): false when the PDU is to be dropped.
  bool accept_cmd_sn(bool immediate, uint32_t cmd_sn);
  uint32_t max_cmd_sn();

  FrontTask* find_task(uint32_t itt);
  // The task only if it is still the one `id` names: ITTs are the host's
  // and come back for new commands once a task has ended.
  FrontTask* find_task(uint32_t itt, uint64_t id);
  void add_write_data(FrontTask& front_task, uint32_t offset, gateway::Buffer buffer,
                      std::span<const uint8_t> bytes);
  void serve_pulls(uint32_t itt);
  void solicit(FrontTask& front_task);
  void end_task(uint32_t itt, gateway::Task::State state);
  void send_held_data_in(FrontTask& front_task);
  // (ITT, task id) of the open tasks on a LUN, or on all of them.
  std::vector<std::pair<uint32_t, uint64_t>> tasks_of(uint64_t lun, bool all_luns) const;
  void abort_all_tasks();

  void send_text_segment();
  void schedule_keepalive();
  void on_keepalive_timer();

  std::shared_ptr<PduStream> stream_;
  gateway::BufferPool& pool_;
  std::shared_ptr<const gateway::TargetMap> targets_;
  TargetSessionOptions options_;
  ClosedCallback on_closed_;
  std::string peer_;
  std::string local_host_;
  uint16_t local_port_ = 0;

  std::optional<iscsi::LoginTarget> login_;
  bool full_feature_ = false;
  bool discovery_ = false;
  bool closing_ = false;
  const gateway::MappedTarget* target_ = nullptr;
  std::shared_ptr<gateway::BackLeg> back_;
  iscsi::NegotiatedParameters parameters_;

  uint32_t stat_sn_ = 0;
  uint32_t exp_cmd_sn_ = 0;
  uint32_t advertised_max_cmd_sn_ = 0;  // the highest MaxCmdSN the host has seen
  uint32_t next_ttt_ = 1;
  std::unordered_map<uint32_t, std::unique_ptr<FrontTask>> tasks_;

  iscsi::TextKeyAccumulator text_accumulator_;
  std::deque<iscsi::TextSegment> text_pending_;
  uint32_t text_itt_ = 0;
  uint32_t text_ttt_ = iscsi::kReservedTag;

  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_heard_;
  std::optional<uint32_t> ping_ttt_;
  std::chrono::steady_clock::time_point ping_sent_;

  TargetSessionStatistics statistics_;
};

}  // namespace isergw::fabric_tcp
