// Drives the target login state machine with a sequence of Login Requests
// cut from the input. Each request is: flags (T, C, CSG, NSG), a byte of
// header changes, a 16-bit big-endian text length, then the text.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "iscsi/login_target.h"

namespace {

using namespace isergw::iscsi;

class FuzzPolicy : public LoginPolicy {
 public:
  explicit FuzzPolicy(std::uint8_t mode) : mode_(mode) {}
  std::optional<TargetAccess> normal_session(std::string_view target,
                                             std::string_view initiator) const override {
    if (target != "iqn.2024-01.org.isergw:disk1") return std::nullopt;
    return access(initiator);
  }
  std::optional<TargetAccess> discovery_session(std::string_view initiator) const override {
    if (mode_ & 4) return std::nullopt;
    return access(initiator);
  }

 private:
  TargetAccess access(std::string_view initiator) const {
    TargetAccess a;
    a.allowed = initiator != "iqn.denied";
    a.alias = "disk one";
    a.auth = static_cast<AuthRequirement>(mode_ % 3);
    a.initiator_chap = {"user", "initiator-secret"};
    a.target_chap = ChapCredentials{"target", "target-secret"};
    return a;
  }
  std::uint8_t mode_;
};

LoginStage stage(unsigned bits) {
  // The reserved value 2 never reaches the machine: the PDU decoder
  // rejects it.
  return bits == 2 ? LoginStage::kFullFeaturePhase : static_cast<LoginStage>(bits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  FuzzPolicy policy(mode);
  LoginTargetConfig config;
  config.negotiation.rdma_extensions = (mode & 8) != 0;
  config.chap_algorithms = {ChapAlgorithm::kMd5, ChapAlgorithm::kSha256, ChapAlgorithm::kSha3_256};
  auto counter = std::make_shared<std::uint8_t>(0);
  config.random = [counter](std::span<std::uint8_t> out) {
    for (auto& b : out)
      b = (*counter)++;
    return true;
  };
  LoginTarget target(config, policy);
  TextKeyAccumulator responses;

  std::size_t pos = 1;
  while (pos + 4 <= size) {
    const std::uint8_t flags = data[pos];
    const std::uint8_t changes = data[pos + 1];
    std::size_t length = std::size_t{data[pos + 2]} << 8 | data[pos + 3];
    pos += 4;
    length = std::min(length, size - pos);
    LoginRequest request;
    request.transit = (flags & 0x80) != 0;
    request.continues = (flags & 0x40) != 0;
    request.csg = stage((flags >> 2) & 3);
    request.nsg = stage(flags & 3);
    request.isid = {0, 2, 0x3d, 0, 0, static_cast<std::uint8_t>(changes & 1)};
    request.tsih = (changes & 2) ? 7 : 0;
    request.cid = (changes & 4) ? 1 : 0;
    request.version_min = (changes & 8) ? 1 : 0;
    request.itt = changes;
    request.cmd_sn = 1;
    request.data = std::span<const std::uint8_t>(data + pos, length);
    pos += length;

    const auto response = target.on_request(request);
    const auto state = target.state();
    // A failure never carries text or the T bit; success never leaves the
    // machine in the failed state.
    if (response.header.status_class != LoginStatusClass::kSuccess) {
      if (state != LoginTarget::State::kFailed || !response.data.empty() ||
          response.header.transit) {
        __builtin_trap();
      }
    } else if (state == LoginTarget::State::kFailed) {
      __builtin_trap();
    }
    if (response.data.size() > 8192) __builtin_trap();
    if (response.header.transit && response.header.continues) __builtin_trap();
    if (state == LoginTarget::State::kFullFeature &&
        (!target.result() || target.result()->tsih == 0)) {
      __builtin_trap();
    }
    // Our own text, gathered over C-bit pieces, is well formed.
    if (response.header.status_class == LoginStatusClass::kSuccess &&
        !responses.add(response.data, response.header.continues).has_value()) {
      __builtin_trap();
    }
  }
  return 0;
}
