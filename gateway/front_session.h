// The target role toward one host, whatever the fabric it came over: one
// connection per session, error recovery level 0 (RFC 7143).
//
// The session logs the host in, keeps the CmdSN window, relays each SCSI
// command to the back leg of the target the host logged in to, and answers
// task management, text, NOP and logout. What differs between fabrics is
// left to a subclass: how PDUs travel (a TCP byte stream, or iSER Sends),
// how write data the host did not send unasked is fetched (R2T and Data-Out,
// or RDMA Read), and how read data reaches the host (Data-In, or RDMA
// Write).
#pragma once

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gateway/buffer_pool.h"
#include "gateway/front_transport.h"
#include "gateway/latency_histogram.h"
#include "gateway/legs.h"
#include "gateway/portal_admission.h"
#include "gateway/target_map.h"
#include "gateway/write_data.h"
#include "iscsi/login_target.h"
#include "iscsi/pdu.h"
#include "iscsi/send_targets.h"
#include "iscsi/text_keys.h"

namespace isergw::gateway {

// Who a normal session belongs to, for reinstatement (RFC 7143 §6.3.5):
// the initiator's name and ISID, and the target it logged in to.
struct SessionIdentity {
  std::string initiator_name;
  iscsi::Isid isid{};
  std::string target_name;

  bool matches(const iscsi::LoginTargetResult& result) const;
};

struct FrontSessionOptions {
  uint16_t portal_group_tag = 1;
  // The portals SendTargets lists (RFC 7143 Appendix C); an empty host
  // stands for the address the host connected to (a wildcard portal).
  std::vector<iscsi::TargetPortal> portals;
  uint32_t command_window = 128;
  uint32_t max_burst_length = 256 * 1024;
  uint32_t first_burst_length = 64 * 1024;
  uint32_t max_outstanding_r2t = 16;
  std::chrono::seconds login_timeout{15};
  // A connection that has not sent its first Login PDU by then is closed,
  // well before the login timeout: connections that send nothing must not
  // hold the portal's places for logins in progress.
  std::chrono::seconds first_pdu_timeout{5};
  // A quiet connection is pinged with a NOP-In after nop_interval, and
  // closed if the host does not answer within nop_timeout.
  std::chrono::seconds nop_interval{15};
  std::chrono::seconds nop_timeout{15};
  // A host asked for write data (R2T) that sends none of it for this long
  // is closed, so that the buffers claimed for it return.
  std::chrono::seconds data_timeout{20};
  // A task management function the storage has not answered by then is
  // answered "function rejected", and the session ends: a stuck storage
  // must not leave the host waiting on its abort or reset for ever.
  std::chrono::seconds task_management_timeout{10};
  // The connection's place in its portal's limits; given back as the login
  // completes and as the session ends.
  std::shared_ptr<PortalAdmission> admission;
  // The worker's RDMA side, for back legs to iSER storage; null without one.
  fabric_ib::RdmaWorker* rdma = nullptr;
  // Session reinstatement: a login that names an initiator and ISID which
  // already have a session to the target ends that session first, and its
  // back leg with it, so that the storage sees the old I_T nexus go before
  // the new one logs in. Called once the login has passed; `done` runs, on
  // any thread, once the old sessions' back legs have let go of the storage.
  // Empty: nothing to end.
  std::function<void(const SessionIdentity&, std::function<void()> done)> reinstate;
};

struct FrontSessionStatistics {
  uint64_t commands = 0;
  uint64_t bytes_read = 0;     // read data sent to the host
  uint64_t bytes_written = 0;  // write data received from the host
  uint64_t r2ts = 0;
  // Write data fetched before the storage asked for it (fetches_ahead()),
  // and writes whose data waited for the ask because the pool was under
  // pressure.
  uint64_t bytes_fetched_ahead = 0;
  uint64_t fetch_ahead_declined = 0;
  // Write data received straight into memory the back leg lent for it
  // (BackLeg::landing), with no copy after.
  uint64_t bytes_landed = 0;
  uint64_t rejects = 0;
  uint64_t out_of_window_commands = 0;
  // Commands answered TASK SET FULL because their unasked data found no
  // buffer while the host still owed data the gateway had asked for.
  uint64_t task_set_full = 0;
  // Connections closed because the host sent none of the data it was
  // asked for within data_timeout.
  uint64_t data_timeouts = 0;
  // Moves of tasks into each state (indexed by TaskState), and moves that
  // task_transition_legal() refused (a bug of the gateway's: logged).
  std::array<uint64_t, kTaskStateCount> task_transitions{};
  uint64_t illegal_task_transitions = 0;
  LatencyHistogram front_latency;  // command received to status sent
  LatencyHistogram back_latency;   // submitted to the back leg to its completion
};

class FrontSession : public FrontLeg, public std::enable_shared_from_this<FrontSession> {
 public:
  using ClosedCallback = std::function<void(FrontSession&, const std::string& reason)>;

