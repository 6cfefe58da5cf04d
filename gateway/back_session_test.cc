// The back role's bookkeeping for a task a fabric sends as several commands
// (BackSession::add_command(), as the iSER back leg does for a READ or WRITE
// larger than its command buffer), against a storage played in memory: the
// fabric below records what the session sends and the test answers for the
// storage. The TCP back leg, which sends each task as one command, is tested
// against a scripted storage in fabric_tcp/initiator_session_test.cc.
#include "gateway/back_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <map>
#include <memory>
#include <set>

#include "iscsi/login_target.h"

namespace isergw::gateway {
namespace {

namespace asio = boost::asio;
using Code = iscsi::TaskManagementResponseCode;

constexpr const char* kStorageTarget = "iqn.2026-11.io.isergw.test:storage";
constexpr uint8_t kCheckCondition = 0x02;

// Sends every task as `pieces` commands and reports the task's end at the
// last of their answers, with the first failing answer if any.
class PiecewiseSession : public BackSession, public iscsi::LoginPolicy {
 public:
  PiecewiseSession(asio::any_io_executor executor, size_t pieces, uint32_t window)
      : BackSession(std::move(executor), options()), window(window), pieces_(pieces) {
    iscsi::LoginTargetConfig config;
    config.command_window = window;
    login_target_.emplace(config, *this);
  }

  struct Sent {
    uint32_t itt;
    uint32_t cmd_sn;
    const Task* task;
  };
  std::vector<Sent> commands;
  std::vector<iscsi::TaskManagementRequest> task_management;
  std::optional<iscsi::OwnedLoginResponse> login_response;

  // The storage's side of the sequence numbers.
  uint32_t stat_sn = 0;
  uint32_t exp_cmd_sn = 0;
  uint32_t window = 0;

  void respond(uint32_t itt, uint8_t status = 0) {
    iscsi::ScsiResponse response;
    response.itt = itt;
    response.status = status;
    stamp(response);
    received(response);
  }
  void answer_task_management(uint32_t itt, Code code) {
    iscsi::TaskManagementResponse response;
    response.itt = itt;
    response.response = code;
    stamp(response);
    received(response);
  }
  // A NOP-In that opens the window to `window` commands past ExpCmdSN.
  void open_window(uint32_t commands) {
    window = commands;
    iscsi::NopIn nop;
    nop.itt = iscsi::kReservedTag;
    nop.ttt = iscsi::kReservedTag;
    nop.exp_cmd_sn = exp_cmd_sn;
    nop.max_cmd_sn = exp_cmd_sn + window - 1;
    received(nop);
  }
  // A PDU from the storage.
  void storage_sends(const iscsi::Pdu& pdu) { received(pdu); }
  bool hold_preparation = false;
  void hang_up() {
    if (!connected_) return;
    connected_ = false;
    connection_closed("test over");
  }

  std::optional<iscsi::LoginTargetResult> login_result() const { return login_target_->result(); }

  // LoginPolicy
  std::optional<iscsi::TargetAccess> normal_session(std::string_view target,
                                                    std::string_view) const override {
    if (target != kStorageTarget) return std::nullopt;
    return iscsi::TargetAccess{};
  }
  std::optional<iscsi::TargetAccess> discovery_session(std::string_view) const override {
    return std::nullopt;
  }

 private:
  static BackSessionOptions options() {
    BackSessionOptions options;
    options.portal.host = "127.0.0.1";
    options.target_name = kStorageTarget;
    options.back_end = "test://storage";
    return options;
  }

  template <typename Pdu>
  void stamp(Pdu& pdu) {
    pdu.stat_sn = stat_sn++;
    pdu.exp_cmd_sn = exp_cmd_sn;
    pdu.max_cmd_sn = exp_cmd_sn + window - 1;
  }

