// The configured targets as the running gateway uses them: who may log in to
// which target with which credentials (the login policy), and what each
// target's back leg is.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "control/config.h"
#include "gateway/built_in_back_leg.h"
#include "gateway/legs.h"
#include "iscsi/login_target.h"

namespace isergw::fabric_ib {
class RdmaWorker;
}

namespace isergw::gateway {

struct MappedTarget {
  control::TargetConfig config;
  std::shared_ptr<SharedDisk> disk;  // built-in back ends only
};

class TargetMap : public iscsi::LoginPolicy {
 public:
  // Opens the built-in disks. Fails for a back end this version cannot
  // relay to, naming the target. A built-in disk whose URL `previous`
  // already has is shared with it, so a live config change keeps its data.
  static Expected<std::shared_ptr<const TargetMap>, std::string> build(
      const control::Config& config, const TargetMap* previous = nullptr);

  const MappedTarget* find(std::string_view name) const;
  // The targets an initiator may log in to, for SendTargets.
  std::vector<const MappedTarget*> visible_to(std::string_view initiator_name) const;
  // A new back leg for one front session, on the worker that runs it
  // (`rdma`: its RDMA side, where it has one). `claims` is the session's
  // account of claimed buffers, which a built-in disk's read data shares
  // with the session's write data.
  Expected<std::shared_ptr<BackLeg>, std::string> make_back_leg(
      const MappedTarget& target, BufferPool& pool, boost::asio::any_io_executor executor,
      fabric_ib::RdmaWorker* rdma, std::shared_ptr<BufferAccount> claims) const;
  // Whether a target relays to iSER storage: the workers then need their
  // RDMA side even with no iSER portal.
  bool relays_over_iser() const;

  std::optional<iscsi::TargetAccess> normal_session(std::string_view target_name,
                                                    std::string_view initiator_name) const override;
  std::optional<iscsi::TargetAccess> discovery_session(
      std::string_view initiator_name) const override;

 private:
  std::vector<MappedTarget> targets_;
  std::string gateway_name_;
  control::DiscoveryConfig discovery_;
  std::chrono::seconds back_login_timeout_{10};
};

}  // namespace isergw::gateway
