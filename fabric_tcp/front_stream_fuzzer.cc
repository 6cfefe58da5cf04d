// Feeds mutated PDU streams to a front TargetSession over loopback TCP, with
// a ram:// disk behind it, everything on this one thread.
//
// The input is a script. Its first byte picks the login: unless bit 1 is
// set, a real initiator logs in first (a discovery session with bit 0, a
// normal one otherwise; bit 2 asks for InitialR2T=Yes, bit 3 refuses
// ImmediateData), so most inputs reach full feature phase and the rest of
// the script exercises the relay rather than the login checks. Then come
// chunks, each a 16-bit big-endian length and that many bytes, written raw to
// the socket; the session runs until it is idle after each one, so one PDU
// split over chunks arrives in pieces. At the end the host goes away.
//
// Whatever the bytes, every PDU the gateway sends decodes, the session ends
// with the connection, and every pool buffer it took comes back.
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/log.h"
#include "fabric_tcp/target_session.h"
#include "gateway/dpdk_memory.h"
#include "iscsi/login_initiator.h"
#include "iscsi/pdu_decoder.h"
#include "iscsi/pdu_encoder.h"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace isergw;

constexpr const char* kTarget = "iqn.2026-11.io.isergw.fuzz:ram";

struct Harness {
  Harness() {
    // Each bad input would log a warning; at thousands of inputs that is
    // all the fuzzer would print.
    log::set_level("error");
    if (auto started = gateway::start_dpdk_memory({.no_huge_megabytes = 64, .force_no_huge = true});
        !started) {
      std::abort();
    }
    auto created =
        gateway::BufferPool::create({.name = "fuzz", .buffer_size = 65536, .buffer_count = 32});
    if (!created) std::abort();
    pool = std::move(*created);
    control::Config config = control::default_config();
    config.targets[0].name = kTarget;
    config.targets[0].back_end = *gateway::parse_back_end_url("ram://16M");
    auto map = gateway::TargetMap::build(config);
    if (!map) std::abort();
    targets = *map;
    acceptor.open(tcp::v4());
    acceptor.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor.listen();
  }

  asio::io_context context;
  tcp::acceptor acceptor{context};
  std::unique_ptr<gateway::BufferPool> pool;
  std::shared_ptr<const gateway::TargetMap> targets;
  gateway::FrontSessionOptions options;
};

Harness& harness() {
  static Harness instance;
  return instance;
}

// The host's end: reads what the gateway sent without blocking, and checks
// that it is a well-formed PDU stream.
class Host {
 public:
  explicit Host(asio::io_context& context) : socket_(context) {}
  tcp::socket& socket() { return socket_; }

  // Reads what is there; false once the gateway has closed the connection.
  bool drain() {
    while (open_) {
      std::array<uint8_t, 16384> scratch;
      boost::system::error_code error;
      const size_t count = socket_.read_some(asio::buffer(scratch), error);
      if (error == asio::error::would_block) return true;
      if (error) {
        open_ = false;
        break;
      }
      received_.insert(received_.end(), scratch.begin(), scratch.begin() + count);
      decode_received();
    }
    return false;
  }

  std::optional<iscsi::LoginResponse> take_login_response() {
    auto response = std::move(login_response_);
    login_response_.reset();
    return response;
  }
  // The login response's data lives here until the next drain().
  const std::vector<uint8_t>& login_bytes() const { return login_bytes_; }

 private:
  void decode_received() {
    // The gateway negotiates no digests with this host and never sends more
    // than 64 KiB per data segment, its MaxRecvDataSegmentLength.
    const iscsi::DecodeOptions options{.max_recv_data_segment_length = 65536};
    size_t offset = 0;
    while (received_.size() - offset >= iscsi::kBhsLength) {
      auto framing = iscsi::decode_framing(
          iscsi::BhsBytes(received_.data() + offset, iscsi::kBhsLength), options);
      if (!framing) __builtin_trap();
      if (received_.size() - offset < framing->total_length()) break;
      auto decoded =
          iscsi::decode_pdu(std::span(received_.data() + offset, framing->total_length()), options);
      if (!decoded) __builtin_trap();
      if (auto* login = std::get_if<iscsi::LoginResponse>(&decoded->pdu)) {
        login_bytes_.assign(login->data.begin(), login->data.end());
        login_response_ = *login;
        login_response_->data = login_bytes_;
      }
      offset += framing->total_length();
    }
    received_.erase(received_.begin(), received_.begin() + static_cast<ptrdiff_t>(offset));
  }

