// iSCSI PDUs over one TCP connection (RFC 7143 §11), for both roles.
//
// Receiving reads each header first (BHS, then AHS and HeaderDigest), learns
// the data segment's length from it, and receives the data segment straight
// into a pool buffer, or into memory the handler names for it (a back
// leg's command buffer): the bytes are never copied in user space. The
// receive of a data segment also takes up to a BHS of what follows it, so a
// peer that sends PDUs back to back (Data-In, then the SCSI Response) costs
// one receive per PDU, not two; only header bytes are ever read ahead,
// since the next PDU's data must land in a buffer of its own. Sending gathers the
// queued PDUs into one writev, header bytes from the queue and data
// segments from the caller's buffers.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "gateway/buffer_pool.h"
#include "gateway/front_transport.h"
#include "gateway/write_batch.h"
#include "iscsi/pdu.h"
#include "iscsi/pdu_decoder.h"
#include "iscsi/pdu_encoder.h"

namespace isergw::fabric_tcp {

using gateway::DataOwner;
using gateway::InboundPdu;
using gateway::kMaxHeaderLength;
using PduStreamStatistics = gateway::ConnectionStatistics;

class PduStreamHandler {
 public:
  virtual ~PduStreamHandler() = default;
  virtual void on_pdu(InboundPdu& pdu) = 0;
  // Where to receive the data segment of `pdu` (whose header has arrived),
  // when not into a pool buffer: exactly `length` bytes. on_pdu() then
  // finds it in InboundPdu::landed_in.
  virtual std::optional<gateway::DataLanding> landing_for(const iscsi::Pdu& /*pdu*/,
                                                          uint32_t /*length*/) {
    return std::nullopt;
  }
  // A PDU whose data segment failed its DataDigest: true when the handler
  // answered it (a target's Reject), which is sent before the connection
  // closes; false closes at once. The PDU's data segment is empty.
  virtual bool answer_data_digest_error(InboundPdu& /*pdu*/) { return false; }
  // Whether a data segment that finds no pool buffer may wait for one,
  // holding back everything behind it on the connection; false has it
  // read and dropped (InboundPdu::discarded) instead.
  virtual bool may_wait_for_buffer() { return true; }
  // Called once, when the connection is gone: closed by the peer, by
  // close(), or because the peer broke a rule, which `reason` names.
  virtual void on_closed(const std::string& reason) = 0;
};

class PduStream : public gateway::BatchedWriter, public std::enable_shared_from_this<PduStream> {
 public:
  // `use` names the budget what the peer sends unasked is charged to: a
  // host's write data, or a storage's read data.
  PduStream(boost::asio::ip::tcp::socket socket, gateway::BufferPool& pool,
            PduStreamHandler& handler, gateway::BufferUse use);
  ~PduStream();
  PduStream(const PduStream&) = delete;
  PduStream& operator=(const PduStream&) = delete;

  void start();
  // Stops reading new PDUs (backpressure), and starts again.
  void pause_reading();
  void resume_reading();

  // Digests and the receive limit change when login completes; they apply
  // from the next PDU read or sent (RFC 7143 §13.1).
  void set_decode_options(const iscsi::DecodeOptions& options) { decode_options_ = options; }
  void set_encode_options(const iscsi::EncodeOptions& options) { encode_options_ = options; }
  const iscsi::DecodeOptions& decode_options() const { return decode_options_; }

  // Queues a PDU; `data_owner` keeps pdu_data(pdu) valid until it is sent.
  // A std::vector owner holds the data segment itself (it may be a copy):
  // the segment is then sent from it.
  void send(const iscsi::Pdu& pdu, DataOwner data_owner = {});
  // Sends what is queued, then closes. on_closed() follows. Inside an open
  // gateway::WriteBatch, PDUs queued together leave in one writev when the
  // batch ends.
  void close_after_sending(const std::string& reason);
  // Closes now, dropping what is queued. on_closed() follows.
  void close(const std::string& reason);

  bool is_open() const { return !closed_; }
  size_t queued_pdus() const { return send_queue_.size(); }
  const PduStreamStatistics& statistics() const { return statistics_; }
  std::string peer() const { return peer_; }

 private:
  struct Outbound {
    std::array<uint8_t, kMaxHeaderLength> header;
    size_t header_length;
    std::span<const uint8_t> data;
    iscsi::DataTrailer trailer;
    size_t trailer_length;
    DataOwner owner;
  };

  void read_bhs();
  void on_bhs(const boost::system::error_code& error);
  void read_rest_of_header();
  void on_header(const boost::system::error_code& error);
  void read_data_area();
  // Puts a pool buffer under the data segment; false while none is free
  // (a retry is set) or after closing.
  bool take_pool_buffer();
  void discard_data_segment();
  void on_data_area(const boost::system::error_code& error, size_t count);
  void deliver();
  void write_queued();
  void on_written(const boost::system::error_code& error, size_t count);
  // Outbound entries are kept for reuse: at over a kilobyte each (room for
  // the longest header), a fresh one per PDU cost an allocation outside
  // the allocator's fast path on every send.
  std::unique_ptr<Outbound> take_outbound();
  void retire_sent(size_t count);
  // gateway::BatchedWriter
  void write_held() override;

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer buffer_wait_timer_;
  std::chrono::microseconds buffer_retry_{0};  // the last wait's; 0 when not waiting
  gateway::BufferPool& pool_;
  // Every data segment this connection reads unasked (immediate data,
  // unsolicited Data-Out, Data-In for a host) is charged here until its
  // buffer returns, so that the pool can hold this connection to its share.
  std::shared_ptr<gateway::BufferAccount> account_;
  PduStreamHandler& handler_;
  std::string peer_;
  iscsi::DecodeOptions decode_options_;
  iscsi::EncodeOptions encode_options_;

  std::unique_ptr<InboundPdu> inbound_;
  iscsi::PduFraming framing_;
  // Where the data segment being received goes: inbound_'s pool buffer, or
  // the handler's landing.
  std::span<uint8_t> data_target_;
  std::array<uint8_t, iscsi::kMaxDataTrailerLength> inbound_trailer_{};
  // Where a dropped data segment is received (discard_data_segment()).
  std::vector<uint8_t> discard_;
  // The start of the next BHS, received with the last data segment.
  std::array<uint8_t, iscsi::kBhsLength> read_ahead_{};
  size_t read_ahead_length_ = 0;
  bool mid_pdu_ = false;     // between read_bhs() and the end of deliver()
  int inline_receives_ = 0;  // since the event loop last completed a receive
  bool paused_ = false;

  std::deque<std::unique_ptr<Outbound>> send_queue_;
  size_t in_flight_ = 0;      // PDUs at the front of send_queue_ being written
  bool writes_held_ = false;  // until the open WriteBatch ends
  std::vector<std::unique_ptr<Outbound>> spare_outbound_;
  // The writev's buffer list, reused from one write to the next.
  std::vector<boost::asio::const_buffer> write_buffers_;
  bool close_when_sent_ = false;
  std::string close_reason_;
  bool closed_ = false;
  PduStreamStatistics statistics_;
};

}  // namespace isergw::fabric_tcp