  ~FrontSession() override;

  void start();
  // Ends the session now (admin force-logout, gateway shutdown).
  virtual void close(const std::string& reason) = 0;
  // Closes, and calls `released` once the back leg has let go of the
  // storage (BackLeg::when_released), at once without a back leg.
  void close_then(const std::string& reason, std::function<void()> released);
  // Asks the host to log out within `within` (an Asynchronous Message,
  // RFC 7143 §11.9.1), so that it finishes what it has in flight and
  // closes cleanly; a session not yet logged in is closed at once.
  void request_logout(std::chrono::seconds within);

  // "tcp" or "iser": the fabric label of the session's metrics.
  virtual std::string_view fabric() const = 0;
  virtual const ConnectionStatistics& connection_statistics() const = 0;
  // The RDMA device the connection runs on; empty on TCP.
  virtual std::string_view rdma_device() const { return {}; }

  const std::string& peer() const { return peer_; }
  bool logged_in() const { return full_feature_; }
  const std::optional<iscsi::LoginTargetResult>& login_result() const;
  // The target a login still under way runs against: empty for a discovery
  // login; nullopt before its first request was taken.
  std::optional<std::string> target_of_login() const;
  const FrontSessionStatistics& statistics() const { return statistics_; }
  size_t active_tasks() const { return tasks_.size(); }
  // The commands in flight, oldest first.
  std::vector<TaskInfo> task_infos() const;
  std::chrono::steady_clock::time_point started() const { return started_; }
  const BackLeg* back_leg() const { return back_.get(); }

  // FrontLeg: what every fabric does alike. pull() hands over the data the
  // host sent and asks the fabric to fetch() the rest.
  void pull(Task& task, uint32_t offset, uint32_t length, PullDone done) override;
  std::vector<DataSlice> received(Task& task, uint32_t offset, uint32_t max_length) override;
  void complete(Task& task, const Completion& completion) override;
  void notify(const iscsi::AsyncMessage& message) override;
  void back_failed(const std::string& reason) override;

 protected:
  struct Pull {
    uint32_t offset;
    uint32_t length;
    PullDone done;
  };
  // Pool buffers set aside for write data [offset, offset + length) before
  // it was asked for: each buffer holds the next buffer_size() bytes, and
  // goes to the data that fills its last byte (or with the task).
  struct Landings {
    uint32_t offset = 0;
    uint32_t length = 0;
    std::vector<std::shared_ptr<Buffer>> buffers;
  };
  // A fetch waiting for its claim, in the order the pulls asked.
  struct QueuedFetch {
    uint32_t from;
    uint32_t to;
  };
  // A command from the host while it runs. Fabrics extend it with their own
  // per-command state (make_task()).
  struct FrontTask {
    explicit FrontTask(uint32_t write_length) : write_data(write_length) {}
    virtual ~FrontTask() = default;
    Task task;
    WriteData write_data;
    uint32_t unsolicited_end = 0;  // immediate and unsolicited data end here
    uint32_t next_unsolicited_data_sn = 0;
    uint32_t fetched_end = 0;  // data up to here is sent, being fetched, or claimed
    uint32_t asked_end = 0;    // data up to here was asked of the host
    std::vector<Pull> pulls;
    std::vector<Landings> landings;
    std::vector<QueuedFetch> queued_fetches;
    PendingClaim pending_claim;
  };

  FrontSession(boost::asio::any_io_executor executor, BufferPool& pool,
               std::shared_ptr<const TargetMap> targets, FrontSessionOptions options,
               ClosedCallback on_closed);

