// What passes between a fabric's connection and the session that runs over
// it: a received PDU with the buffer its data landed in, what keeps an
// outbound data segment alive until it has left, and the connection's
// counters. TCP and iSER connections speak in these terms, so the session
// logic above them is written once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <variant>
#include <vector>

#include "gateway/buffer_pool.h"
#include "iscsi/pdu.h"

namespace isergw::gateway {

// BHS + the largest AHS + HeaderDigest.
inline constexpr size_t kMaxHeaderLength = iscsi::kBhsLength + iscsi::kMaxAhsLength + 4;

// A PDU as it arrived. `pdu`'s data segment points into `data`, which the
// handler may move out and keep; any other span in `pdu` (an extended CDB,
// an unknown AHS) points into `header` and lives only during the call that
// delivers it.
struct InboundPdu {
  iscsi::Pdu pdu;
  Buffer data;
  std::array<uint8_t, kMaxHeaderLength> header{};
};

// What keeps an outbound data segment alive until it is on the wire. A
// std::vector owner holds the data segment itself (it may be a copy): the
// segment is then sent from it.
using DataOwner = std::variant<std::monostate, std::vector<uint8_t>, std::shared_ptr<const void>>;

struct ConnectionStatistics {
  uint64_t pdus_received = 0;
  uint64_t pdus_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t digest_errors = 0;
  // A data segment waited for a pool buffer: none was free, or this
  // connection held its share of the pool.
  uint64_t buffer_waits = 0;
  // TCP connections: PDUs whose BHS arrived whole with the previous PDU's
  // data segment, and so cost no receive of their own.
  uint64_t headers_read_ahead = 0;
  // TCP connections: writevs begun; pdus_sent over it is the PDUs that
  // shared a system call (gateway/write_batch.h).
  uint64_t writes = 0;
  // RDMA connections: work requests posted, doorbells rung (one per post:
  // the gateway posts one work request per call), and completions with an
  // error status other than the flush of a connection already failing.
  uint64_t rdma_work_requests = 0;
  uint64_t rdma_doorbells = 0;
  uint64_t rdma_completion_errors = 0;
  // RDMA connections on a soft device: send lists handed to the device's
  // posting thread rather than posted from the worker's loop
  // (rdma/posting_mode.h).
  uint64_t rdma_lists_handed_over = 0;
};

}  // namespace isergw::gateway
