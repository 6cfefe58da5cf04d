#include "rdma/verbs_error.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace isergw::rdma {
namespace {

TEST(VerbsError, NamesTheVerbTheContextAndErrno) {
  auto error = verbs_error("ibv_create_cq", EINVAL, "4096 entries on rxe0");
  EXPECT_EQ(error.describe(), "ibv_create_cq (4096 entries on rxe0): Invalid argument [EINVAL]");
}

TEST(MemlockHint, ExplainsAnEnomemUnderAFiniteLimit) {
  const std::string hint = memlock_hint(ENOMEM, 64u << 20, 8u << 20);
  EXPECT_NE(hint.find("RLIMIT_MEMLOCK is 8 MiB"), std::string::npos) << hint;
  EXPECT_NE(hint.find("registration is 64 MiB"), std::string::npos) << hint;
  EXPECT_NE(hint.find("siw"), std::string::npos) << hint;
  EXPECT_NE(hint.find("ulimit -l unlimited"), std::string::npos) << hint;
  EXPECT_FALSE(memlock_hint(EPERM, 4096, 65536).empty());
}

TEST(MemlockHint, StaysSilentWhenTheLimitCannotBeTheCause) {
  EXPECT_EQ(memlock_hint(ENOMEM, 64u << 20, std::nullopt), "");
  EXPECT_EQ(memlock_hint(EINVAL, 64u << 20, 8u << 20), "");
}

TEST(MemlockHint, JoinsTheErrorLine) {
  auto error = verbs_error("ibv_reg_mr", ENOMEM, "64 MiB at 0x1000 on siw0");
  error.hint = memlock_hint(ENOMEM, 64u << 20, 65536);
  EXPECT_EQ(error.describe().rfind(
                "ibv_reg_mr (64 MiB at 0x1000 on siw0): Cannot allocate memory [ENOMEM]; "
                "RLIMIT_MEMLOCK is 64 KiB",
                0),
            0u)
      << error.describe();
}

TEST(HumanBytes, UsesTheLargestExactUnit) {
  EXPECT_EQ(human_bytes(100), "100 B");
  EXPECT_EQ(human_bytes(4096), "4 KiB");
  EXPECT_EQ(human_bytes(64u << 20), "64 MiB");
  EXPECT_EQ(human_bytes((1u << 20) + 1), "1048577 B");
}

}  // namespace
}  // namespace isergw::rdma
