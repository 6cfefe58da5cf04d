#include "backend_ram/scsi_disk.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "backend_ram/big_endian.h"
#include "backend_ram/command_table.h"
#include "backend_ram/disk_context.h"

namespace isergw::backend_ram {

using iscsi::AdditionalSense;
using iscsi::FieldPointer;
using iscsi::ScsiStatus;
using iscsi::SenseKey;

namespace internal {

uint32_t expected_length(const Context& context, DataDirection direction) {
  return context.command.direction == direction ? context.command.expected_data_transfer_length : 0;
}

void set_residual(ScsiResult& result, uint64_t spdtl, uint32_t expected) {
  if (spdtl > expected) {
    result.residual = Residual::kOverflow;
    result.residual_count = static_cast<uint32_t>(std::min<uint64_t>(spdtl - expected, UINT32_MAX));
  } else if (spdtl < expected) {
    result.residual = Residual::kUnderflow;
    result.residual_count = static_cast<uint32_t>(expected - spdtl);
  } else {
    result.residual = Residual::kNone;
    result.residual_count = 0;
  }
}

ScsiResult check_condition(const Context& context, SenseKey key, AdditionalSense additional,
                           std::optional<FieldPointer> field_pointer) {
  iscsi::Sense sense;
  sense.key = key;
  sense.additional = additional;
  sense.field_pointer = field_pointer;
  ScsiResult result;
  result.status = ScsiStatus::kCheckCondition;
  // The control mode page reports D_SENSE = 0: fixed format.
  result.sense = iscsi::build_fixed_sense(sense);
  // Nothing was transferred that the initiator can use.
  set_residual(result, 0, context.command.expected_data_transfer_length);
  return result;
}

ScsiResult invalid_field_in_cdb(const Context& context, uint16_t byte, std::optional<uint8_t> bit) {
  return check_condition(context, SenseKey::kIllegalRequest, iscsi::kInvalidFieldInCdb,
                         FieldPointer{true, byte, bit});
}

ScsiResult illegal_request(const Context& context, AdditionalSense additional) {
  return check_condition(context, SenseKey::kIllegalRequest, additional);
}

ScsiResult good(const Context& context) {
  ScsiResult result;
  set_residual(result, 0, context.command.expected_data_transfer_length);
  return result;
}

ScsiResult data_in(const Context& context, std::span<const uint8_t> parameter_data,
                   uint32_t allocation_length) {
  const size_t spdtl = std::min<size_t>(parameter_data.size(), allocation_length);
  const uint32_t expected = expected_length(context, DataDirection::kRead);
  const size_t count = std::min({spdtl, size_t{expected}, data_in_capacity(context)});
  put_data_in(context, 0, parameter_data.first(count));
  ScsiResult result;
  result.data_in_length = static_cast<uint32_t>(count);
  set_residual(result, spdtl, expected);
  return result;
}

size_t data_in_capacity(const Context& context) {
  size_t total = 0;
  for (const std::span<uint8_t> piece : context.data_in)
    total += piece.size();
  return total;
}

void put_data_in(const Context& context, size_t offset, std::span<const uint8_t> bytes) {
  for (const std::span<uint8_t> piece : context.data_in) {
    if (bytes.empty()) return;
    if (offset >= piece.size()) {
      offset -= piece.size();
      continue;
    }
    const size_t count = std::min(bytes.size(), piece.size() - offset);
    std::memcpy(piece.data() + offset, bytes.data(), count);
    bytes = bytes.subspan(count);
    offset = 0;
  }
}

size_t gather_data_out(const Context& context, std::span<uint8_t> dest) {
  size_t copied = 0;
  for (const std::span<const uint8_t> buffer : context.command.data_out) {
    if (copied == dest.size()) break;
    const size_t count = std::min(buffer.size(), dest.size() - copied);
    if (count > 0) std::memcpy(dest.data() + copied, buffer.data(), count);
    copied += count;
  }
  return copied;
}

uint64_t data_out_size(const Context& context) {
  uint64_t total = 0;
  for (const std::span<const uint8_t> buffer : context.command.data_out)
    total += buffer.size();
  return total;
}

}  // namespace internal

namespace {

using internal::Context;

constexpr uint8_t kInquiry = 0x12;
constexpr uint8_t kRequestSense = 0x03;
constexpr uint8_t kReportLuns = 0xA0;

// FNV-1a: a stable, well-spread 64-bit value from the configured name.
uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : text) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

ScsiResult request_sense(const Context& context) {
  // iSCSI returns sense with each CHECK CONDITION (autosense), so there is
  // never pending sense to report: NO SENSE, or for a LUN that does not exist
  // LOGICAL UNIT NOT SUPPORTED with GOOD status (SPC-4 §6.39).
  iscsi::Sense sense;
  if (!context.lun_present) {
    sense.key = SenseKey::kIllegalRequest;
    sense.additional = iscsi::kLogicalUnitNotSupported;
  }
  const bool descriptor_format = (context.cdb[1] & 0x01) != 0;
  const iscsi::SenseBytes bytes =
      descriptor_format ? iscsi::build_descriptor_sense(sense) : iscsi::build_fixed_sense(sense);
  return internal::data_in(context, bytes.bytes(), context.cdb[4]);
}

ScsiResult report_luns(const Context& context) {
  const uint8_t select_report = context.cdb[2];
  const uint32_t allocation_length = load_be32(&context.cdb[6]);
  // SPC-4 §6.33: 00h all logical units, 01h well-known ones only (there are
  // none), 02h both. A short allocation length truncates, as for every other
  // command (SPC-4 §4.2.5.6).
  if (select_report > 0x02) return internal::invalid_field_in_cdb(context, 2);
  std::array<uint8_t, 16> data{};
  uint32_t list_length = 0;
  if (select_report != 0x01) {
    list_length = 8;
    store_be64(&data[8], encode_lun(context.config.lun));
  }
  store_be32(&data[0], list_length);
  return internal::data_in(context, std::span(data).first(8 + list_length), allocation_length);
}

ScsiResult start_stop_unit(const Context& context) {
  const uint8_t power_condition = context.cdb[4] >> 4;
  // SBC-3 §5.25, Table 91: ACTIVE, IDLE, STANDBY, LU_CONTROL, FORCE_IDLE_0,
  // FORCE_STANDBY_0; the rest are reserved.
  constexpr uint16_t kDefinedPowerConditions =
      1u << 0x0 | 1u << 0x1 | 1u << 0x2 | 1u << 0x3 | 1u << 0x7 | 1u << 0xA | 1u << 0xB;
  if ((kDefinedPowerConditions & (1u << power_condition)) == 0) {
    return internal::invalid_field_in_cdb(context, 4, 7);
  }
  // The medium is not removable (RMB = 0): there is nothing to eject.
  if (power_condition == 0 && (context.cdb[4] & 0x02) != 0) {
    return internal::invalid_field_in_cdb(context, 4, 1);
  }
  return internal::good(context);
}

// SBC-3 §5.16 and §5.17: with PMI = 0 the LOGICAL BLOCK ADDRESS must be 0.
ScsiResult read_capacity_10(const Context& context) {
  if ((context.cdb[8] & 0x01) == 0 && load_be32(&context.cdb[2]) != 0) {
    return internal::invalid_field_in_cdb(context, 2);
  }
  std::array<uint8_t, 8> data{};
  const uint64_t last_lba = context.block_count - 1;
  // 0xFFFFFFFF tells the initiator to use READ CAPACITY(16).
  store_be32(&data[0], static_cast<uint32_t>(std::min<uint64_t>(last_lba, 0xFFFFFFFF)));
  store_be32(&data[4], context.config.block_size);
  return internal::data_in(context, data, static_cast<uint32_t>(data.size()));
}

ScsiResult read_capacity_16(const Context& context) {
  if ((context.cdb[14] & 0x01) == 0 && load_be64(&context.cdb[2]) != 0) {
    return internal::invalid_field_in_cdb(context, 2);
  }
  std::array<uint8_t, 32> data{};
  store_be64(&data[0], context.block_count - 1);
  store_be32(&data[8], context.config.block_size);
  // LBPME: UNMAP and WRITE SAME with UNMAP deallocate; LBPRZ: deallocated
  // blocks read as zeros (SBC-3 §5.16.2).
  data[14] = 0x80 | 0x40;
  return internal::data_in(context, data, load_be32(&context.cdb[10]));
}

ScsiResult dispatch(const Context& context) {
  switch (context.info.kind) {
    case CommandKind::kTestUnitReady:
    case CommandKind::kPreventAllowMediumRemoval:
      return internal::good(context);
    case CommandKind::kRequestSense:
      return request_sense(context);
    case CommandKind::kRead:
      return internal::read_blocks(context);
    case CommandKind::kWrite:
      return internal::write_blocks(context);
    case CommandKind::kInquiry:
      return internal::inquiry(context);
    case CommandKind::kModeSense:
      return internal::mode_sense(context);
    case CommandKind::kStartStopUnit:
      return start_stop_unit(context);
    case CommandKind::kReadCapacity10:
      return read_capacity_10(context);
    case CommandKind::kReadCapacity16:
      return read_capacity_16(context);
    case CommandKind::kVerify:
      return internal::verify_blocks(context);
    case CommandKind::kSynchronizeCache:
      return internal::synchronize_cache(context);
    case CommandKind::kWriteSame:
      return internal::write_same(context);
    case CommandKind::kUnmap:
      return internal::unmap(context);
    case CommandKind::kReportLuns:
      return report_luns(context);
    case CommandKind::kReportSupportedOperationCodes:
      return internal::report_supported_operation_codes(context);
  }
  return internal::illegal_request(context, iscsi::kInvalidCommandOperationCode);
}

// Bits the CDB sets that the command does not define, first by byte, then
// from the most significant bit (SPC-4 §4.5.2.4.2 field pointer).
std::optional<FieldPointer> find_reserved_bits(const CommandInfo& info, const uint8_t* cdb) {
  for (uint16_t i = 1; i < info.cdb_length; ++i) {
    uint8_t allowed = info.usage[i];
    if (i == 1 && info.has_service_action) allowed |= 0x1F;
    const uint8_t stray = cdb[i] & static_cast<uint8_t>(~allowed);
    if (stray != 0) {
      uint8_t bit = 7;
      while ((stray & (1u << bit)) == 0)
        --bit;
      return FieldPointer{true, i, bit};
    }
  }
  return std::nullopt;
}

}  // namespace

