// The write data path of a front session: what the back leg pulls, the
// buffers set aside for it before the host is asked (buffer admission,
// gateway/buffer_pool.h), where the data lands, and how it is handed over.
#include <algorithm>

#include "common/log.h"
#include "gateway/front_session.h"

namespace isergw::gateway {

void FrontSession::fetch_ahead(FrontTask& front_task) {
  const uint32_t from = front_task.fetched_end;
  const uint32_t to = front_task.write_data.total_length();
  if (from >= to || !fetches_ahead() || front_task.pending_claim) return;
  // Data fetched ahead holds its buffers for a round trip to the storage
  // longer than data fetched when asked, and waits for the storage to ask
  // for it: it is charged like data a host sent unasked, and taken only
  // while that budget has room for all of it at once, never waited for.
  std::vector<Buffer> buffers;
  if (!back_ || !back_->landing(front_task.task, from, to - from)) {
    const size_t count = (size_t{to - from} + pool_.buffer_size() - 1) / pool_.buffer_size();
    buffers = pool_.acquire_all(count, fetched_ahead_);
    if (buffers.empty()) {
      ++statistics_.fetch_ahead_declined;
      return;
    }
  }
  front_task.fetched_end = to;
  statistics_.bytes_fetched_ahead += to - from;
  start_fetch(front_task, from, to, std::move(buffers));
}

void FrontSession::claim_and_fetch(FrontTask& front_task, uint32_t from, uint32_t to) {
  front_task.queued_fetches.push_back(QueuedFetch{from, to});
  if (front_task.pending_claim) return;  // behind the fetch that waits
  advance_fetches(front_task.task.itt, front_task.task.id);
}

void FrontSession::advance_fetches(uint32_t itt, uint64_t id) {
  while (FrontTask* current = find_task(itt, id)) {
    if (current->queued_fetches.empty() || current->pending_claim || !is_open()) return;
    const QueuedFetch next = current->queued_fetches.front();
    // Memory the back leg lends needs no claim (an iSER back leg's command
    // buffer).
    if (back_ && back_->landing(current->task, next.from, next.to - next.from)) {
      current->queued_fetches.erase(current->queued_fetches.begin());
      start_fetch(*current, next.from, next.to, {});
      continue;
    }
    const size_t count =
        (size_t{next.to - next.from} + pool_.buffer_size() - 1) / pool_.buffer_size();
    std::vector<Buffer> buffers;
    const auto outcome =
        pool_.claim(count, claims_, buffers, current->pending_claim,
                    [weak = weak_from_this(), itt, id](std::vector<Buffer> granted) {
                      if (auto self = weak.lock()) self->claim_granted(itt, id, std::move(granted));
                    });
    // Waiting: the pool counts it (isergw_buffer_claim_waits_total).
    if (outcome == BufferPool::ClaimOutcome::kWaiting) {
      transition(current->task, TaskState::kWaitingForBuffers);
      return;
    }
    if (outcome == BufferPool::ClaimOutcome::kRefused) {
      // More than one claim may take: the back end asked for more at once
      // than the pool can set aside (a built-in disk's command above its
      // MAXIMUM TRANSFER LENGTH never gets here).
      log::peer_warn("{}: write data of {} bytes at once exceeds the {} bytes a command may claim",
                     peer_, next.to - next.from, pool_.max_claim_bytes());
      protocol_error("a command's data burst exceeds what the buffer pool can hold");
      return;
    }
    current->queued_fetches.erase(current->queued_fetches.begin());
    start_fetch(*current, next.from, next.to, std::move(buffers));
  }
}

void FrontSession::claim_granted(uint32_t itt, uint64_t id, std::vector<Buffer> buffers) {
  FrontTask* front_task = find_task(itt, id);
  if (front_task == nullptr || !is_open() || front_task->queued_fetches.empty()) return;
  front_task->pending_claim = PendingClaim();
  const QueuedFetch next = front_task->queued_fetches.front();
  front_task->queued_fetches.erase(front_task->queued_fetches.begin());
  start_fetch(*front_task, next.from, next.to, std::move(buffers));
  // The fetches queued behind it claim in turn.
  advance_fetches(itt, id);
}

void FrontSession::start_fetch(FrontTask& front_task, uint32_t from, uint32_t to,
                               std::vector<Buffer> buffers) {
  if (!buffers.empty()) {
    Landings landings{from, to - from, {}};
    landings.buffers.reserve(buffers.size());
    for (Buffer& buffer : buffers)
      landings.buffers.push_back(std::make_shared<Buffer>(std::move(buffer)));
    front_task.landings.push_back(std::move(landings));
  }
  // The host's time to send what it is asked for runs from its latest
  // request; a host that keeps none of them runs out of claims (its share)
  // and then of time.
  last_data_ = std::chrono::steady_clock::now();
  front_task.asked_end = std::max(front_task.asked_end, to);
  transition(front_task.task, TaskState::kReceivingData);
  fetch(front_task, from, to);
}

bool FrontSession::awaiting_solicited_data() const {
  for (const auto& [itt, front_task] : tasks_) {
    if (front_task->write_data.received() < front_task->asked_end) {
      return true;
    }
  }
  return false;
}

void FrontSession::refuse_for_buffers(const iscsi::ScsiCommand& command) {
  if (statistics_.task_set_full++ == 0) {
    log::peer_warn(
        "{}: no buffer for a command's unasked write data while the host owes data it "
        "was asked for; answering TASK SET FULL (counted in task_set_full from here)",
        peer_);
  }
  iscsi::ScsiResponse response;
  response.itt = command.itt;
  response.status = static_cast<uint8_t>(iscsi::ScsiStatus::kTaskSetFull);
  stamp(response, true);
  send(response);
}

void FrontSession::add_write_data(FrontTask& front_task, uint32_t offset, Buffer buffer,
                                  std::span<const uint8_t> bytes) {
  add_write_data(front_task, offset, std::make_shared<const Buffer>(std::move(buffer)), bytes);
}

void FrontSession::add_write_data(FrontTask& front_task, uint32_t offset,
                                  std::shared_ptr<const void> owner,
                                  std::span<const uint8_t> bytes) {
  auto added = front_task.write_data.add(DataSlice{offset, bytes, std::move(owner)});
  if (!added) {
    protocol_error(added.error());
    return;
  }
  statistics_.bytes_written += bytes.size();
  last_data_ = std::chrono::steady_clock::now();
}

void FrontSession::handle_data_out(const iscsi::DataOut& data_out, InboundPdu& inbound) {
  FrontTask* front_task = find_task(data_out.itt);
  if (front_task == nullptr || !front_task->task.write) {
    // Data for a task that just ended (aborted) is normal; it is dropped.
    log::debug("{}: Data-Out for unknown ITT {} dropped", peer_, data_out.itt);
    return;
  }
  if (inbound.discarded) {
    // Data the gateway asked for always has a place set aside; only data
    // that fits no request, or unasked data behind a request, is dropped,
    // and the command cannot complete without it.
    protocol_error("no buffer for a Data-Out at offset " + std::to_string(data_out.buffer_offset) +
                   " of ITT " + std::to_string(data_out.itt) +
                   (data_out.ttt == iscsi::kReservedTag ? " (unsolicited)"
                                                        : " that fits no R2T's next bytes"));
    return;
  }
  const uint32_t length = static_cast<uint32_t>(data_out.data.size());
  const uint64_t end = uint64_t{data_out.buffer_offset} + length;
  if (data_out.ttt == iscsi::kReservedTag) {
    if (end > front_task->unsolicited_end) {
      protocol_error("unsolicited Data-Out past FirstBurstLength (offset " +
                     std::to_string(data_out.buffer_offset) + ")");
      return;
    }
    if (data_out.data_sn != front_task->next_unsolicited_data_sn) {
      protocol_error("unsolicited Data-Out with DataSN " + std::to_string(data_out.data_sn) +
                     " where " + std::to_string(front_task->next_unsolicited_data_sn) +
                     " was expected");
      return;
    }
    ++front_task->next_unsolicited_data_sn;
  } else if (!accept_solicited_data_out(*front_task, data_out)) {
    return;
  }
  if (inbound.landed_in) {
    add_landed_write_data(*front_task, data_out.buffer_offset, std::move(inbound.landed_in),
                          data_out.data);
  } else {
    add_write_data(*front_task, data_out.buffer_offset, std::move(inbound.data), data_out.data);
  }
  if (!is_open()) return;
  on_write_data(*front_task);
  serve_pulls(data_out.itt);
}

void FrontSession::add_landed_write_data(FrontTask& front_task, uint32_t offset,
                                         std::shared_ptr<const void> owner,
                                         std::span<const uint8_t> bytes) {
  statistics_.bytes_landed += bytes.size();
  add_write_data(front_task, offset, std::move(owner), bytes);
}

std::optional<DataLanding> FrontSession::landing(const Task& task, uint32_t offset,
                                                 uint32_t length) {
  if (back_) {
    if (auto lent = back_->landing(task, offset, length)) return lent;
  }
  FrontTask* front_task = find_task(task.itt);
  if (front_task == nullptr || length == 0) return std::nullopt;
  const uint64_t end = uint64_t{offset} + length;
  const size_t size = pool_.buffer_size();
  for (Landings& landings : front_task->landings) {
    if (offset < landings.offset || end > uint64_t{landings.offset} + landings.length) continue;
    const size_t relative = offset - landings.offset;
    const size_t within = relative % size;
    std::shared_ptr<Buffer>& buffer = landings.buffers[relative / size];
    if (within + length > size || !buffer) return std::nullopt;
    DataLanding lent{std::span<uint8_t>(buffer->data() + within, length), buffer};
    // The data that fills the buffer's last byte keeps it from here on.
    if (within + length == size || end == uint64_t{landings.offset} + landings.length) {
      buffer.reset();
    }
    return lent;
  }
  return std::nullopt;
}

void FrontSession::pull(Task& task, uint32_t offset, uint32_t length, PullDone done) {
  FrontTask* front_task = find_task(task.itt);
  if (front_task == nullptr) return;
  front_task->pulls.push_back(Pull{offset, length, std::move(done)});
  // Whatever the host will not send unasked is fetched, in offset order
  // (DataSequenceInOrder), once.
  const uint32_t end = offset + length;
  if (end > front_task->fetched_end) {
    const uint32_t from = std::max(front_task->fetched_end, offset);
    front_task->fetched_end = end;
    const uint64_t id = task.id;
    claim_and_fetch(*front_task, from, end);
    if (find_task(task.itt, id) == nullptr || !is_open()) return;
  }
  serve_pulls(task.itt);
}

void FrontSession::serve_pulls(uint32_t itt) {
  FrontTask* front_task = find_task(itt);
  if (front_task == nullptr) return;
  const uint64_t id = front_task->task.id;
  std::vector<Pull> ready;
  auto& pulls = front_task->pulls;
  for (auto it = pulls.begin(); it != pulls.end();) {
    if (front_task->write_data.covers(it->offset, it->length)) {
      ready.push_back(std::move(*it));
      it = pulls.erase(it);
    } else {
      ++it;
    }
  }
  for (Pull& pull : ready) {
    // An earlier callback may have completed or aborted the task.
    front_task = find_task(itt, id);
    if (front_task == nullptr) return;
    // The back leg keeps what it was handed as long as it needs it; the
    // task does not, so that a claim's buffers return once the storage has
    // the data, not when the command ends.
    pull.done(front_task->write_data.take(pull.offset, pull.length));
  }
  // Nothing asked of the host is missing and the back leg waits for no
  // data: the task is the storage's again.
  front_task = find_task(itt, id);
  if (front_task != nullptr && front_task->pulls.empty() &&
      front_task->write_data.received() >= front_task->asked_end) {
    transition(front_task->task, TaskState::kAtStorage);
  }
}

std::vector<DataSlice> FrontSession::received(Task& task, uint32_t offset, uint32_t max_length) {
  FrontTask* front_task = find_task(task.itt);
  if (front_task == nullptr) return {};
  const auto gaps = front_task->write_data.gaps(offset, max_length);
  const uint32_t contiguous = gaps.empty() ? max_length : gaps.front().first - offset;
  if (contiguous == 0) return {};
  return front_task->write_data.slices(offset, contiguous);
}

}  // namespace isergw::gateway
