#include "control/testing/test_host.h"

#include <algorithm>
#include <array>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "iscsi/pdu_decoder.h"
#include "iscsi/pdu_encoder.h"
#include "tests/support/cdb.h"

namespace isergw::control::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

TestHost::TestHost(uint16_t port) : socket_(context_) {
  boost::system::error_code error;
  socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), error);
  if (error) error_ = "connect: " + error.message();
}

bool TestHost::send(const iscsi::Pdu& pdu) {
  std::vector<uint8_t> bytes(iscsi::encoded_length(pdu, {}));
  if (!iscsi::encode_pdu(pdu, {}, bytes)) {
    error_ = "cannot encode a PDU";
    return false;
  }
  boost::system::error_code error;
  asio::write(socket_, asio::buffer(bytes), error);
  if (error) error_ = "send: " + error.message();
  return !error;
}

std::optional<TestHost::Received> TestHost::receive() {
  Received received;
  received.bytes.resize(iscsi::kBhsLength);
  boost::system::error_code error;
  asio::read(socket_, asio::buffer(received.bytes), error);
  if (error) {
    error_ = "receive: " + error.message();
    return std::nullopt;
  }
  const iscsi::DecodeOptions options{.max_recv_data_segment_length = 1 << 20};
  auto framing =
      iscsi::decode_framing(iscsi::BhsBytes(received.bytes.data(), iscsi::kBhsLength), options);
  if (!framing) {
    error_ = "bad header from the gateway";
    return std::nullopt;
  }
  received.bytes.resize(framing->total_length());
  asio::read(socket_,
             asio::buffer(received.bytes.data() + iscsi::kBhsLength,
                          framing->total_length() - iscsi::kBhsLength),
             error);
  if (error) {
    error_ = "receive: " + error.message();
    return std::nullopt;
  }
  auto decoded = iscsi::decode_pdu(received.bytes, options);
  if (!decoded) {
    error_ = "bad PDU from the gateway: " + decoded.error().describe();
    return std::nullopt;
  }
  received.pdu = decoded->pdu;
  return received;
}

bool TestHost::login(const std::string& target, const std::string& initiator) {
  return begin_login(target, initiator) && finish_login();
}

bool TestHost::begin_login(const std::string& target, const std::string& initiator) {
  if (!error_.empty()) return false;
  iscsi::LoginInitiatorConfig config;
  config.initiator_name = initiator;
  config.target_name = target;
  config.isid = isid_;
  config.negotiation.immediate_data = true;
  config.negotiation.initial_r2t = false;
  config.negotiation.max_recv_data_segment_length = 65536;
  login_ = std::make_unique<iscsi::LoginInitiator>(config);
  next_request_ = login_->start();
  return on_login_response();
}

bool TestHost::finish_login() {
  if (!login_) {
    error_ = "no login begun";
    return false;
  }
  while (next_request_) {
    if (!on_login_response()) return false;
  }
  if (login_->state() != iscsi::LoginInitiator::State::kFullFeature) {
    error_ = "login refused";
    return false;
  }
  cmd_sn_ = login_->result()->exp_cmd_sn;
  parameters_ = login_->result()->parameters;
  return true;
}

bool TestHost::on_login_response() {
  if (!send(next_request_->pdu())) return false;
  auto response = receive();
  if (!response) return false;
  const auto* login_response = std::get_if<iscsi::LoginResponse>(&response->pdu);
  if (login_response == nullptr) {
    error_ = "not a Login Response";
    return false;
  }
  next_request_ = login_->on_response(*login_response);
  return true;
}

