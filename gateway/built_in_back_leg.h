// The back leg of a session mapped to a built-in back end (ram://, null://):
// the gateway answers SCSI itself, from a ScsiDisk shared by every session of
// the target.
#pragma once

#include <memory>
#include <mutex>
#include <string>

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
                                  std::span<uint8_t> data_in) {
    std::lock_guard lock(mutex_);
    return disk_.execute(command, data_in);
  }

 private:
  std::mutex mutex_;
  backend_ram::ScsiDisk disk_;
};

class BuiltInBackLeg : public BackLeg {
 public:
  BuiltInBackLeg(std::shared_ptr<SharedDisk> disk, BufferPool& pool, std::string url)
      : disk_(std::move(disk)), pool_(pool), url_(std::move(url)) {}

  void open(FrontLeg&, const HostIdentity&, OpenDone done) override { done({}); }
  void close() override {}
  void submit(Task& task, FrontLeg& front) override;
  void abort(Task&) override {}  // commands run to completion inside submit's chain
  void manage(const TaskManagement&, ManageDone done) override {
    // Every command has ended by the time submit returns, or waits only for
    // the host's data, which the front drops with the task.
    done(iscsi::TaskManagementResponseCode::kFunctionComplete);
  }
  uint32_t command_window() const override { return 128; }
  BackLegInfo info() const override;

 private:
  void execute(Task& task, FrontLeg& front, const std::vector<DataSlice>& data_out);

  std::shared_ptr<SharedDisk> disk_;
  BufferPool& pool_;
  std::string url_;
  uint64_t commands_ = 0;
};

}  // namespace isergw::gateway
