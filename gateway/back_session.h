// The back role, whatever the fabric: the gateway as an iSCSI initiator
// toward the storage, one connection per relayed session (RFC 7143, error
// recovery level 0).
//
// It is the back leg of one front session. It logs in to the storage on the
// host's behalf before the host's own login completes, gives each of the
// host's commands an ITT and a CmdSN of its own, passes status, task
// management answers and asynchronous messages back, and pings a quiet
// storage. How PDUs and data travel is the fabric's: a subclass connects,
// sends PDUs, and moves the data (R2T and Data-In on TCP, the storage's RDMA
// Reads and Writes on iSER). The fronts are built the same way
// (front_session.h).
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
#include <vector>

#include "gateway/front_transport.h"
#include "gateway/legs.h"
#include "gateway/portal_address.h"
#include "iscsi/chap.h"
#include "iscsi/login_initiator.h"
#include "iscsi/pdu.h"

namespace isergw::gateway {

struct BackSessionOptions {
  PortalAddress portal;
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

struct BackSessionStatistics {
  uint64_t commands = 0;
  uint64_t bytes_read = 0;     // read data from the storage
  uint64_t bytes_written = 0;  // write data to the storage
  uint64_t r2ts = 0;
  uint64_t task_management = 0;
  uint64_t async_messages = 0;
  uint64_t queued_for_window = 0;  // commands that waited for the storage's window
};

class BackSession : public BackLeg, public std::enable_shared_from_this<BackSession> {
 public:
  ~BackSession() override;

  // BackLeg
  void open(FrontLeg& front, const HostIdentity& host, OpenDone done) override;
  void close() override;
  void when_released(std::function<void()> released) override;
  void submit(Task& task, FrontLeg& front) override;
  void abort(Task& task) override;
  void manage(const TaskManagement& request, ManageDone done) override;
  uint32_t command_window() const override;
  BackLegInfo info() const override;

  const BackSessionStatistics& statistics() const { return statistics_; }

 protected:
  enum class State { kIdle, kConnecting, kLoggingIn, kFullFeature, kLoggingOut, kClosed };

  struct BackTask {
    Task* task = nullptr;  // null once the front has aborted it
    FrontLeg* front = nullptr;
    uint64_t lun = 0;
    uint32_t cmd_sn = 0;
    bool ready = false;  // the fabric has what it needs to send the command
    bool sent = false;
    uint32_t next_data_sn = 0;
    std::chrono::steady_clock::time_point sent_at;
    // Memory the fabric holds for the command until the storage has ended
    // it (iSER: the buffer the storage reads from and writes into).
    std::shared_ptr<const void> held;
    // A task management function ended it, yet the storage may still answer
    // for it (tgt does, right after "function complete"): see
    // ended_by_management_.
    bool ended_by_management = false;
  };

  BackSession(boost::asio::any_io_executor executor, BackSessionOptions options);

  // --- What a fabric provides.
  // Connects to the portal's addresses (resolved, never empty); then calls
  // connected(), or fail().
  virtual void connect(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints) = 0;
  // Whether a connection exists that close_connection() must end.
  virtual bool has_connection() const = 0;
  virtual void send(const iscsi::Pdu& pdu, DataOwner owner = {}) = 0;
  // Ends the connection; connection_closed() follows from the loop.
  virtual void close_connection(const std::string& reason) = 0;
  // Lets go of a connection that has closed, before a second login opens
  // another: has_connection() is false from here to the next connect().
  virtual void forget_connection() = 0;
  // The fabric's part of the login keys.
  virtual void adjust_login_policy(iscsi::NegotiationPolicy& policy) = 0;
  // Logged in: the fabric switches to the negotiated parameters. An error
  // ends the session.
  virtual Expected<void, std::string> begin_full_feature(
      const iscsi::NegotiatedParameters& parameters) = 0;
  // Gets the command ready to go (iSER gathers its write data and a buffer
  // for its reads), then calls prepared(itt), at once or later; need not if
  // the session ends or the task goes first. Commands leave in the order
  // they were submitted.
  virtual void prepare(uint32_t itt, BackTask& back_task) {
    (void)back_task;
    prepared(itt);
  }
  // Sends the SCSI Command the core built; the fabric adds its data or its
  // buffer's description (and, for one of several commands a task goes as,
  // its own CDB and length: add_command()).
  virtual void send_command(BackTask& back_task, iscsi::ScsiCommand& command) = 0;
  // The storage's status for a command, just before it reaches the front:
  // iSER passes the read data the storage wrote into its buffer. For a task
  // sent as several commands (add_command()) the fabric returns false until
  // the last of them has answered, and then sets `completion` to what they
  // make together.
  virtual bool answered(BackTask& back_task, Completion& completion) {
    (void)back_task;
    (void)completion;
    return true;
  }
  // What may explain a connection that does not come up, for the log.
  virtual std::string connecting_hint() const { return {}; }
  // The connection's counters while there is one, for the session view.
  virtual std::optional<ConnectionStatistics> connection_statistics() const { return std::nullopt; }

  // --- What a fabric calls.
  void connected();
  void received(const iscsi::Pdu& pdu, DataOwner data_owner = {});
  void connection_closed(const std::string& reason);
  void fail(const std::string& reason);
  void protocol_error(const std::string& why);
  // Ends a command the storage never saw, with `completion`.
  void end_unsent(uint32_t itt, const Completion& completion);
  // The command prepare() was given is ready to go; ignored for a task
  // already gone.
  void prepared(uint32_t itt);
  // Sends the task of `itt` to the storage as one more command, with an ITT
  // and a CmdSN of its own, right behind the task's others: for a fabric
  // whose commands carry less than a host's (iSER). Called from prepare()
  // only; the fabric calls prepared() for each command, and answered()
  // says when the task ends. Aborting the task, or ABORT TASK for it,
  // reaches all of its commands. Returns the new command's ITT.
  uint32_t add_command(uint32_t itt);