std::optional<uint8_t> TestHost::write(uint32_t lba, std::span<const uint8_t> data) {
  const uint32_t itt = itt_++;
  const auto cdb = testing_support::write10(lba, static_cast<uint16_t>(data.size() / 512));
  iscsi::ScsiCommand command;
  command.itt = itt;
  command.cmd_sn = cmd_sn_++;
  command.write = true;
  command.final = true;  // no unsolicited Data-Out: what immediate data leaves, by R2T
  command.expected_data_transfer_length = static_cast<uint32_t>(data.size());
  std::copy(cdb.begin(), cdb.end(), command.cdb.begin());
  const uint32_t immediate = std::min<uint32_t>(
      {static_cast<uint32_t>(data.size()), parameters_.session.first_burst_length,
       parameters_.connection.max_send_data_segment_length});
  command.data = data.first(immediate);
  if (!send(command)) return std::nullopt;
  while (true) {
    auto received = receive();
    if (!received) return std::nullopt;
    if (const auto* r2t = std::get_if<iscsi::R2t>(&received->pdu)) {
      uint32_t sent = 0;
      uint32_t data_sn = 0;
      while (sent < r2t->desired_data_transfer_length) {
        const uint32_t chunk = std::min(r2t->desired_data_transfer_length - sent,
                                        parameters_.connection.max_send_data_segment_length);
        iscsi::DataOut data_out;
        data_out.itt = itt;
        data_out.ttt = r2t->ttt;
        data_out.data_sn = data_sn++;
        data_out.buffer_offset = r2t->buffer_offset + sent;
        data_out.data = data.subspan(data_out.buffer_offset, chunk);
        sent += chunk;
        data_out.final = sent == r2t->desired_data_transfer_length;
        if (!send(data_out)) return std::nullopt;
      }
      continue;
    }
    if (const auto* response = std::get_if<iscsi::ScsiResponse>(&received->pdu)) {
      return response->status;
    }
    error_ = "unexpected PDU during a write";
    return std::nullopt;
  }
}

bool TestHost::begin_write(uint32_t lba, uint32_t length) {
  const auto cdb = testing_support::write10(lba, static_cast<uint16_t>(length / 512));
  iscsi::ScsiCommand command;
  command.itt = itt_++;
  command.cmd_sn = cmd_sn_++;
  command.write = true;
  command.final = true;  // no unsolicited Data-Out: all of it by R2T
  command.expected_data_transfer_length = length;
  std::copy(cdb.begin(), cdb.end(), command.cdb.begin());
  if (!send(command)) return false;
  const auto received = receive();
  if (received && std::holds_alternative<iscsi::R2t>(received->pdu)) return true;
  error_ = "no R2T for a write sent without its data";
  return false;
}

std::optional<uint8_t> TestHost::read(uint32_t lba, uint32_t length, std::vector<uint8_t>& data) {
  const auto cdb = testing_support::read10(lba, static_cast<uint16_t>(length / 512));
  iscsi::ScsiCommand command;
  command.itt = itt_++;
  command.cmd_sn = cmd_sn_++;
  command.read = true;
  command.final = true;
  command.expected_data_transfer_length = length;
  std::copy(cdb.begin(), cdb.end(), command.cdb.begin());
  if (!send(command)) return std::nullopt;
  data.assign(length, 0);
  while (true) {
    auto received = receive();
    if (!received) return std::nullopt;
    if (const auto* data_in = std::get_if<iscsi::DataIn>(&received->pdu)) {
      std::copy(data_in->data.begin(), data_in->data.end(), data.begin() + data_in->buffer_offset);
      if (data_in->status_present) return data_in->status;
      continue;
    }
    if (const auto* response = std::get_if<iscsi::ScsiResponse>(&received->pdu)) {
      return response->status;
    }
    error_ = "unexpected PDU during a read";
    return std::nullopt;
  }
}

bool TestHost::logout() {
  iscsi::LogoutRequest request;
  request.immediate = true;
  request.itt = itt_++;
  request.cmd_sn = cmd_sn_;
  if (!send(request)) return false;
  auto received = receive();
  return received && std::holds_alternative<iscsi::LogoutResponse>(received->pdu);
}

bool TestHost::closed_by_gateway() {
  std::array<uint8_t, 48> scratch{};
  boost::system::error_code error;
  socket_.read_some(asio::buffer(scratch), error);
  return error == asio::error::eof || error == asio::error::connection_reset;
}

}  // namespace isergw::control::testing
