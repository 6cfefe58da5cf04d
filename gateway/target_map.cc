#include "gateway/target_map.h"

#include <algorithm>

#include "backend_ram/backend_url.h"
#include "fabric_ib/iser_initiator_session.h"
#include "fabric_tcp/initiator_session.h"

namespace isergw::gateway {
namespace {

bool allowed(const control::TargetConfig& target, std::string_view initiator) {
  const auto& list = target.allowed_initiators;
  return list.empty() || std::find(list.begin(), list.end(), initiator) != list.end();
}

iscsi::ChapCredentials to_login(const control::ChapCredentials& chap) {
  return iscsi::ChapCredentials{chap.user, chap.secret};
}

}  // namespace

Expected<std::shared_ptr<const TargetMap>, std::string> TargetMap::build(
    const control::Config& config, const TargetMap* previous) {
  auto map = std::make_shared<TargetMap>();
  map->gateway_name_ = config.gateway_name;
  map->discovery_ = config.discovery;
  // The gateway's own login to the storage ends well inside the host's, so
  // that a storage that takes the connection and never answers (stopped,
  // wedged) costs the host a refusal it can read, not a timeout of its own:
  // two thirds, 10 s of the default 15.
  map->back_login_timeout_ =
      std::chrono::seconds(std::max(1U, config.limits.login_timeout_seconds * 2 / 3));
  for (const control::TargetConfig& target : config.targets) {
    MappedTarget mapped{target, nullptr};
    switch (target.back_end.kind) {
      case BackEndKind::kRam:
      case BackEndKind::kNull: {
        const MappedTarget* old = previous ? previous->find(target.name) : nullptr;
        if (old && old->disk && old->config.back_end.redacted() == target.back_end.redacted()) {
          mapped.disk = old->disk;
          break;
        }
        const backend_ram::BackendUrl url{target.back_end.kind == BackEndKind::kRam
                                              ? backend_ram::BackendKind::kRam
                                              : backend_ram::BackendKind::kNull,
                                          target.back_end.size_bytes};
        // The target name keeps the disk's serial number and designators
        // stable across restarts.
        // A command moves no more than the workers' pools can set aside
        // for it at once (gateway/buffer_pool.h).
        const BufferPoolOptions pool{.name = target.name,
                                     .buffer_size = config.buffers.buffer_size,
                                     .buffer_count = config.buffers.buffers_per_worker};
        auto disk = backend_ram::open_backend(
            url,
            {.name = target.name,
             .max_transfer_bytes = static_cast<uint32_t>(std::min<size_t>(
                 BufferPool::max_claim_bytes(pool), backend_ram::ScsiDisk::kMaxTransferBytes))});
        if (!disk) return Unexpected{"target " + target.name + ": " + disk.error()};
        mapped.disk = std::make_shared<SharedDisk>(std::move(*disk));
        break;
      }
      case BackEndKind::kIscsi:
      case BackEndKind::kIser:
        break;  // sessions log in to the storage as hosts log in
    }
    map->targets_.push_back(std::move(mapped));
  }
  return std::shared_ptr<const TargetMap>(std::move(map));
}

const MappedTarget* TargetMap::find(std::string_view name) const {
  for (const MappedTarget& target : targets_) {
    if (target.config.name == name) return &target;
  }
  return nullptr;
}

std::vector<const MappedTarget*> TargetMap::visible_to(std::string_view initiator_name) const {
  std::vector<const MappedTarget*> visible;
  for (const MappedTarget& target : targets_) {
    if (allowed(target.config, initiator_name)) visible.push_back(&target);
  }
  return visible;
}

bool TargetMap::relays_over_iser() const {
  return std::any_of(targets_.begin(), targets_.end(), [](const MappedTarget& target) {
    return target.config.back_end.kind == BackEndKind::kIser;
  });
}

Expected<std::shared_ptr<BackLeg>, std::string> TargetMap::make_back_leg(
    const MappedTarget& target, BufferPool& pool, boost::asio::any_io_executor executor,
    fabric_ib::RdmaWorker* rdma, std::shared_ptr<BufferAccount> claims) const {
  const control::TargetConfig& config = target.config;
  if (target.disk) {
    return std::shared_ptr<BackLeg>(std::make_shared<BuiltInBackLeg>(
        target.disk, pool, std::move(claims), config.back_end.redacted()));
  }
  BackSessionOptions options;
  options.portal = config.back_end.portal;
  options.target_name = config.back_end.target_name;
  options.back_end = config.back_end.redacted();
  options.login_timeout = back_login_timeout_;
  // The storage asks for no more write data at once than one claim of the
  // pool holds: each R2T's data is set aside whole before the host is
  // asked for it (gateway/buffer_pool.h).
  options.max_burst_length =
      static_cast<uint32_t>(std::min<size_t>(options.max_burst_length, pool.max_claim_bytes()));
  // FirstBurstLength may not exceed MaxBurstLength (RFC 7143 §13.14).
  options.first_burst_length = std::min(options.first_burst_length, options.max_burst_length);
  if (config.identity == control::BackIdentity::kGateway) options.gateway_name = gateway_name_;
  if (config.back_chap) options.chap = to_login(*config.back_chap);
  if (config.back_mutual_chap) options.target_chap = to_login(*config.back_mutual_chap);
  if (config.back_end.kind == BackEndKind::kIser) {
    if (rdma == nullptr) {
      return Unexpected{std::string("this worker has no RDMA devices for the iSER back end")};
    }
    return std::shared_ptr<BackLeg>(
        std::make_shared<fabric_ib::IserInitiatorSession>(*rdma, std::move(options)));
  }
  return std::shared_ptr<BackLeg>(std::make_shared<fabric_tcp::InitiatorSession>(
      std::move(executor), pool, std::move(options)));
}

std::optional<iscsi::TargetAccess> TargetMap::normal_session(
    std::string_view target_name, std::string_view initiator_name) const {
  const MappedTarget* target = find(target_name);
  if (target == nullptr) return std::nullopt;
  iscsi::TargetAccess access;
  access.allowed = allowed(target->config, initiator_name);
  if (target->config.front_chap) {
    access.auth = iscsi::AuthRequirement::kChap;
    access.initiator_chap = to_login(*target->config.front_chap);
    if (target->config.front_mutual_chap) {
      access.target_chap = to_login(*target->config.front_mutual_chap);
    }
  }
  return access;
}

std::optional<iscsi::TargetAccess> TargetMap::discovery_session(std::string_view) const {
  // Discovery shows only names and addresses, and SendTargets answers each
  // initiator with just the targets it may log in to. The InitiatorName is
  // only what the host claims, so discovery CHAP, where configured, is what
  // keeps the names from hosts that hold no secret.
  iscsi::TargetAccess access;
  if (discovery_.chap) {
    access.auth = iscsi::AuthRequirement::kChap;
    access.initiator_chap = to_login(*discovery_.chap);
    if (discovery_.mutual_chap) access.target_chap = to_login(*discovery_.mutual_chap);
  }
  return access;
}

}  // namespace isergw::gateway
