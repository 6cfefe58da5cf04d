#include "rdma/device.h"

#include <cerrno>

namespace isergw::rdma {
namespace {

struct DeviceListDeleter {
  void operator()(ibv_device** list) const { ibv_free_device_list(list); }
};
using DeviceList = std::unique_ptr<ibv_device*[], DeviceListDeleter>;

}  // namespace

std::vector<std::string> Device::list_names() {
  int count = 0;
  DeviceList list(ibv_get_device_list(&count));
  std::vector<std::string> names;
  for (int i = 0; list && i < count; ++i)
    names.emplace_back(ibv_get_device_name(list[i]));
  return names;
}

Expected<std::unique_ptr<Device>, VerbsError> Device::open(std::string_view name) {
  int count = 0;
  DeviceList list(ibv_get_device_list(&count));
  const std::string wanted =
      name.empty() ? std::string("any RDMA device") : "RDMA device " + std::string(name);
  if (!list) {
    auto error = verbs_error("ibv_get_device_list", errno, "looking for " + wanted);
    error.hint = "this kernel offers no RDMA (is ib_uverbs loaded?)";
    return Unexpected{std::move(error)};
  }
  for (int i = 0; i < count; ++i) {
    if (!name.empty() && name != ibv_get_device_name(list[i])) continue;
    ibv_context* context = ibv_open_device(list[i]);
    if (context == nullptr) {
      return Unexpected{verbs_error("ibv_open_device", errno, ibv_get_device_name(list[i]))};
    }
    std::unique_ptr<Device> device(new Device(context, true));
    if (auto ok = device->query(); !ok) return Unexpected{ok.error()};
    return device;
  }
  return Unexpected{verbs_error("ibv_get_device_list", ENODEV, "looking for " + wanted)};
}

Expected<std::unique_ptr<Device>, VerbsError> Device::borrow(ibv_context* context) {
  if (context == nullptr) {
    return Unexpected{verbs_error("rdma_cm_id", ENODEV, "the CM id is bound to no device yet")};
  }
  std::unique_ptr<Device> device(new Device(context, false));
  if (auto ok = device->query(); !ok) return Unexpected{ok.error()};
  return device;
}

Device::Device(ibv_context* context, bool owned)
    : context_(context), owned_(owned), name_(ibv_get_device_name(context->device)) {}

Device::~Device() {
  if (owned_) ibv_close_device(context_);
}

Expected<void, VerbsError> Device::query() {
  if (int err = ibv_query_device(context_, &attributes_); err != 0) {
    return Unexpected{verbs_error("ibv_query_device", err, name_)};
  }
  return {};
}

DeviceLimits Device::limits() const {
  return DeviceLimits{
      .max_qp_wr = static_cast<std::uint32_t>(attributes_.max_qp_wr),
      .max_sge = static_cast<std::uint32_t>(attributes_.max_sge),
      .max_cqe = static_cast<std::uint32_t>(attributes_.max_cqe),
      .max_srq_wr = static_cast<std::uint32_t>(attributes_.max_srq_wr),
      .max_mr_size = attributes_.max_mr_size,
      .max_qp_rd_atom = static_cast<std::uint32_t>(attributes_.max_qp_rd_atom),
      .max_qp_init_rd_atom = static_cast<std::uint32_t>(attributes_.max_qp_init_rd_atom),
  };
}

}  // namespace isergw::rdma
