// A deliberately simple iSCSI initiator for tests: synchronous, one
// command at a time, built from the project's own login machine and codec,
// so that a test can also make it misbehave on purpose.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "iscsi/login_initiator.h"
#include "iscsi/pdu.h"
#include "iscsi/pdu_decoder.h"
#include "iscsi/pdu_encoder.h"
#include "tests/support/cdb.h"

namespace isergw::testing_support {

namespace asio = boost::asio;
using asio::ip::tcp;

inline constexpr const char* kTestInitiatorName = "iqn.1993-08.org.debian:01:test";

// A received PDU with the bytes its views point into.
struct Received {
  std::vector<uint8_t> bytes;
  iscsi::Pdu pdu;
};

// One iSCSI connection of a test peer, either side: whole PDUs in and out,
// and raw bytes for the tests that break the protocol on purpose.
class PduConnection {
 public:
  explicit PduConnection(uint16_t port) : socket_(context_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    bound_waits();
  }
  // Takes the next connection an acceptor (on any context) receives.
  explicit PduConnection(tcp::acceptor& acceptor) : socket_(context_) {
    acceptor.accept(socket_);
    bound_waits();
  }
  uint16_t local_port() const { return socket_.local_endpoint().port(); }
  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  void send(const iscsi::Pdu& pdu) { asio::write(socket_, asio::buffer(encode(pdu))); }
  // The bytes send() would write, digests included once negotiated.
  std::vector<uint8_t> encode(const iscsi::Pdu& pdu) {
    std::vector<uint8_t> bytes(iscsi::encoded_length(pdu, digests_));
    EXPECT_TRUE(iscsi::encode_pdu(pdu, digests_, bytes));
    return bytes;
  }

  Received receive() {
    Received received;
    received.bytes.resize(iscsi::kBhsLength);
    asio::read(socket_, asio::buffer(received.bytes));
    const iscsi::DecodeOptions options{.header_digest = digests_.header_digest,
                                       .data_digest = digests_.data_digest,
                                       .max_recv_data_segment_length = 1 << 20};
    auto framing =
        iscsi::decode_framing(iscsi::BhsBytes(received.bytes.data(), iscsi::kBhsLength), options);
    EXPECT_TRUE(framing);
    received.bytes.resize(framing->total_length());
    asio::read(socket_, asio::buffer(received.bytes.data() + iscsi::kBhsLength,
                                     framing->total_length() - iscsi::kBhsLength));
    auto decoded = iscsi::decode_pdu(received.bytes, options);
    EXPECT_TRUE(decoded) << decoded.error().describe();
    received.pdu = decoded->pdu;
    return received;
  }

  void send_raw(const std::vector<uint8_t>& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // Bytes that have arrived and not been read yet.
  size_t unread_bytes() { return socket_.available(); }
  void shutdown_sending() { socket_.shutdown(tcp::socket::shutdown_send); }

  // True when the gateway has closed the connection.
  bool closed_by_peer() {
    std::array<uint8_t, 48> scratch{};
    boost::system::error_code error;
    socket_.read_some(asio::buffer(scratch), error);
    return error == asio::error::eof || error == asio::error::connection_reset;
  }

 protected:
  // CRC32C on both digests, from the first PDU after a login that
  // negotiated them.
  iscsi::EncodeOptions digests_;

  // A peer that never answers fails the test (the read throws) instead of
  // hanging it.
  void bound_waits() {
    const timeval timeout{10, 0};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }

  asio::io_context context_;
  tcp::socket socket_;
};

class TestInitiator : public PduConnection {
 public:
  explicit TestInitiator(uint16_t port) : PduConnection(port) {}

