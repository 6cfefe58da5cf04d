// The back leg of a session mapped to a built-in back end (ram://, null://):
// the gateway answers SCSI itself, from a ScsiDisk shared by every session of
// the target.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "backend_ram/scsi_disk.h"
#include "gateway/buffer_pool.h"
#include "gateway/legs.h"

namespace isergw::gateway {

// One disk, used by sessions on every worker. The relay itself shares
// nothing between workers; a built-in disk is the exception, so it locks.
class SharedDisk {
 public:
  explicit SharedDisk(backend_ram::ScsiDisk disk) : disk_(std::move(disk)) {}
  backend_ram::ScsiResult execute(const backend_ram::ScsiCommand& command,
                                  backend_ram::DataInPieces data_in) {
    std::lock_guard lock(mutex_);
    return disk_.execute(command, data_in);
  }
  // Read only what never changes after the disk was made: no lock.
  uint32_t data_out_length(const backend_ram::ScsiCommand& command) const {
    return disk_.data_out_length(command);
  }
  uint32_t data_in_length(const backend_ram::ScsiCommand& command) const {
    return disk_.data_in_length(command);
  }

 private:
  std::mutex mutex_;
  backend_ram::ScsiDisk disk_;
};

class BuiltInBackLeg : public BackLeg {
 public:
  // `claims`: the session's account of claimed buffers (read data staged
  // here counts in it beside the session's write data).
  BuiltInBackLeg(std::shared_ptr<SharedDisk> disk, BufferPool& pool,
                 std::shared_ptr<BufferAccount> claims, std::string url)
      : disk_(std::move(disk)), pool_(pool), url_(std::move(url)), claims_(std::move(claims)) {}

  void open(FrontLeg&, const HostIdentity&, OpenDone done) override { done({}); }
  void close() override { waiting_.clear(); }
  void submit(Task& task, FrontLeg& front) override;
  // A command ends inside submit's chain, or waits for the host's data
  // (which the front drops with the task) or for read buffers (dropped
  // here).
  void abort(Task& task) override { waiting_.erase(&task); }
  void manage(const TaskManagement&, ManageDone done) override {
    done(iscsi::TaskManagementResponseCode::kFunctionComplete);
  }
  uint32_t command_window() const override { return 128; }
  BackLegInfo info() const override;

 private:
  backend_ram::ScsiCommand scsi_command(const Task& task) const;
  void execute(Task& task, FrontLeg& front, const std::vector<DataSlice>& data_out,
               std::vector<Buffer> data_in);

  std::shared_ptr<SharedDisk> disk_;
  BufferPool& pool_;
  std::string url_;
  uint64_t commands_ = 0;
  // Read data is staged in claimed pool buffers, like every data byte the
  // gateway holds; reads waiting for theirs, by task.
  std::shared_ptr<BufferAccount> claims_;
  std::unordered_map<const Task*, PendingClaim> waiting_;
};

}  // namespace isergw::gateway