uint64_t encode_lun(uint16_t lun) {
  if (lun < 256) return uint64_t{lun} << 48;
  return uint64_t{0x4000u | (lun & 0x3FFFu)} << 48;
}

Expected<ScsiDisk, std::string> ScsiDisk::create(DiskConfig config,
                                                 std::unique_ptr<BlockStore> store) {
  // Whole blocks, at least one, at most what any command may move.
  config.max_transfer_bytes = std::min(config.max_transfer_bytes, kMaxTransferBytes);
  config.max_transfer_bytes -= config.max_transfer_bytes % std::max(config.block_size, 1u);
  if (config.block_size != 512 && config.block_size != 4096) {
    return Unexpected{"block size " + std::to_string(config.block_size) +
                      " is not supported; use 512 or 4096"};
  }
  if (store == nullptr) return Unexpected{std::string("the disk has no store")};
  if (store->size() < config.block_size || store->size() % config.block_size != 0) {
    return Unexpected{"store size " + std::to_string(store->size()) +
                      " is not a positive multiple of the block size " +
                      std::to_string(config.block_size)};
  }
  if (config.lun > 0x3FFF) {
    return Unexpected{"LUN " + std::to_string(config.lun) +
                      " is beyond flat space addressing (0..16383)"};
  }
  if (config.name.empty()) return Unexpected{std::string("the disk name must not be empty")};
  if (config.product.size() > 16 || !std::all_of(config.product.begin(), config.product.end(),
                                                 [](char c) { return c >= 0x20 && c < 0x7F; })) {
    return Unexpected{"product '" + config.product +
                      "' must be at most 16 printable ASCII characters (SPC-4 §6.6.2)"};
  }
  return ScsiDisk(std::move(config), std::move(store));
}

