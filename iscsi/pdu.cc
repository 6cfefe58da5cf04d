#include "iscsi/pdu.h"

#include <cassert>
#include <type_traits>

namespace isergw::iscsi {
namespace {

template <typename T>
concept HasData = requires(T t) {
  t.data;
};

template <typename T>
constexpr Opcode opcode_of() {
  if constexpr (std::is_same_v<T, NopOut>) return Opcode::kNopOut;
  if constexpr (std::is_same_v<T, ScsiCommand>) return Opcode::kScsiCommand;
  if constexpr (std::is_same_v<T, TaskManagementRequest>) return Opcode::kTaskManagementRequest;
  if constexpr (std::is_same_v<T, LoginRequest>) return Opcode::kLoginRequest;
  if constexpr (std::is_same_v<T, TextRequest>) return Opcode::kTextRequest;
  if constexpr (std::is_same_v<T, DataOut>) return Opcode::kScsiDataOut;
  if constexpr (std::is_same_v<T, LogoutRequest>) return Opcode::kLogoutRequest;
  if constexpr (std::is_same_v<T, SnackRequest>) return Opcode::kSnackRequest;
  if constexpr (std::is_same_v<T, NopIn>) return Opcode::kNopIn;
  if constexpr (std::is_same_v<T, ScsiResponse>) return Opcode::kScsiResponse;
  if constexpr (std::is_same_v<T, TaskManagementResponse>) return Opcode::kTaskManagementResponse;
  if constexpr (std::is_same_v<T, LoginResponse>) return Opcode::kLoginResponse;
  if constexpr (std::is_same_v<T, TextResponse>) return Opcode::kTextResponse;
  if constexpr (std::is_same_v<T, DataIn>) return Opcode::kScsiDataIn;
  if constexpr (std::is_same_v<T, LogoutResponse>) return Opcode::kLogoutResponse;
  if constexpr (std::is_same_v<T, R2t>) return Opcode::kR2t;
  if constexpr (std::is_same_v<T, AsyncMessage>) return Opcode::kAsyncMessage;
  if constexpr (std::is_same_v<T, Reject>) return Opcode::kReject;
}

}  // namespace

Opcode pdu_opcode(const Pdu& pdu) {
  return std::visit([](const auto& p) { return opcode_of<std::decay_t<decltype(p)>>(); }, pdu);
}

std::span<const std::uint8_t> pdu_data(const Pdu& pdu) {
  return std::visit(
      [](const auto& p) -> std::span<const std::uint8_t> {
        if constexpr (HasData<std::decay_t<decltype(p)>>) {
          return p.data;
        } else {
          return {};
        }
      },
      pdu);
}

void set_pdu_data(Pdu& pdu, std::span<const std::uint8_t> data) {
  std::visit(
      [data](auto& p) {
        if constexpr (HasData<std::decay_t<decltype(p)>>) {
          p.data = data;
        } else {
          assert(data.empty());
        }
      },
      pdu);
}

}  // namespace isergw::iscsi
