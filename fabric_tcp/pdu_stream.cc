#include "fabric_tcp/pdu_stream.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <limits>
#include <sstream>
#include <utility>

#include "iscsi/digest.h"

namespace isergw::fabric_tcp {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// A full pool is usually a short condition: buffers come back as commands
// complete, so a data segment waits briefly and tries again. A connection
// held back behind a stalled storage may wait for minutes, though, and must
// not spin its worker meanwhile: each retry waits twice as long, up to 10 ms.
constexpr auto kFirstBufferRetry = std::chrono::microseconds(200);
constexpr auto kLongestBufferRetry = std::chrono::milliseconds(10);
// PDUs gathered into one writev.
constexpr size_t kMaxPdusPerWrite = 64;
// Data segments received in a row without a return to the event loop: a
// peer that keeps the socket full must not hold the worker, nor the stack
// grow with it.
constexpr int kMaxInlineReceives = 16;

// Completes a read once `needed` bytes are in, receiving as much per call as
// the buffers take: Boost.Asio's own conditions stop each receive at 64 KiB,
// four system calls for a 256 KiB data segment.
auto at_least(size_t needed) {
  return [needed](const error_code& error, size_t received) -> size_t {
    return error || received >= needed ? 0 : std::numeric_limits<size_t>::max();
  };
}

// Drops the first `count` bytes of a buffer sequence: what a partial
// receive or send already moved.
template <typename Buffers>
Buffers consume(Buffers buffers, size_t count) {
  for (auto& buffer : buffers) {
    const size_t taken = std::min(count, buffer.size());
    buffer += taken;
    count -= taken;
  }
  return buffers;
}

std::string describe_endpoint(const asio::ip::tcp::socket& socket) {
  error_code error;
  const auto endpoint = socket.remote_endpoint(error);
  if (error) return "unconnected";
  std::ostringstream text;
  text << endpoint;
  return text.str();
}

}  // namespace

PduStream::PduStream(asio::ip::tcp::socket socket, gateway::BufferPool& pool,
                     PduStreamHandler& handler, gateway::BufferUse use)
    : socket_(std::move(socket)),
      buffer_wait_timer_(socket_.get_executor()),
      pool_(pool),
      account_(std::make_shared<gateway::BufferAccount>(use)),
      handler_(handler),
      peer_(describe_endpoint(socket_)),
      inbound_(std::make_unique<InboundPdu>()) {
  error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  // Receives and sends are tried at once, outside the event loop.
  socket_.non_blocking(true, ignored);
}

PduStream::~PduStream() = default;

void PduStream::start() {
  read_bhs();
}

void PduStream::pause_reading() {
  paused_ = true;
}

void PduStream::resume_reading() {
  if (!paused_) return;
  paused_ = false;
  // Posted: a header read ahead delivers its PDU at once, and the handler
  // is never called back from inside one of its own calls.
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (!self->mid_pdu_ && !self->closed_) self->read_bhs();
  });
}

void PduStream::read_bhs() {
  if (paused_ || closed_ || close_when_sent_) return;
  mid_pdu_ = true;
  const size_t ahead = std::exchange(read_ahead_length_, 0);
  std::copy_n(read_ahead_.begin(), ahead, inbound_->header.begin());
  if (ahead == iscsi::kBhsLength) {
    // No receive to wait for. This does not recurse without end: a PDU
    // without data reads its successor's BHS from the socket, and one with
    // data waits for that data.
    ++statistics_.headers_read_ahead;
    on_bhs({});
    return;
  }
  asio::async_read(socket_,
                   asio::buffer(inbound_->header.data() + ahead, iscsi::kBhsLength - ahead),
                   [self = shared_from_this()](const error_code& error, size_t) {
                     self->inline_receives_ = 0;
                     self->on_bhs(error);
                   });
}