ScsiDisk::ScsiDisk(DiskConfig config, std::unique_ptr<BlockStore> store)
    : config_(std::move(config)),
      store_(std::move(store)),
      block_count_(store_->size() / config_.block_size),
      encoded_lun_(encode_lun(config_.lun)) {
  const uint64_t hash = fnv1a(config_.name);
  char serial[17];
  std::snprintf(serial, sizeof serial, "%016llX", static_cast<unsigned long long>(hash));
  serial_ = serial;
  // NAA 3h, locally assigned (SPC-4 §7.8.6.6.3): 60 bits of our choosing.
  naa_ = uint64_t{0x3} << 60 | (hash & 0x0FFFFFFFFFFFFFFFull);
}

ScsiResult ScsiDisk::execute(const ScsiCommand& command, std::span<uint8_t> data_in) {
  const std::span<uint8_t> pieces[1] = {data_in};
  return execute(command, DataInPieces(pieces));
}

ScsiResult ScsiDisk::execute(const ScsiCommand& command, DataInPieces data_in) {
  static constexpr CommandInfo kUnknown{0, false, 0, 1, CommandKind::kTestUnitReady, {}};
  Context context{config_,
                  *store_,
                  block_count_,
                  {serial_, naa_},
                  command,
                  kUnknown,
                  command.cdb.data(),
                  data_in,
                  command.lun == encoded_lun_};
  if (command.cdb.empty()) {
    return internal::illegal_request(context, iscsi::kInvalidCommandOperationCode);
  }
  const uint8_t opcode = command.cdb[0];
  // Incorrect logical unit selection (SAM-5): a LUN with no logical unit
  // still answers INQUIRY, REPORT LUNS and REQUEST SENSE as SPC-4 defines for
  // each; everything else is LOGICAL UNIT NOT SUPPORTED.
  if (!context.lun_present && opcode != kInquiry && opcode != kReportLuns &&
      opcode != kRequestSense) {
    return internal::illegal_request(context, iscsi::kLogicalUnitNotSupported);
  }
  const uint8_t service_action = command.cdb.size() > 1 ? command.cdb[1] & 0x1F : 0;
  const CommandInfo* info = find_command(opcode, service_action);
  if (info == nullptr) {
    // An operation code we implement with a service action we do not is an
    // invalid field, not an invalid operation code (SPC-4 §4.2.5.1).
    if (has_service_actions(opcode) && command.cdb.size() > 1) {
      return internal::invalid_field_in_cdb(context, 1, 4);
    }
    return internal::illegal_request(context, iscsi::kInvalidCommandOperationCode);
  }
  if (command.cdb.size() < info->cdb_length) {
    return internal::invalid_field_in_cdb(context, static_cast<uint16_t>(command.cdb.size()));
  }
  if (const auto stray = find_reserved_bits(*info, command.cdb.data())) {
    return internal::check_condition(context, SenseKey::kIllegalRequest, iscsi::kInvalidFieldInCdb,
                                     stray);
  }
  const Context dispatched{config_,
                           *store_,
                           block_count_,
                           {serial_, naa_},
                           command,
                           *info,
                           command.cdb.data(),
                           data_in,
                           context.lun_present};
  return dispatch(dispatched);
}

