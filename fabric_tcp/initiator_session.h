// The back role on TCP: the back session (gateway/back_session.h) over one
// TCP connection. It answers the storage's R2Ts with write data pulled from
// the front, hands each Data-In to the front as it lands (cut-through, from
// the buffer it was received into), and sends what the host already sent as
// immediate data.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <vector>

#include "fabric_tcp/pdu_stream.h"
#include "gateway/back_session.h"

namespace isergw::fabric_tcp {

using InitiatorSessionOptions = gateway::BackSessionOptions;

class InitiatorSession : public gateway::BackSession, public PduStreamHandler {
 public:
  InitiatorSession(boost::asio::any_io_executor executor, gateway::BufferPool& pool,
                   InitiatorSessionOptions options);
  ~InitiatorSession() override;

  // PduStreamHandler
  void on_pdu(InboundPdu& inbound) override;
  void on_closed(const std::string& reason) override;

 private:
  // BackSession
  void connect(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints) override;
  bool has_connection() const override { return stream_ != nullptr; }
  std::optional<gateway::ConnectionStatistics> connection_statistics() const override {
    if (!stream_) return std::nullopt;
    return stream_->statistics();
  }
  void send(const iscsi::Pdu& pdu, gateway::DataOwner owner) override;
  void close_connection(const std::string& reason) override { stream_->close(reason); }
  void forget_connection() override { stream_.reset(); }
  void adjust_login_policy(iscsi::NegotiationPolicy& policy) override;
  Expected<void, std::string> begin_full_feature(
      const iscsi::NegotiatedParameters& parameters) override;
  void send_command(BackTask& back_task, iscsi::ScsiCommand& command) override;

  gateway::BufferPool& pool_;
  std::shared_ptr<PduStream> stream_;
};

}  // namespace isergw::fabric_tcp