void PduStream::on_bhs(const error_code& error) {
  if (closed_) return;
  if (error) {
    if (error == asio::error::eof) {
      close("the peer closed the connection");
    } else {
      close("receive failed: " + error.message());
    }
    return;
  }
  statistics_.bytes_received += iscsi::kBhsLength;
  auto framing = iscsi::decode_framing(iscsi::BhsBytes(inbound_->header.data(), iscsi::kBhsLength),
                                       decode_options_);
  if (!framing) {
    close("bad PDU header: " + framing.error().describe());
    return;
  }
  framing_ = *framing;
  if (framing_.header_length() == iscsi::kBhsLength) {
    on_header({});
    return;
  }
  asio::async_read(
      socket_,
      asio::buffer(inbound_->header.data() + iscsi::kBhsLength,
                   framing_.header_length() - iscsi::kBhsLength),
      [self = shared_from_this()](const error_code& error, size_t) { self->on_header(error); });
}

void PduStream::on_header(const error_code& error) {
  if (closed_) return;
  if (error) {
    close("receive failed inside a PDU header: " + error.message());
    return;
  }
  statistics_.bytes_received += framing_.header_length() - iscsi::kBhsLength;
  auto pdu = iscsi::decode_header(
      std::span<const uint8_t>(inbound_->header.data(), framing_.header_length()), framing_,
      decode_options_);
  if (!pdu) {
    if (pdu.error().code == iscsi::PduErrc::kHeaderDigest) ++statistics_.digest_errors;
    close("bad PDU header: " + pdu.error().describe());
    return;
  }
  inbound_->pdu = std::move(*pdu);
  if (framing_.data_area_length() == 0) {
    deliver();
  } else {
    read_data_area();
  }
}

void PduStream::read_data_area() {
  if (closed_) return;
  if (auto landing = handler_.landing_for(inbound_->pdu, framing_.data_segment_length);
      landing && landing->bytes.size() == framing_.data_segment_length) {
    inbound_->landed_in = std::move(landing->owner);
    data_target_ = landing->bytes;
  } else if (!take_pool_buffer()) {
    return;  // waiting for one
  }
  const size_t trailer_length = framing_.padding_length + framing_.data_digest_length;
  const std::array<asio::mutable_buffer, 3> buffers = {
      asio::buffer(data_target_.data(), data_target_.size()),
      asio::buffer(inbound_trailer_.data(), trailer_length),
      asio::buffer(read_ahead_.data(), read_ahead_.size())};
  const size_t needed = framing_.data_area_length();
  size_t received = 0;
  // A data segment mostly arrives with its header, so it is received at
  // once: through the event loop its completion would be posted, and the
  // loop would poll the kernel once more before running it.
  if (inline_receives_ < kMaxInlineReceives) {
    ++inline_receives_;
    error_code error;
    received = socket_.receive(buffers, 0, error);
    if (error == asio::error::would_block) {
      received = 0;
    } else if (error || received >= needed) {
      on_data_area(error, received);
      return;
    }
  }
  asio::async_read(socket_, consume(buffers, received), at_least(needed - received),
                   [self = shared_from_this(), received](const error_code& error, size_t count) {
                     self->inline_receives_ = 0;
                     self->on_data_area(error, received + count);
                   });
}

bool PduStream::take_pool_buffer() {
  // Data the gateway asked for lands in memory set aside for it
  // (landing_for()); what arrives here came unasked (immediate data,
  // unsolicited Data-Out, Data-In for a host) or fits no request, and is
  // charged to this connection's share of its budget.
  gateway::Buffer buffer = pool_.acquire(account_);
  if (!buffer) {
    ++statistics_.buffer_waits;
    if (!handler_.may_wait_for_buffer()) {
      // The peer owes data the gateway asked for, behind this PDU: waiting
      // here would hold that data back, and with it the buffers set aside
      // for it. A command's or a Data-Out's segment is read and dropped, and
      // the handler answers for it (InboundPdu::discarded); any other PDU's
      // (a NOP-Out's ping data, a Text Request's keys: one at a time, a
      // few KiB) is kept in memory of its own.
      const bool data = std::holds_alternative<iscsi::ScsiCommand>(inbound_->pdu) ||
                        std::holds_alternative<iscsi::DataOut>(inbound_->pdu);
      if (data) {
        discard_data_segment();
      } else {
        auto copy = std::make_shared<std::vector<uint8_t>>(framing_.data_segment_length);
        data_target_ = std::span<uint8_t>(copy->data(), copy->size());
        inbound_->landed_in = std::move(copy);
      }
      buffer_retry_ = {};
      return true;
    }
    buffer_retry_ = std::min<std::chrono::microseconds>(
        buffer_retry_.count() == 0 ? kFirstBufferRetry : buffer_retry_ * 2, kLongestBufferRetry);
    buffer_wait_timer_.expires_after(buffer_retry_);
    buffer_wait_timer_.async_wait([self = shared_from_this()](const error_code& error) {
      if (!error) self->read_data_area();
    });
    return false;
  }
  buffer_retry_ = {};
  if (framing_.data_segment_length > buffer.size()) {
    // decode_framing() holds the segment to the MaxRecvDataSegmentLength we
    // declared, which never exceeds a buffer; this is the backstop.
    close("DataSegmentLength " + std::to_string(framing_.data_segment_length) +
          " exceeds the gateway's buffer of " + std::to_string(buffer.size()) + " bytes");
    return false;
  }
  inbound_->data = std::move(buffer);
  data_target_ = std::span<uint8_t>(inbound_->data.data(), framing_.data_segment_length);
  return true;
}

