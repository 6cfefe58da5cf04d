#include "gateway/write_data.h"

#include <algorithm>

namespace isergw::gateway {

Expected<void, std::string> WriteData::add(DataSlice slice) {
  const uint64_t end = uint64_t{slice.offset} + slice.bytes.size();
  if (end > total_length_) {
    return Unexpected{"data at offset " + std::to_string(slice.offset) + " length " +
                      std::to_string(slice.bytes.size()) +
                      " runs past the expected data transfer length " +
                      std::to_string(total_length_)};
  }
  if (slice.bytes.empty()) return {};
  auto next = by_offset_.lower_bound(slice.offset);
  if (next != by_offset_.end() && next->first < end) {
    return Unexpected{"data at offset " + std::to_string(slice.offset) +
                      " overlaps data already received at offset " + std::to_string(next->first)};
  }
  if (next != by_offset_.begin()) {
    const auto& previous = std::prev(next)->second;
    if (previous.offset + previous.bytes.size() > slice.offset) {
      return Unexpected{"data at offset " + std::to_string(slice.offset) +
                        " overlaps data already received at offset " +
                        std::to_string(previous.offset)};
    }
  }
  received_ += static_cast<uint32_t>(slice.bytes.size());
  by_offset_.emplace(slice.offset, std::move(slice));
  return {};
}

bool WriteData::covers(uint32_t offset, uint32_t length) const {
  return gaps(offset, length).empty();
}

std::vector<DataSlice> WriteData::slices(uint32_t offset, uint32_t length) const {
  std::vector<DataSlice> out;
  const uint64_t end = uint64_t{offset} + length;
  auto it = by_offset_.upper_bound(offset);
  if (it != by_offset_.begin()) --it;
  for (; it != by_offset_.end() && it->first < end; ++it) {
    const DataSlice& slice = it->second;
    const uint64_t slice_end = slice.offset + slice.bytes.size();
    if (slice_end <= offset) continue;
    const uint32_t from = std::max<uint32_t>(offset, slice.offset);
    const uint32_t to = static_cast<uint32_t>(std::min<uint64_t>(end, slice_end));
    out.push_back(
        DataSlice{from, slice.bytes.subspan(from - slice.offset, to - from), slice.owner});
  }
  return out;
}

std::vector<DataSlice> WriteData::take(uint32_t offset, uint32_t length) {
  std::vector<DataSlice> out = slices(offset, length);
  const uint64_t end = uint64_t{offset} + length;
  for (auto it = by_offset_.lower_bound(offset); it != by_offset_.end() && it->first < end;) {
    if (it->second.offset + it->second.bytes.size() <= end) {
      it = by_offset_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::vector<std::pair<uint32_t, uint32_t>> WriteData::gaps(uint32_t offset, uint32_t length) const {
  std::vector<std::pair<uint32_t, uint32_t>> missing;
  uint32_t cursor = offset;
  const uint32_t end = offset + length;
  for (const DataSlice& slice : slices(offset, length)) {
    if (slice.offset > cursor) missing.emplace_back(cursor, slice.offset - cursor);
    cursor = slice.offset + static_cast<uint32_t>(slice.bytes.size());
  }
  if (cursor < end) missing.emplace_back(cursor, end - cursor);
  return missing;
}

}  // namespace isergw::gateway
