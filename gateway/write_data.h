// The write data of one command as it arrives in pieces (immediate data,
// unsolicited and solicited Data-Out), indexed by offset, so that a pull for
// any range can be answered with slices of the buffers the data landed in.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/expected.h"
#include "gateway/task.h"

namespace isergw::gateway {

class WriteData {
 public:
  explicit WriteData(uint32_t total_length) : total_length_(total_length) {}

  // Fails, naming the offsets, for data past the command's length or data
  // that overlaps what already arrived: both are protocol errors of the host.
  Expected<void, std::string> add(DataSlice slice);

  uint32_t total_length() const { return total_length_; }
  uint32_t received() const { return received_; }
  bool covers(uint32_t offset, uint32_t length) const;
  // The slices that make up [offset, offset + length), cut at its edges;
  // only meaningful when covers() holds.
  std::vector<DataSlice> slices(uint32_t offset, uint32_t length) const;
  // The same slices, handed over for good: the pieces that lie wholly in
  // the range are forgotten here, so that their buffers go back as soon as
  // the taker is done with them, not when the command ends. Data is handed
  // over once (each pull asks for its own range).
  std::vector<DataSlice> take(uint32_t offset, uint32_t length);
  // The parts of [offset, offset + length) not received yet, in order.
  std::vector<std::pair<uint32_t, uint32_t>> gaps(uint32_t offset, uint32_t length) const;

 private:
  uint32_t total_length_;
  uint32_t received_ = 0;
  std::map<uint32_t, DataSlice> by_offset_;
};

}  // namespace isergw::gateway