void PduStream::discard_data_segment() {
  // The stream's own: a receive into it may wait in the event loop while
  // other connections of the worker drop segments too. Freed once the PDU
  // is delivered, as dropping is rare.
  discard_.resize(framing_.data_segment_length);
  inbound_->discarded = true;
  data_target_ = std::span<uint8_t>(discard_.data(), discard_.size());
}

void PduStream::on_data_area(const error_code& error, size_t count) {
  if (closed_) return;
  if (error) {
    close("receive failed inside a data segment: " + error.message());
    return;
  }
  read_ahead_length_ = count - framing_.data_area_length();
  statistics_.bytes_received += framing_.data_area_length();
  const std::span<const uint8_t> data(data_target_);
  if (framing_.data_digest_length != 0) {
    // The DataDigest covers the data segment and its padding (§11.2.4).
    iscsi::Crc32c crc;
    crc.update(data);
    crc.update(std::span<const uint8_t>(inbound_trailer_.data(), framing_.padding_length));
    const uint32_t received = iscsi::load_digest(inbound_trailer_.data() + framing_.padding_length);
    if (crc.value() != received) {
      ++statistics_.digest_errors;
      ++statistics_.data_digest_errors;
      std::ostringstream text;
      text << "DataDigest mismatch: received 0x" << std::hex << received << ", computed 0x"
           << crc.value();
      // A target answers with a Reject first (RFC 7143 §7.8), which must
      // leave before the connection closes.
      iscsi::set_pdu_data(inbound_->pdu, {});
      if (handler_.answer_data_digest_error(*inbound_)) {
        close_after_sending(text.str());
      } else {
        close(text.str());
      }
      return;
    }
  }
  iscsi::set_pdu_data(inbound_->pdu, inbound_->discarded ? std::span<const uint8_t>() : data);
  deliver();
}

void PduStream::deliver() {
  // What the handler sends in answer, on this stream or another (the
  // Data-Outs an R2T asks for, the Data-Ins a read returns to a TCP host),
  // leaves in one write per stream once this PDU, and those read ahead
  // behind it and delivered from here, have been handled.
  gateway::WriteBatch batch;
  ++statistics_.pdus_received;
  handler_.on_pdu(*inbound_);
  inbound_->data = gateway::Buffer();
  inbound_->landed_in.reset();
  if (inbound_->discarded) std::vector<uint8_t>().swap(discard_);
  inbound_->discarded = false;
  data_target_ = {};
  mid_pdu_ = false;
  read_bhs();
}

