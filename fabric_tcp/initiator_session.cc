#include "fabric_tcp/initiator_session.h"

#include <algorithm>
#include <boost/asio/connect.hpp>

namespace isergw::fabric_tcp {

namespace asio = boost::asio;

InitiatorSession::InitiatorSession(asio::any_io_executor executor, gateway::BufferPool& pool,
                                   InitiatorSessionOptions options)
    : BackSession(std::move(executor), std::move(options)), pool_(pool) {}

InitiatorSession::~InitiatorSession() = default;

void InitiatorSession::adjust_login_policy(iscsi::NegotiationPolicy& policy) {
  policy.header_digests = {"None", "CRC32C"};
  policy.data_digests = {"None", "CRC32C"};
  policy.max_recv_data_segment_length =
      static_cast<uint32_t>(std::min<size_t>(pool_.buffer_size(), 256 * 1024));
}

void InitiatorSession::connect(const std::vector<asio::ip::tcp::endpoint>& endpoints) {
  auto socket = std::make_shared<asio::ip::tcp::socket>(executor());
  asio::async_connect(
      *socket, endpoints,
      [this, socket, weak = weak_from_this()](const boost::system::error_code& error,
                                              const asio::ip::tcp::endpoint&) {
        auto self = weak.lock();
        if (!self) return;
        if (state() != State::kConnecting) {
          boost::system::error_code ignored;
          socket->close(ignored);
          return;
        }
        if (error) {
          fail("cannot connect to " + options().portal.host_port() + ": " + error.message());
          return;
        }
        stream_ = std::make_shared<PduStream>(std::move(*socket), pool_, *this,
                                              gateway::BufferUse::kStorageData);
        stream_->start();
        connected();
      });
}

void InitiatorSession::send(const iscsi::Pdu& pdu, gateway::DataOwner owner) {
  stream_->send(pdu, std::move(owner));
}

Expected<void, std::string> InitiatorSession::begin_full_feature(
    const iscsi::NegotiatedParameters& parameters) {
  const iscsi::ConnectionParameters& connection = parameters.connection;
  const bool header_digest = connection.header_digest == iscsi::DigestType::kCrc32c;
  const bool data_digest = connection.data_digest == iscsi::DigestType::kCrc32c;
  stream_->set_decode_options(
      {.header_digest = header_digest,
       .data_digest = data_digest,
       .max_recv_data_segment_length = connection.max_recv_data_segment_length});
  stream_->set_encode_options({.header_digest = header_digest, .data_digest = data_digest});
  return {};
}

void InitiatorSession::send_command(BackTask& back_task, iscsi::ScsiCommand& command) {
  // Immediate data, straight from the buffer the host's data landed in, as
  // far as the host has sent it contiguously: a command never waits here.
  gateway::DataOwner owner;
  const gateway::Task& task = *back_task.task;
  const iscsi::SessionParameters& session = parameters().session;
  if (task.write && task.expected_data_transfer_length > 0 && session.immediate_data) {
    const uint32_t limit = std::min({task.expected_data_transfer_length, session.first_burst_length,
                                     parameters().connection.max_send_data_segment_length});
    std::vector<gateway::DataSlice> slices = back_task.front->received(*back_task.task, 0, limit);
    if (!slices.empty() && slices.front().offset == 0) {
      command.data = slices.front().bytes;
      owner = std::shared_ptr<const void>(slices.front().owner);
      statistics_.bytes_written += command.data.size();
    }
  }
  stream_->send(command, std::move(owner));
}

void InitiatorSession::on_pdu(InboundPdu& inbound) {
  gateway::DataOwner owner;
  if (inbound.data) owner = std::make_shared<const gateway::Buffer>(std::move(inbound.data));
  received(inbound.pdu, std::move(owner));
}

void InitiatorSession::on_closed(const std::string& reason) {
  connection_closed(reason);
}

}  // namespace isergw::fabric_tcp