  // The connection, as the fabric provides it. begin_receiving() is called
  // once, when the session starts.
  virtual void begin_receiving() = 0;
  virtual void send(const iscsi::Pdu& pdu, DataOwner owner = {}) = 0;
  // Sends what is queued, then closes; closed() follows.
  virtual void close_after_sending(const std::string& reason) = 0;
  virtual bool is_open() const = 0;
  // Stops taking PDUs from the host, and starts again.
  virtual void pause_receiving() = 0;
  virtual void resume_receiving() = 0;
  // What this fabric negotiates beyond the common keys (digests, data
  // segment lengths, RDMAExtensions).
  virtual void adjust_login_policy(iscsi::NegotiationPolicy& policy) = 0;
  // Login is over; the negotiated parameters apply from the next PDU.
  virtual void begin_full_feature(const iscsi::NegotiatedParameters& parameters) = 0;

  // The data path, as the fabric moves it.
  virtual std::unique_ptr<FrontTask> make_task(uint32_t write_length) = 0;
  // Fetches write data [from, to) the host does not send unasked.
  virtual void fetch(FrontTask& front_task, uint32_t from, uint32_t to) = 0;
  // Whether a write's data is fetched as soon as the command arrives, while
  // the command travels to the storage and its R2T comes back, rather than
  // when the storage asks. Only where fetching is the gateway's own act (an
  // RDMA Read): an R2T would hand the host a solicitation the storage
  // never made.
  virtual bool fetches_ahead() const { return false; }
  // A Data-Out that answers a solicitation (TTT set); false after a
  // protocol error, which the fabric has reported.
  virtual bool accept_solicited_data_out(FrontTask& front_task, const iscsi::DataOut& data_out) = 0;
  // Write data arrived for the task; a fabric may fetch more now.
  virtual void on_write_data(FrontTask& /*front_task*/) {}
  // Whether MaxRecvDataSegmentLength means something on this fabric once
  // logged in: on iSER the RDMA keys replace it (RFC 7145), and a host declaring it
  // hears "Irrelevant".
  virtual bool declares_max_recv_data_segment_length() const { return true; }
  // Data-In and R2T PDUs sent for the command: its status's ExpDataSN.
  virtual uint32_t data_pdus_sent(const FrontTask& front_task) const = 0;
  // Sends the status of a task that has ended (it left the window).
  virtual void send_status(FrontTask& ended, iscsi::ScsiResponse& response, DataOwner owner);

  // For the fabric's connection.
  void received_pdu(InboundPdu& inbound);
  // A PDU whose data failed its DataDigest: answered with a Reject
  // (RFC 7143 §7.8); at error recovery level 0 the fabric then closes the
  // connection, and the host logs in again and retries.
  void reject_data_digest_error(InboundPdu& inbound);
  void connection_closed(const std::string& reason);
  void protocol_error(const std::string& why);

  FrontTask* find_task(uint32_t itt);
  // The task only if it is still the one `id` names: ITTs are the host's
  // and come back for new commands once a task has ended.
  FrontTask* find_task(uint32_t itt, uint64_t id);
  // Takes the task out of the window; the caller sends its status.
  std::unique_ptr<FrontTask> end_task(uint32_t itt, Task::State state);
  void add_write_data(FrontTask& front_task, uint32_t offset, Buffer buffer,
                      std::span<const uint8_t> bytes);
  void add_write_data(FrontTask& front_task, uint32_t offset, std::shared_ptr<const void> owner,
                      std::span<const uint8_t> bytes);
  // Write data received into memory the back leg lent (landing()); `owner`
  // is the landing's. Counted in bytes_landed.
  void add_landed_write_data(FrontTask& front_task, uint32_t offset,
                             std::shared_ptr<const void> owner, std::span<const uint8_t> bytes);
  // Where write data the gateway asked for is received: memory the back
  // leg lends (BackLeg::landing), else the buffers claimed for it.
  virtual std::optional<DataLanding> landing(const Task& task, uint32_t offset, uint32_t length);
  // Whether the host owes data the gateway asked for: then reading its
  // connection must not wait for a buffer, as that data would wait behind
  // the PDU that waits.
  bool awaiting_solicited_data() const;
  // A command whose unasked data found no buffer: answered TASK SET FULL,
  // which the host retries.
  void refuse_for_buffers(const iscsi::ScsiCommand& command);
  void serve_pulls(uint32_t itt);
  uint32_t next_target_transfer_tag();
  uint32_t exp_cmd_sn() const { return exp_cmd_sn_; }
  uint32_t max_cmd_sn();
  // The sequence numbers every target PDU carries; advance_stat_sn for
  // those that take a StatSN of their own.
  template <typename Pdu>
  void stamp(Pdu& pdu, bool advance_stat_sn) {
    pdu.stat_sn = advance_stat_sn ? stat_sn_++ : stat_sn_;
    pdu.exp_cmd_sn = exp_cmd_sn_;
    pdu.max_cmd_sn = max_cmd_sn();
  }