namespace {

// Parameter data of the commands other than READ (INQUIRY, MODE SENSE,
// REPORT LUNS, ...) is far below this, whatever their allocation length.
constexpr uint32_t kMaxParameterData = 64 * 1024;

const CommandInfo* known_command(std::span<const uint8_t> cdb) {
  if (cdb.empty()) return nullptr;
  const CommandInfo* info = find_command(cdb[0], cdb.size() > 1 ? cdb[1] & 0x1F : 0);
  return info != nullptr && cdb.size() >= info->cdb_length ? info : nullptr;
}

}  // namespace

uint32_t ScsiDisk::data_out_length(const ScsiCommand& command) const {
  const CommandInfo* info = known_command(command.cdb);
  if (info == nullptr || command.direction != DataDirection::kWrite) return 0;
  const uint32_t expected = command.expected_data_transfer_length;
  const uint8_t* cdb = command.cdb.data();
  uint64_t wanted = 0;
  switch (info->kind) {
    case CommandKind::kVerify:
      // BYTCHK 01b compares data-out; the others take none.
      if (((cdb[1] >> 1) & 0x03) != 1) return 0;
      [[fallthrough]];
    case CommandKind::kWrite:
      wanted = internal::transfer_bytes(*info, cdb, config_.block_size);
      if (wanted > config_.max_transfer_bytes) return 0;  // refused on its CDB
      break;
    case CommandKind::kWriteSame:
      wanted = config_.block_size;  // one block, written over the range
      break;
    case CommandKind::kUnmap:
      wanted = load_be16(&cdb[7]);  // PARAMETER LIST LENGTH
      break;
    default:
      return 0;
  }
  return static_cast<uint32_t>(std::min<uint64_t>(wanted, expected));
}

uint32_t ScsiDisk::data_in_length(const ScsiCommand& command) const {
  const CommandInfo* info = known_command(command.cdb);
  if (info == nullptr || command.direction != DataDirection::kRead) return 0;
  const uint32_t expected = command.expected_data_transfer_length;
  if (info->kind != CommandKind::kRead) {
    return std::min({expected, kMaxParameterData, config_.max_transfer_bytes});
  }
  const uint64_t wanted = internal::transfer_bytes(*info, command.cdb.data(), config_.block_size);
  if (wanted > config_.max_transfer_bytes) return 0;  // refused on its CDB
  return static_cast<uint32_t>(std::min<uint64_t>(wanted, expected));
}

}  // namespace isergw::backend_ram
