#include "common/crash_report.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace isergw {
namespace {

void dereference_null() {
  volatile int* nowhere = nullptr;
  *nowhere = 1;
}

TEST(CrashReportDeathTest, AFaultIsReportedWithItsAddressAndABacktrace) {
  if (!crash_report::active()) GTEST_SKIP() << "AddressSanitizer reports faults itself";
  EXPECT_EXIT(
      {
        crash_report::install();
        dereference_null();
      },
      testing::KilledBySignal(SIGSEGV),
      "isergw: fatal signal 11 \\(SIGSEGV\\) at address 0x0; backtrace:\n.*\\[0x[0-9a-f]+\\]");
}

TEST(CrashReportDeathTest, AnAbortIsReportedAndStillEndsTheProcessAsAnAbort) {
  if (!crash_report::active()) GTEST_SKIP() << "AddressSanitizer reports faults itself";
  EXPECT_EXIT(
      {
        crash_report::install();
        abort();
      },
      testing::KilledBySignal(SIGABRT), "isergw: fatal signal 6 \\(SIGABRT\\)");
}

}  // namespace
}  // namespace isergw