  BufferPool& pool_;
  FrontSessionOptions options_;
  std::string peer_;
  std::string local_host_;
  uint16_t local_port_ = 0;
  iscsi::NegotiatedParameters parameters_;
  FrontSessionStatistics statistics_;

 private:
  // The one place a task's state changes: checked, counted, traced.
  void transition(Task& task, TaskState to);
  // " to discovery", " to IQN", or nothing: for the log line of a refusal.
  std::string login_destination() const;
  void handle_login(InboundPdu& inbound);
  void open_back_leg(iscsi::OwnedLoginResponse final_response);
  void reinstate_then_open(iscsi::OwnedLoginResponse final_response);
  void on_back_open(const iscsi::OwnedLoginResponse& final_response, const BackOpenResult& opened);
  void refuse_login(iscsi::OwnedLoginResponse response, iscsi::LoginStatus status,
                    const std::string& reason);
  // `max_cmd_sn`: what the final Login Response told the host.
  void release_login_place();
  void enter_full_feature(uint32_t max_cmd_sn);
  void handle_command(const iscsi::ScsiCommand& command, InboundPdu& inbound);
  void handle_data_out(const iscsi::DataOut& data_out, InboundPdu& inbound);
  void fetch_ahead(FrontTask& front_task);
  // Sets buffers aside for write data [from, to), then fetches it: at once
  // when the back leg lends memory or the claim is granted, else when the
  // claim's turn comes. Fetches keep their order.
  void claim_and_fetch(FrontTask& front_task, uint32_t from, uint32_t to);
  void advance_fetches(uint32_t itt, uint64_t id);
  void claim_granted(uint32_t itt, uint64_t id, std::vector<Buffer> buffers);
  void start_fetch(FrontTask& front_task, uint32_t from, uint32_t to, std::vector<Buffer> buffers);
  void handle_nop_out(const iscsi::NopOut& nop);
  void handle_text(const iscsi::TextRequest& request);
  void handle_task_management(const iscsi::TaskManagementRequest& request);
  void handle_logout(const iscsi::LogoutRequest& request);
  void reject(InboundPdu& inbound, iscsi::RejectReason reason, const std::string& why);

  // CmdSN rules (RFC 7143 §3.2.2.1): false when the PDU is to be dropped.
  bool accept_cmd_sn(bool immediate, uint32_t cmd_sn);

  // (ITT, task id) of the open tasks on a LUN, or on all of them.
  std::vector<std::pair<uint32_t, uint64_t>> tasks_of(uint64_t lun, bool all_luns) const;
  void abort_all_tasks();

  void send_text_segment();
  void schedule_keepalive();
  void on_keepalive_timer();

  std::shared_ptr<const TargetMap> targets_;
  ClosedCallback on_closed_;

  std::optional<iscsi::LoginTarget> login_;
  bool full_feature_ = false;
  bool discovery_ = false;
  const MappedTarget* target_ = nullptr;
  std::shared_ptr<BackLeg> back_;

  uint32_t stat_sn_ = 0;
  uint32_t exp_cmd_sn_ = 0;
  uint32_t advertised_max_cmd_sn_ = 0;  // the highest MaxCmdSN the host has seen
  uint32_t next_ttt_ = 1;
  std::unordered_map<uint32_t, std::unique_ptr<FrontTask>> tasks_;
  // Charged with the buffers this session's fetches claim.
  std::shared_ptr<BufferAccount> claims_ = std::make_shared<BufferAccount>(BufferUse::kClaimed);
  // Charged with write data fetched ahead of the storage's ask.
  std::shared_ptr<BufferAccount> fetched_ahead_ =
      std::make_shared<BufferAccount>(BufferUse::kHostData);
  std::chrono::steady_clock::time_point last_data_;

  iscsi::TextKeyAccumulator text_accumulator_;
  std::deque<iscsi::TextSegment> text_pending_;
  uint32_t text_itt_ = 0;
  uint32_t text_ttt_ = iscsi::kReservedTag;

  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_heard_;
  bool heard_ = false;  // any PDU yet
  std::optional<uint32_t> ping_ttt_;
  std::chrono::steady_clock::time_point ping_sent_;
};

}  // namespace isergw::gateway
