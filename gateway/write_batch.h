// Holds back the writes a burst of work makes on this thread, so that each
// connection writes once at the burst's end. A worker that takes a batch
// of commands off a completion queue would otherwise send each of them to
// the storage with a system call and a TCP segment of its own; held, the
// batch leaves in one writev per connection and arrives in one receive.
// Nothing waits on a timer: the burst's end is the end of the code that
// opened the batch, in the same turn of the loop.
#pragma once

#include <memory>
#include <vector>

namespace isergw::gateway {

// A connection that can hold its writes for a batch.
class BatchedWriter {
 public:
  virtual ~BatchedWriter() = default;
  // The batch has ended: write what was held.
  virtual void write_held() = 0;
};

class WriteBatch {
 public:
  // Opens a batch on this thread; one already open stays the one in force,
  // and this one then holds nothing.
  WriteBatch();
  // Ends the batch: every writer that held writes writes them now, in the
  // order they first held.
  ~WriteBatch();
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  // Whether a batch is open on this thread: if not, a writer writes now.
  static bool is_open();
  // Joins the open batch, which calls writer->write_held() at its end. A
  // writer joins once per batch: it holds until write_held() is called.
  static void hold(std::shared_ptr<BatchedWriter> writer);

 private:
  bool outermost_ = false;
  std::vector<std::shared_ptr<BatchedWriter>> writers_;
};

}  // namespace isergw::gateway