  const BackSessionOptions& options() const { return options_; }
  const iscsi::NegotiatedParameters& parameters() const { return parameters_; }
  State state() const { return state_; }
  const boost::asio::any_io_executor& executor() const { return executor_; }
  BackTask* find_task(uint32_t itt);

  // The fabric counts the data it moves.
  BackSessionStatistics statistics_;

 private:
  // ABORT TASK names one command (RFC 7143 §11.5.1), so a task sent as
  // several takes one request for each the storage has; the front hears one
  // answer, once all are in.
  struct AbortTogether {
    ManageDone done;
    size_t unanswered = 0;
    iscsi::TaskManagementResponseCode code = iscsi::TaskManagementResponseCode::kTaskDoesNotExist;
    std::vector<uint32_t> itts;
    void answer(iscsi::TaskManagementResponseCode answer);
  };
  struct Management {
    ManageDone done;
    iscsi::TaskManagementFunction function;
    uint64_t lun;
    uint32_t referenced_itt;                  // ABORT TASK
    std::shared_ptr<AbortTogether> together;  // ABORT TASK of one of several commands
  };

  void resolve_portal();
  // Calls what when_released() was given: the storage is let go of.
  void released();
  // Forgets the commands not yet sent whose tasks `covered` picks.
  void drop_unsent(const std::function<bool(const BackTask&)>& covered);
  // After the storage refused a list of CHAP algorithms: whether to log in
  // again offering MD5 alone (logged, and set up in login_config_).
  bool offer_md5_alone(const std::string& refusal);
  void handle_login(const iscsi::LoginResponse& response);
  void finish_open(const BackOpenResult& result);
  // Tells whoever waits on this back leg, once: the front's login while it
  // opens, the front itself after.
  void report_failure(const std::string& reason);

  void send_command(uint32_t itt);
  void send_waiting();
  void handle_r2t(const iscsi::R2t& r2t);
  void send_data_out(uint32_t itt, uint32_t ttt, uint32_t offset, uint32_t length,
                     std::vector<DataSlice> slices);
  void handle_data_in(const iscsi::DataIn& data_in, DataOwner& data_owner);
  void handle_response(const iscsi::ScsiResponse& response);
  void handle_task_management(const iscsi::TaskManagementResponse& response);
  void handle_nop_in(const iscsi::NopIn& nop);
  void handle_async(const iscsi::AsyncMessage& message);
  void finish_task(uint32_t itt, Completion completion);
  // Forgets a task the front no longer waits for, on the storage's last word
  // about it.
  void drop_answered(std::unordered_map<uint32_t, BackTask>::iterator found);
  void forget_old_ended_tasks();

  // Every PDU from the storage carries its window; status PDUs carry StatSN.
  void update_window(uint32_t exp_cmd_sn, uint32_t max_cmd_sn);
  void acknowledge_status(uint32_t stat_sn);
  uint32_t allocate_itt();

  void schedule_timer();
  void on_timer();
  void logout();

  boost::asio::any_io_executor executor_;
  BackSessionOptions options_;
  State state_ = State::kIdle;
  std::shared_ptr<BackSession> self_;  // alive while the connection is
  std::optional<iscsi::LoginInitiator> login_;
  iscsi::LoginInitiatorConfig login_config_;  // what a second login starts from
  // Set while the connection closes for a second login that offers MD5
  // alone, after the storage refused the list of CHAP algorithms.
  bool login_again_ = false;
  std::vector<std::function<void()>> released_;  // when_released(), until closed
  std::chrono::steady_clock::time_point deadline_;

  FrontLeg* front_ = nullptr;
  OpenDone open_done_;

  iscsi::NegotiatedParameters parameters_;
  uint16_t tsih_ = 0;
  uint32_t cmd_sn_ = 0;
  uint32_t exp_cmd_sn_ = 0;
  uint32_t max_cmd_sn_ = 0;
  uint32_t exp_stat_sn_ = 0;
  uint32_t next_itt_ = 1;
  std::unordered_map<uint32_t, BackTask> tasks_;
  // ITTs of commands not sent yet, in the order they came: waiting to be
  // ready, or for the storage's window.
  std::deque<uint32_t> waiting_;
  // The ITTs of the tasks in tasks_ that task management ended while the
  // storage had them, oldest first; an answer for one takes it out. They
  // stay in tasks_ so that a late answer is dropped rather than taken for a
  // protocol error, and so that their held memory, which the storage may
  // still write into, is not reused before that answer or the connection's
  // end. Beyond kEndedTasksRemembered the oldest is forgotten; if its
  // memory is still held, the connection is ended instead, which is the
  // only way to be sure the storage is done.
  std::deque<uint32_t> ended_by_management_;
  bool late_answer_logged_ = false;
  std::unordered_map<uint32_t, Management> management_;  // by ITT
  uint32_t logout_itt_ = iscsi::kReservedTag;

  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point last_heard_;
  std::optional<uint32_t> ping_itt_;
  std::chrono::steady_clock::time_point ping_sent_;
};

}  // namespace isergw::gateway