  // `digests`: offer CRC32C header and data digests (and use them once
  // negotiated).
  bool login(const std::string& target, const std::string& initiator = kTestInitiatorName,
             bool digests = false) {
    begin_login(target, initiator, digests);
    return finish_login();
  }
  // login() in two parts, to act while a login is under way: the first
  // request and its response, then the rest.
  void begin_login(const std::string& target, const std::string& initiator = kTestInitiatorName,
                   bool digests = false) {
    iscsi::LoginInitiatorConfig config;
    config.initiator_name = initiator;
    config.target_name = target;
    if (target.empty()) config.session_type = iscsi::SessionType::kDiscovery;
    // One ISID per connection, as a real initiator gives each session its
    // own; use_isid() gives another connection the same one.
    if (!isid_) isid_ = iscsi::random_isid();
    config.isid = *isid_;
    config.negotiation.immediate_data = true;
    config.negotiation.initial_r2t = false;
    config.negotiation.max_recv_data_segment_length = 65536;
    if (digests) {
      config.negotiation.header_digests = {"CRC32C"};
      config.negotiation.data_digests = {"CRC32C"};
    }
    config.cmd_sn = cmd_sn_;
    login_ = std::make_unique<iscsi::LoginInitiator>(config);
    next_login_request_ = login_->start();
    exchange_login_request();
  }
  bool finish_login() {
    while (next_login_request_)
      exchange_login_request();
    login_status_ = login_->failure_status();
    if (login_->state() != iscsi::LoginInitiator::State::kFullFeature) return false;
    cmd_sn_ = login_->result()->exp_cmd_sn;
    login_window_ = login_->result()->max_cmd_sn - login_->result()->exp_cmd_sn + 1;
    parameters_ = login_->result()->parameters;
    digests_ = {.header_digest = parameters_.connection.header_digest == iscsi::DigestType::kCrc32c,
                .data_digest = parameters_.connection.data_digest == iscsi::DigestType::kCrc32c};
    return true;
  }
  bool login_under_way() const { return next_login_request_.has_value(); }

  iscsi::ScsiCommand command(uint32_t itt, std::span<const uint8_t> cdb, uint32_t length, bool read,
                             bool write) {
    iscsi::ScsiCommand command;
    command.itt = itt;
    command.lun = lun_;
    command.cmd_sn = cmd_sn_++;
    command.read = read;
    command.write = write;
    command.expected_data_transfer_length = length;
    std::copy(cdb.begin(), cdb.end(), command.cdb.begin());
    return command;
  }

  // Reads Data-In until the SCSI Response; returns the data and the status.
  std::pair<std::vector<uint8_t>, uint8_t> collect_read(uint32_t length) {
    std::vector<uint8_t> data(length);
    while (true) {
      const Received received = receive();
      if (const auto* data_in = std::get_if<iscsi::DataIn>(&received.pdu)) {
        std::copy(data_in->data.begin(), data_in->data.end(),
                  data.begin() + data_in->buffer_offset);
        if (data_in->status_present) return {data, data_in->status};
      } else {
        return {data, std::get<iscsi::ScsiResponse>(received.pdu).status};
      }
    }
  }

  // A new I_T nexus first hears a UNIT ATTENTION (power on or reset, SPC-4
  // §6.6.1), as every initiator does: TEST UNIT READY takes it. True once
  // the unit is ready; uses ITTs from `itt` on.
  bool take_unit_attention(uint32_t& itt) {
    for (int i = 0; i < 3; ++i) {
      const std::array<uint8_t, 6> test_unit_ready{};
      send(command(itt++, test_unit_ready, 0, false, false));
      if (collect_read(0).second == 0) return true;
    }
    return false;
  }

  // READ(10) of `length` bytes (a multiple of 512) at `lba`: the data and
  // the SCSI status.
  std::pair<std::vector<uint8_t>, uint8_t> read(uint32_t itt, uint32_t lba, uint32_t length) {
    const auto cdb = read10(lba, static_cast<uint16_t>(length / 512));
    send(command(itt, cdb, length, true, false));
    return collect_read(length);
  }

  // SendTargets=All in a discovery session: the text of the answer.
  std::string send_targets(uint32_t itt) {
    const std::string request = "SendTargets=All";
    std::vector<uint8_t> data(request.begin(), request.end());
    data.push_back(0);
    iscsi::TextRequest text;
    text.itt = itt;
    text.immediate = true;
    text.data = data;
    send(text);
    const Received reply = receive();
    const auto& response = std::get<iscsi::TextResponse>(reply.pdu);
    return std::string(response.data.begin(), response.data.end());
  }