  void connect(const std::vector<asio::ip::tcp::endpoint>&) override {
    connected_ = true;
    connected();
  }
  bool has_connection() const override { return connected_; }
  void send(const iscsi::Pdu& pdu, DataOwner) override {
    if (const auto* login = std::get_if<iscsi::LoginRequest>(&pdu)) {
      login_response = login_target_->on_request(*login);
    } else if (const auto* request = std::get_if<iscsi::TaskManagementRequest>(&pdu)) {
      task_management.push_back(*request);
    }
  }
  void forget_connection() override { connected_ = false; }
  void close_connection(const std::string& reason) override {
    asio::post(executor(), [self = shared_from_this(), this, reason] {
      if (!connected_) return;
      connected_ = false;
      connection_closed(reason);
    });
  }
  void adjust_login_policy(iscsi::NegotiationPolicy&) override {}
  Expected<void, std::string> begin_full_feature(const iscsi::NegotiatedParameters&) override {
    stat_sn = login_target_->result()->next_stat_sn;
    exp_cmd_sn = login_target_->result()->exp_cmd_sn;
    return {};
  }
  void prepare(uint32_t itt, BackTask&) override {
    std::vector<uint32_t> itts{itt};
    for (size_t i = 1; i < pieces_; ++i)
      itts.push_back(add_command(itt));
    // As an iSER back leg whose command buffers are all taken: not ready.
    if (hold_preparation) return;
    for (uint32_t each : itts)
      prepared(each);
  }
  void send_command(BackTask& back_task, iscsi::ScsiCommand& command) override {
    commands.push_back({command.itt, command.cmd_sn, back_task.task});
    exp_cmd_sn = command.cmd_sn + 1;
  }
  bool answered(BackTask& back_task, Completion& completion) override {
    Progress& progress = progress_[back_task.task];
    if (!progress.failure && completion.status != 0) progress.failure = completion;
    if (++progress.answered < pieces_) return false;
    if (progress.failure) completion = *progress.failure;
    progress_.erase(back_task.task);
    return true;
  }

  struct Progress {
    size_t answered = 0;
    std::optional<Completion> failure;
  };
  size_t pieces_;
  bool connected_ = false;
  std::optional<iscsi::LoginTarget> login_target_;
  std::map<const Task*, Progress> progress_;
};

class RecordingFront : public FrontLeg {
 public:
  void pull(Task&, uint32_t, uint32_t, PullDone) override {}
  void push(Task&, uint32_t, std::span<const uint8_t>, std::shared_ptr<const void>) override {}
  std::vector<DataSlice> received(Task&, uint32_t, uint32_t) override { return {}; }
  void complete(Task& task, const Completion& completion) override {
    completions.emplace_back(&task, completion);
  }
  void notify(const iscsi::AsyncMessage&) override {}
  void back_failed(const std::string& reason) override { failure = reason; }

  std::vector<std::pair<const Task*, Completion>> completions;
  std::optional<std::string> failure;
};

class BackSessionTest : public testing::Test {
 protected:
  void log_in(size_t pieces, uint32_t window = 32) {
    session_ = std::make_shared<PiecewiseSession>(context_.get_executor(), pieces, window);
    std::optional<BackOpenResult> opened;
    session_->open(front_, HostIdentity{"iqn.1993-08.org.debian:01:host", "", {}},
                   [&](const BackOpenResult& result) { opened = result; });
    // The portal's address is resolved on the loop, then each Login Request
    // is answered by the storage's login machine.
    for (int i = 0; i < 500 && !opened; ++i) {
      context_.run_one_for(std::chrono::milliseconds(10));
      if (session_->login_response) {
        const iscsi::OwnedLoginResponse response = std::move(*session_->login_response);
        session_->login_response.reset();
        session_->storage_sends(response.pdu());
      }
    }
    ASSERT_TRUE(opened && opened->ok()) << (opened ? opened->reason : "no answer");
  }

  void TearDown() override {
    if (!session_) return;
    session_->close();
    session_->hang_up();
    context_.poll();
  }

  Task& task(uint32_t itt) {
    auto made = std::make_unique<Task>();
    made->id = itt;
    made->itt = itt;
    made->read = true;
    made->expected_data_transfer_length = 3 * 512 * 1024;
    made->cdb.assign(16, 0);
    made->cdb[0] = 0x28;
    tasks_.push_back(std::move(made));
    return *tasks_.back();
  }

  void expect_held_piece_dropped(iscsi::TaskManagementFunction function) {
    log_in(3, 2);
    Task& target = task(10);
    session_->submit(target, front_);
    ASSERT_EQ(session_->commands.size(), 2U);
    std::vector<Code> answers;
    session_->manage(TaskManagement{function, 0, &target}, [&](Code code) {
      answers.push_back(code);
      session_->abort(target);  // as the front does once answered
    });
    ASSERT_FALSE(session_->task_management.empty());
    session_->window = 8;  // the storage's answers open its window wide
    const auto requests = session_->task_management;
    for (const auto& request : requests)
      session_->answer_task_management(request.itt, Code::kFunctionComplete);
    ASSERT_EQ(answers.size(), 1U);
    EXPECT_EQ(answers[0], Code::kFunctionComplete);
    session_->open_window(8);
    EXPECT_EQ(session_->commands.size(), 2U)
        << "a piece of an aborted task was sent after the abort";
    EXPECT_FALSE(front_.failure);
  }

  std::vector<uint32_t> itts_of(const Task& of) const {
    std::vector<uint32_t> itts;
    for (const auto& sent : session_->commands) {
      if (sent.task == &of) itts.push_back(sent.itt);
    }
    return itts;
  }

