// Any iSCSI PDU (RFC 7143 §11), as the decoder returns it and the encoder
// takes it. Data segments are views into the caller's buffers.
#pragma once

#include <cstdint>
#include <span>
#include <variant>

#include "iscsi/async_message_pdu.h"
#include "iscsi/data_pdu.h"
#include "iscsi/login_pdu.h"
#include "iscsi/logout_pdu.h"
#include "iscsi/nop_pdu.h"
#include "iscsi/opcode.h"
#include "iscsi/r2t_pdu.h"
#include "iscsi/reject_pdu.h"
#include "iscsi/scsi_command_pdu.h"
#include "iscsi/snack_pdu.h"
#include "iscsi/task_management_pdu.h"
#include "iscsi/text_pdu.h"

namespace isergw::iscsi {

using Pdu =
    std::variant<NopOut, ScsiCommand, TaskManagementRequest, LoginRequest, TextRequest, DataOut,
                 LogoutRequest, SnackRequest, NopIn, ScsiResponse, TaskManagementResponse,
                 LoginResponse, TextResponse, DataIn, LogoutResponse, R2t, AsyncMessage, Reject>;

Opcode pdu_opcode(const Pdu& pdu);

// The data segment, empty for PDUs that have none.
std::span<const std::uint8_t> pdu_data(const Pdu& pdu);

// Points the PDU's data segment at `data`. Ignored (and `data` must be empty)
// for the PDUs that carry no data segment: TMF, Logout, SNACK, R2T.
void set_pdu_data(Pdu& pdu, std::span<const std::uint8_t> data);

}  // namespace isergw::iscsi
