// What passes between a fabric's connection and the session that runs over
// it: a received PDU with the buffer its data landed in (or the back leg's
// memory it was received into), what keeps an outbound data segment alive
// until it has left, and the connection's counters. TCP and iSER
// connections speak in these terms, so the session logic above them is
// written once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <variant>
#include <vector>

#include "gateway/buffer_pool.h"
#include "iscsi/pdu.h"

namespace isergw::gateway {

// BHS + the largest AHS + HeaderDigest.
inline constexpr size_t kMaxHeaderLength = iscsi::kBhsLength + iscsi::kMaxAhsLength + 4;

// Where a back leg would have a command's write data received directly,
// sparing the copy it would otherwise make of it (an iSER back leg's
// command buffer, which the storage reads from one address).
struct DataLanding {
  std::span<uint8_t> bytes;
  std::shared_ptr<const void> owner;  // keeps `bytes` valid
};

// A PDU as it arrived. `pdu`'s data segment points into `data`, or into
// the memory `landed_in` keeps; the handler may move either out and keep
// it. Any other span in `pdu` (an extended CDB, an unknown AHS) points
// into `header` and lives only during the call that delivers it.
struct InboundPdu {
  iscsi::Pdu pdu;
  Buffer data;
  // Set instead of `data` when the data segment was received straight into
  // memory the back leg lent for it (BackLeg::landing): what keeps it valid.
  std::shared_ptr<const void> landed_in;
  // The data segment found no buffer and was read and dropped: `pdu`'s
  // data segment is empty, and the handler answers for the loss.
  bool discarded = false;
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
  uint64_t digest_errors = 0;       // header and data digests
  uint64_t data_digest_errors = 0;  // of which data digests
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