  tcp::socket socket_;
  bool open_ = true;
  std::vector<uint8_t> received_;
  std::optional<iscsi::LoginResponse> login_response_;
  std::vector<uint8_t> login_bytes_;
};

// Runs the session until it has nothing left to do for now. Loopback TCP
// delivers a write before the write returns, so an empty poll with nothing
// new from the gateway means idle; no timer is waited for.
void run_until_idle(asio::io_context& context, Host& host) {
  for (int quiet = 0, round = 0; quiet < 2 && round < 1000; ++round) {
    if (context.stopped()) context.restart();
    const size_t handlers = context.poll();
    host.drain();
    quiet = handlers == 0 ? quiet + 1 : 0;
  }
}

// False when the gateway stopped taking bytes: it closed, or stopped
// reading and the socket buffers are full.
bool send(asio::io_context& context, Host& host, std::span<const uint8_t> bytes) {
  for (int stalls = 0; !bytes.empty() && stalls < 50;) {
    boost::system::error_code error;
    const size_t written =
        host.socket().write_some(asio::buffer(bytes.data(), bytes.size()), error);
    if (error && error != asio::error::would_block) return false;
    bytes = bytes.subspan(written);
    stalls = written == 0 ? stalls + 1 : 0;
    run_until_idle(context, host);
  }
  return bytes.empty();
}

bool send_pdu(asio::io_context& context, Host& host, const iscsi::Pdu& pdu) {
  std::vector<uint8_t> bytes(iscsi::encoded_length(pdu, {}));
  if (!iscsi::encode_pdu(pdu, {}, bytes)) std::abort();
  return send(context, host, bytes);
}

void log_in(asio::io_context& context, Host& host, uint8_t mode) {
  iscsi::LoginInitiatorConfig config;
  config.initiator_name = "iqn.1993-08.org.debian:01:fuzz";
  if (mode & 1) {
    config.session_type = iscsi::SessionType::kDiscovery;
  } else {
    config.target_name = kTarget;
  }
  config.isid = {0x80, 0, 0, 0, 0, 1};
  config.negotiation.header_digests = {"None"};
  config.negotiation.data_digests = {"None"};
  config.negotiation.initial_r2t = (mode & 4) != 0;
  config.negotiation.immediate_data = (mode & 8) == 0;
  config.negotiation.max_recv_data_segment_length = 65536;
  iscsi::LoginInitiator login(config);
  std::optional<iscsi::OwnedLoginRequest> request = login.start();
  while (request) {
    if (!send_pdu(context, host, request->pdu())) return;
    const auto response = host.take_login_response();
    if (!response) return;
    request = login.on_response(*response);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Harness& h = harness();
  const uint8_t mode = data[0];

  Host host(h.context);
  tcp::socket server(h.context);
  boost::system::error_code error;
  host.socket().connect(h.acceptor.local_endpoint(), error);
  // libFuzzer's timeout alarm can interrupt a blocking connect(); the
  // handshake goes on in the kernel, and accept() waits for it.
  if (error && error != asio::error::interrupted) std::abort();
  do {
    h.acceptor.accept(server, error);
  } while (error == asio::error::interrupted);
  if (error) std::abort();
  host.socket().non_blocking(true);

  int closed = 0;
  auto session = std::make_shared<fabric_tcp::TargetSession>(
      std::move(server), *h.pool, h.targets, h.options,
      [&closed](gateway::FrontSession&, const std::string&) { ++closed; });
  session->start();

  if ((mode & 2) == 0) log_in(h.context, host, mode);
  size_t pos = 1;
  while (pos + 2 <= size) {
    const size_t length = std::min<size_t>(size_t{data[pos]} << 8 | data[pos + 1], size - pos - 2);
    pos += 2;
    if (!send(h.context, host, std::span(data + pos, length))) break;
    pos += length;
  }

  // The host leaves: first a FIN, as a host that logs out without waiting
  // would; then, without lingering, so that thousands of runs leave no
  // TIME_WAIT sockets behind.
  host.socket().shutdown(tcp::socket::shutdown_send, error);
  run_until_idle(h.context, host);
  const linger abortive{1, 0};
  setsockopt(host.socket().native_handle(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  host.socket().close(error);
  run_until_idle(h.context, host);
  // A session that had stopped reading (backpressure, a back login under
  // way) cannot see the host go; the NOP-In timeout would end it later.
  if (closed == 0) session->close("fuzz input over");
  run_until_idle(h.context, host);
  if (closed != 1) __builtin_trap();
  if (session->active_tasks() != 0) __builtin_trap();
  session.reset();
  run_until_idle(h.context, host);
  if (h.pool->in_use() != 0) __builtin_trap();
  return 0;
}
