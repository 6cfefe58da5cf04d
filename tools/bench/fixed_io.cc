// A fixed workload for instruction counts: logs in to a target and runs
// exactly COUNT 4 KiB READ(10)s and COUNT 4 KiB WRITE(10)s, one at a time,
// then logs out. Run against a gateway under callgrind twice with different
// counts, the difference divided by the difference in commands is the cost
// of one command, free of start-up.
//
//   fixed_io PORT TARGET LUN COUNT
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/support/test_initiator.h"

int main(int argc, char** argv) {
  using isergw::testing_support::TestInitiator;
  if (argc != 5) {
    std::fprintf(stderr, "usage: fixed_io PORT TARGET LUN COUNT\n");
    return 2;
  }
  TestInitiator host(static_cast<uint16_t>(std::atoi(argv[1])));
  if (!host.login(argv[2], "iqn.2026-11.io.isergw.bench:fixed-io")) {
    std::fprintf(stderr, "fixed_io: login to %s refused\n", argv[2]);
    return 1;
  }
  host.set_lun(static_cast<uint16_t>(std::atoi(argv[3])));
  const int count = std::atoi(argv[4]);
  const auto data = isergw::testing_support::pattern(4096, 1);
  uint32_t itt = 1;
  int failures = 0;
  // The first command of a new I_T nexus may hear a UNIT ATTENTION.
  const std::array<uint8_t, 6> test_unit_ready{};
  host.send(host.command(itt++, test_unit_ready, 0, false, false));
  host.collect_read(0);
  for (int i = 0; i < count; ++i) {
    const uint32_t lba = static_cast<uint32_t>(i % 1024) * 8;
    failures += host.read(itt++, lba, 4096).second != 0;
    failures += host.write(itt++, lba, data) != 0;
  }
  isergw::iscsi::LogoutRequest logout;
  logout.immediate = true;
  logout.itt = itt;
  host.send(logout);
  host.receive();
  if (failures) std::fprintf(stderr, "fixed_io: %d commands failed\n", failures);
  return failures ? 1 : 0;
}
