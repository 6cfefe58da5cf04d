#include "gateway/write_batch.h"

#include <cassert>
#include <utility>

namespace isergw::gateway {

namespace {

thread_local WriteBatch* open_batch = nullptr;

}  // namespace

WriteBatch::WriteBatch() {
  if (open_batch != nullptr) return;
  open_batch = this;
  outermost_ = true;
}

WriteBatch::~WriteBatch() {
  if (!outermost_) return;
  // Closed first: a writer that writes now, or a PDU queued from inside a
  // write's completion, must not join a batch that is ending.
  open_batch = nullptr;
  for (const auto& writer : writers_)
    writer->write_held();
}

bool WriteBatch::is_open() {
  return open_batch != nullptr;
}

void WriteBatch::hold(std::shared_ptr<BatchedWriter> writer) {
  assert(open_batch != nullptr);
  open_batch->writers_.push_back(std::move(writer));
}

}  // namespace isergw::gateway
