// An RDMA device: its verbs context and the limits the fabrics size queues,
// Read depths and registrations by. A Device either opens the context itself
// (owning it) or borrows the one the RDMA CM bound a connection to.
#pragma once

#include <infiniband/verbs.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "rdma/verbs_error.h"

namespace isergw::rdma {

struct DeviceLimits {
  std::uint32_t max_qp_wr = 0;
  std::uint32_t max_sge = 0;
  std::uint32_t max_cqe = 0;
  std::uint32_t max_srq_wr = 0;
  std::uint64_t max_mr_size = 0;
  // RDMA Reads this device answers per QP (responder resources, IRD) and
  // issues per QP (initiator depth, ORD): the CM connect parameters.
  std::uint32_t max_qp_rd_atom = 0;
  std::uint32_t max_qp_init_rd_atom = 0;
};

// The vendor ids the soft drivers report: siw's is "bmt" in ASCII, rxe's
// its RXE_VENDOR_ID.
inline constexpr std::uint32_t kSiwVendorId = 0x626d74;
inline constexpr std::uint32_t kRxeVendorId = 0xffffff;

class Device {
 public:
  // The names ibverbs sees (rxe0, siw0, mlx5_0, ...); empty where there is
  // no RDMA device or no kernel RDMA at all.
  static std::vector<std::string> list_names();

  // Opens the named device, or the first one when name is empty.
  static Expected<std::unique_ptr<Device>, VerbsError> open(std::string_view name = {});

  // Wraps a context owned by someone else (the RDMA CM's cm_id->verbs),
  // which must outlive the Device.
  static Expected<std::unique_ptr<Device>, VerbsError> borrow(ibv_context* context);

  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  ibv_context* context() const { return context_; }
  const std::string& name() const { return name_; }
  // iWARP needs REMOTE_WRITE on RDMA Read sinks and shares TCP's port space.
  bool is_iwarp() const { return context_->device->transport_type == IBV_TRANSPORT_IWARP; }
  // Soft-iWARP, whose user library has quirks of its own (completion_queue.h).
  bool is_siw() const { return attributes_.vendor_id == kSiwVendorId; }
  // rxe or siw: the kernel does a user QP's wire work in the posting system
  // call (posting_thread.h).
  bool posts_in_kernel() const { return is_siw() || attributes_.vendor_id == kRxeVendorId; }
  const ibv_device_attr& attributes() const { return attributes_; }
  DeviceLimits limits() const;

 private:
  Device(ibv_context* context, bool owned);
  Expected<void, VerbsError> query();

  ibv_context* context_;
  bool owned_;
  std::string name_;
  ibv_device_attr attributes_{};
};

}  // namespace isergw::rdma