  asio::io_context context_;
  RecordingFront front_;
  std::shared_ptr<PiecewiseSession> session_;
  std::vector<std::unique_ptr<Task>> tasks_;
};

TEST_F(BackSessionTest, ATaskSentAsSeveralCommandsEndsOnceAfterTheLastAnswers) {
  log_in(3);
  Task& first = task(10);
  Task& second = task(11);
  session_->submit(first, front_);
  session_->submit(second, front_);
  ASSERT_EQ(session_->commands.size(), 6U);
  // Each command has an ITT of its own and the next CmdSN; the task's
  // commands leave together, before the next task's.
  std::set<uint32_t> itts;
  for (size_t i = 0; i < 6; ++i) {
    itts.insert(session_->commands[i].itt);
    EXPECT_EQ(session_->commands[i].cmd_sn, session_->commands[0].cmd_sn + i);
    EXPECT_EQ(session_->commands[i].task, i < 3 ? &first : &second);
  }
  EXPECT_EQ(itts.size(), 6U);
  EXPECT_EQ(session_->info().in_flight, 6U);

  // Answered out of order: nothing reaches the host until the last.
  const std::vector<uint32_t> pieces = itts_of(first);
  session_->respond(pieces[2]);
  session_->respond(pieces[0], kCheckCondition);
  EXPECT_TRUE(front_.completions.empty());
  EXPECT_EQ(session_->info().in_flight, 4U);
  session_->respond(pieces[1]);
  ASSERT_EQ(front_.completions.size(), 1U);
  EXPECT_EQ(front_.completions[0].first, &first);
  EXPECT_EQ(front_.completions[0].second.status, kCheckCondition);
  EXPECT_FALSE(front_.failure);
}

TEST_F(BackSessionTest, TheStoragesWindowHoldsBackTheRestOfATasksCommands) {
  log_in(3, 2);
  Task& first = task(10);
  session_->submit(first, front_);
  ASSERT_EQ(session_->commands.size(), 2U);
  session_->open_window(8);
  ASSERT_EQ(session_->commands.size(), 3U);
  EXPECT_EQ(session_->commands[2].cmd_sn, session_->commands[1].cmd_sn + 1);
  EXPECT_EQ(session_->commands[2].task, &first);
}

TEST_F(BackSessionTest, AnAbortedTaskForgetsEveryCommandItWentAs) {
  log_in(3, 2);
  Task& aborted = task(10);
  session_->submit(aborted, front_);
  const std::vector<uint32_t> sent = itts_of(aborted);
  ASSERT_EQ(sent.size(), 2U);
  session_->abort(aborted);
  // The storage's answers for what it had are dropped, not taken for a
  // protocol error, and the command it never had is never sent.
  session_->respond(sent[0]);
  session_->respond(sent[1]);
  session_->open_window(8);
  EXPECT_EQ(session_->commands.size(), 2U);
  EXPECT_TRUE(front_.completions.empty());
  EXPECT_FALSE(front_.failure);
  EXPECT_EQ(session_->info().in_flight, 0U);

  Task& next = task(11);
  session_->submit(next, front_);
  ASSERT_EQ(session_->commands.size(), 5U);
  EXPECT_EQ(session_->commands[2].task, &next);
  EXPECT_EQ(session_->commands[2].cmd_sn, session_->commands[1].cmd_sn + 1);
}

TEST_F(BackSessionTest, AbortTaskReachesEveryCommandTheStorageHasAndIsAnsweredOnce) {
  log_in(3);
  Task& target = task(10);
  session_->submit(target, front_);
  const std::vector<uint32_t> pieces = itts_of(target);
  ASSERT_EQ(pieces.size(), 3U);
  // One piece completed before the abort: the storage no longer has it.
  session_->respond(pieces[0]);

  std::vector<Code> answers;
  session_->manage(TaskManagement{iscsi::TaskManagementFunction::kAbortTask, 0, &target},
                   [&](Code code) {
                     answers.push_back(code);
                     // As the front does: it ends the task once answered.
                     session_->abort(target);
                   });
  ASSERT_EQ(session_->task_management.size(), 2U);
  std::set<uint32_t> referenced;
  std::set<uint32_t> request_itts;
  for (const auto& request : session_->task_management) {
    referenced.insert(request.referenced_task_tag);
    request_itts.insert(request.itt);
    const auto sent =
        std::find_if(session_->commands.begin(), session_->commands.end(),
                     [&](const auto& c) { return c.itt == request.referenced_task_tag; });
    ASSERT_NE(sent, session_->commands.end());
    EXPECT_EQ(request.ref_cmd_sn, sent->cmd_sn);
  }
  EXPECT_EQ(referenced, (std::set<uint32_t>{pieces[1], pieces[2]}));
  EXPECT_EQ(request_itts.size(), 2U);

  // One of them had completed meanwhile too ("task does not exist"); the
  // task was still aborted.
  session_->answer_task_management(session_->task_management[0].itt, Code::kTaskDoesNotExist);
  EXPECT_TRUE(answers.empty());
  session_->answer_task_management(session_->task_management[1].itt, Code::kFunctionComplete);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0], Code::kFunctionComplete);
  EXPECT_TRUE(front_.completions.empty());
  // The aborted commands are the storage's no more, and a late answer for
  // one of them is dropped.
  EXPECT_EQ(session_->info().in_flight, 0U);
  session_->respond(pieces[2]);
  EXPECT_TRUE(front_.completions.empty());
  EXPECT_FALSE(front_.failure);
}