void PduStream::send(const iscsi::Pdu& pdu, DataOwner data_owner) {
  if (closed_ || close_when_sent_) return;
  std::unique_ptr<Outbound> outbound = take_outbound();
  auto header = iscsi::encode_header(pdu, encode_options_, outbound->header);
  if (!header) {
    // Only a PDU of our own making can fail to encode: a bug, not the peer's.
    close("could not encode a PDU: " + header.error().describe());
    return;
  }
  outbound->header_length = *header;
  outbound->data = iscsi::pdu_data(pdu);
  outbound->trailer_length =
      iscsi::encode_data_trailer(outbound->data, encode_options_, outbound->trailer);
  outbound->owner = std::move(data_owner);
  // A vector owner is the data segment itself, maybe a copy of what the PDU
  // pointed at: send from the copy, which lives as long as the queue entry.
  if (auto* bytes = std::get_if<std::vector<uint8_t>>(&outbound->owner);
      bytes != nullptr && bytes->size() == outbound->data.size()) {
    outbound->data = *bytes;
  }
  send_queue_.push_back(std::move(outbound));
  if (in_flight_ != 0 || writes_held_) return;
  if (gateway::WriteBatch::is_open()) {
    gateway::WriteBatch::hold(shared_from_this());
    writes_held_ = true;
    return;
  }
  write_queued();
}

void PduStream::write_held() {
  writes_held_ = false;
  if (!closed_ && in_flight_ == 0 && !send_queue_.empty()) write_queued();
}

std::unique_ptr<PduStream::Outbound> PduStream::take_outbound() {
  if (spare_outbound_.empty()) return std::make_unique<Outbound>();
  std::unique_ptr<Outbound> outbound = std::move(spare_outbound_.back());
  spare_outbound_.pop_back();
  return outbound;
}

void PduStream::retire_sent(size_t count) {
  for (size_t i = 0; i < count; ++i) {
    std::unique_ptr<Outbound>& outbound = send_queue_.front();
    outbound->owner = {};  // the data's buffer goes back now, not at reuse
    if (spare_outbound_.size() < kMaxPdusPerWrite) spare_outbound_.push_back(std::move(outbound));
    send_queue_.pop_front();
  }
}

void PduStream::write_queued() {
  write_buffers_.clear();
  const size_t count = std::min(send_queue_.size(), kMaxPdusPerWrite);
  for (size_t i = 0; i < count; ++i) {
    const Outbound& outbound = *send_queue_[i];
    write_buffers_.emplace_back(outbound.header.data(), outbound.header_length);
    if (!outbound.data.empty()) {
      write_buffers_.emplace_back(outbound.data.data(), outbound.data.size());
    }
    if (outbound.trailer_length != 0) {
      write_buffers_.emplace_back(outbound.trailer.data(), outbound.trailer_length);
    }
  }
  in_flight_ = count;
  ++statistics_.writes;
  // Sent at once, as the socket nearly always takes it all: through the
  // event loop the completion would be posted and the loop would poll the
  // kernel once more before running it. What is left waits for room.
  error_code error;
  size_t written = socket_.send(write_buffers_, 0, error);
  if (error == asio::error::would_block) {
    written = 0;
  } else if (error || written == asio::buffer_size(write_buffers_)) {
    on_written(error, written);
    return;
  }
  asio::async_write(socket_, consume(write_buffers_, written),
                    [self = shared_from_this(), written](const error_code& error, size_t bytes) {
                      self->on_written(error, written + bytes);
                    });
}

void PduStream::on_written(const error_code& error, size_t bytes) {
  if (closed_) {
    send_queue_.clear();
    in_flight_ = 0;
    return;
  }
  if (error) {
    close("send failed: " + error.message());
    return;
  }
  statistics_.bytes_sent += bytes;
  statistics_.pdus_sent += in_flight_;
  retire_sent(in_flight_);
  in_flight_ = 0;
  if (!send_queue_.empty()) {
    write_queued();
  } else if (close_when_sent_) {
    close(close_reason_);
  }
}

void PduStream::close_after_sending(const std::string& reason) {
  if (closed_) return;
  if (send_queue_.empty()) {
    close(reason);
    return;
  }
  close_when_sent_ = true;
  close_reason_ = reason;
}

void PduStream::close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  buffer_wait_timer_.cancel();
  inbound_->data = gateway::Buffer();  // a cancelled read never writes into it again
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  // A cancelled writev may still name the PDUs in flight; they go when it
  // completes (on_written), the rest go now.
  send_queue_.erase(send_queue_.begin() + static_cast<long>(in_flight_), send_queue_.end());
  // Never call back into the handler from inside one of its own calls.
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), reason] { self->handler_.on_closed(reason); });
}

}  // namespace isergw::fabric_tcp