  // Sends the Data-Outs an R2T asks for, from `data` (the command's whole
  // write data), in segments the target takes.
  void answer_r2t(const iscsi::R2t& r2t, std::span<const uint8_t> data) {
    uint32_t data_sn = 0;
    for (uint32_t sent = 0; sent < r2t.desired_data_transfer_length;) {
      const uint32_t chunk = std::min(r2t.desired_data_transfer_length - sent,
                                      parameters_.connection.max_send_data_segment_length);
      iscsi::DataOut data_out;
      data_out.lun = lun_;
      data_out.itt = r2t.itt;
      data_out.ttt = r2t.ttt;
      data_out.data_sn = data_sn++;
      data_out.buffer_offset = r2t.buffer_offset + sent;
      data_out.data = data.subspan(data_out.buffer_offset, chunk);
      sent += chunk;
      data_out.final = sent == r2t.desired_data_transfer_length;
      send(data_out);
    }
  }

  // WRITE(10) with immediate data up to FirstBurstLength, the rest by R2T.
  uint8_t write(uint32_t itt, uint32_t lba, std::span<const uint8_t> data) {
    const auto cdb = write10(lba, static_cast<uint16_t>(data.size() / 512));
    iscsi::ScsiCommand command =
        this->command(itt, cdb, static_cast<uint32_t>(data.size()), false, true);
    const uint32_t immediate = std::min<uint32_t>(
        {static_cast<uint32_t>(data.size()), parameters_.session.first_burst_length,
         parameters_.connection.max_send_data_segment_length});
    command.data = data.first(immediate);
    command.final = true;  // no unsolicited Data-Out: everything else by R2T
    send(command);
    while (true) {
      const Received received = receive();
      if (const auto* r2t = std::get_if<iscsi::R2t>(&received.pdu)) {
        answer_r2t(*r2t, data);
        continue;
      }
      return std::get<iscsi::ScsiResponse>(received.pdu).status;
    }
  }

  const iscsi::NegotiatedParameters& parameters() const { return parameters_; }
  // The CmdSN the next command takes; an immediate PDU carries it without
  // taking it (RFC 7143 §3.2.2.1).
  uint32_t cmd_sn() const { return cmd_sn_; }
  // A host logging in again after a failure carries its CmdSN on, as Linux
  // does, rather than starting over.
  void continue_cmd_sn_from(uint32_t cmd_sn) { cmd_sn_ = cmd_sn; }
  uint64_t lun() const { return lun_; }
  // MaxCmdSN - ExpCmdSN + 1 of the final Login Response.
  uint32_t login_window() const { return login_window_; }
  // The ISID of this connection's session; give another connection's before
  // login() to reinstate that session (RFC 7143 §6.3.5).
  const std::optional<iscsi::Isid>& isid() const { return isid_; }
  void use_isid(const iscsi::Isid& isid) { isid_ = isid; }
  // The status of a refused login.
  iscsi::LoginStatus login_status() const { return login_status_; }
  // The LUN field of the commands sent from now on (SAM-5 peripheral
  // addressing: LUN n of a simple target is n << 48).
  void set_lun(uint16_t lun) { lun_ = uint64_t{lun} << 48; }

 private:
  void exchange_login_request() {
    send(next_login_request_->pdu());
    const Received response = receive();
    next_login_request_ = login_->on_response(std::get<iscsi::LoginResponse>(response.pdu));
  }

  std::unique_ptr<iscsi::LoginInitiator> login_;
  std::optional<iscsi::OwnedLoginRequest> next_login_request_;
  uint32_t cmd_sn_ = 0;
  uint64_t lun_ = 0;
  uint32_t login_window_ = 0;
  std::optional<iscsi::Isid> isid_;
  iscsi::NegotiatedParameters parameters_;
  iscsi::LoginStatus login_status_ = iscsi::LoginStatus::kSuccess;
};

// Bytes that differ at every offset and between seeds, so a misplaced or
// stale block never compares equal.
inline std::vector<uint8_t> pattern(size_t length, uint8_t seed) {
  std::vector<uint8_t> bytes(length);
  for (size_t i = 0; i < length; ++i)
    bytes[i] = static_cast<uint8_t>(i * 31 + seed);
  return bytes;
}

}  // namespace isergw::testing_support