// A task whose last piece still waits for the storage's window when the
// host aborts it (or resets its LU): the answer opens the window, and the
// piece must not go out then, after the host heard its task was aborted.
TEST_F(BackSessionTest, APieceHeldBackByTheWindowNeverLeavesOnceItsTaskIsAborted) {
  expect_held_piece_dropped(iscsi::TaskManagementFunction::kAbortTask);
}
TEST_F(BackSessionTest, APieceHeldBackByTheWindowNeverLeavesOnceItsLuIsReset) {
  expect_held_piece_dropped(iscsi::TaskManagementFunction::kLogicalUnitReset);
}

// A reinstating login waits for this: the old session's back leg has let go
// of the storage only once its logout is over, not when it begins.
TEST_F(BackSessionTest, ReleasedOnceTheStorageIsLetGoNotBefore) {
  log_in(1);
  int released = 0;
  session_->when_released([&] { ++released; });
  session_->close();  // logs out of the storage
  context_.poll();
  EXPECT_EQ(released, 0) << "released while the logout was under way";
  session_->hang_up();  // the storage ends the connection
  context_.poll();
  EXPECT_EQ(released, 1);
  session_->when_released([&] { ++released; });
  EXPECT_EQ(released, 2) << "a closed back leg is released at once";
}

// Commands leave in order: a ready one waits behind one that is not. When
// the one in front is aborted, the one behind leaves at once, not at the
// next command or answer, which may never come.
TEST_F(BackSessionTest, AbortingTheCommandInFrontLetsTheReadyOneBehindItGo) {
  log_in(1);
  session_->hold_preparation = true;
  Task& stuck = task(10);
  session_->submit(stuck, front_);
  session_->hold_preparation = false;
  Task& behind = task(11);
  session_->submit(behind, front_);
  ASSERT_TRUE(session_->commands.empty());
  session_->abort(stuck);
  ASSERT_EQ(session_->commands.size(), 1U);
  EXPECT_EQ(session_->commands[0].task, &behind);
}

TEST_F(BackSessionTest, AbortTaskRefusedForOneCommandIsRefused) {
  log_in(2);
  Task& target = task(10);
  session_->submit(target, front_);
  std::vector<Code> answers;
  session_->manage(TaskManagement{iscsi::TaskManagementFunction::kAbortTask, 0, &target},
                   [&](Code code) { answers.push_back(code); });
  ASSERT_EQ(session_->task_management.size(), 2U);
  session_->answer_task_management(session_->task_management[1].itt, Code::kFunctionRejected);
  session_->answer_task_management(session_->task_management[0].itt, Code::kFunctionComplete);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0], Code::kFunctionRejected);
}

TEST_F(BackSessionTest, AbortTaskForATaskWhoseCommandsAllAnsweredIsTaskDoesNotExist) {
  log_in(2);
  Task& target = task(10);
  session_->submit(target, front_);
  for (uint32_t itt : itts_of(target))
    session_->respond(itt);
  ASSERT_EQ(front_.completions.size(), 1U);
  std::vector<Code> answers;
  session_->manage(TaskManagement{iscsi::TaskManagementFunction::kAbortTask, 0, &target},
                   [&](Code code) { answers.push_back(code); });
  EXPECT_TRUE(session_->task_management.empty());
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0], Code::kTaskDoesNotExist);
}

TEST_F(BackSessionTest, ALostConnectionAnswersAnAbortTaskOfSeveralCommandsOnce) {
  log_in(3);
  Task& target = task(10);
  session_->submit(target, front_);
  std::vector<Code> answers;
  session_->manage(TaskManagement{iscsi::TaskManagementFunction::kAbortTask, 0, &target},
                   [&](Code code) { answers.push_back(code); });
  ASSERT_EQ(session_->task_management.size(), 3U);
  session_->hang_up();
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0], Code::kFunctionComplete);
}

}  // namespace
}  // namespace isergw::gateway
