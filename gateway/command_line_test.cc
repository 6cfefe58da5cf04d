#include "gateway/command_line.h"

#include <gtest/gtest.h>

namespace isergw::gateway {
namespace {

Expected<CommandLine, std::string> parse(std::vector<std::string> args) {
  return parse_command_line(args);
}

TEST(CommandLine, NoArgumentsRunTheEmbeddedDefault) {
  auto parsed = parse({});
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->action, CommandLine::Action::kRun);
  ASSERT_EQ(parsed->config.targets.size(), 1U);
  EXPECT_EQ(parsed->config.targets[0].name, "iqn.2026-11.io.isergw:ram0");
  EXPECT_EQ(parsed->config.listen[0].url(), "tcp://127.0.0.1:3260");
}

TEST(CommandLine, QuickFlagsBuildTheTargetMap) {
  auto parsed = parse({"--listen", "tcp://[::1]:3270", "--listen", "tcp://127.0.0.1:3271", "--map",
                       "iqn.2026-11.io.isergw:a=ram://64M", "--map",
                       "iqn.2026-11.io.isergw:b=iscsi://gw%a-long-secret@10.0.0.9/"
                       "iqn.2026-01.com.example:disk",
                       "--workers", "3", "--control", "127.0.0.1:9900"});
  ASSERT_TRUE(parsed) << parsed.error();
  const control::Config& config = parsed->config;
  ASSERT_EQ(config.listen.size(), 2U);
  EXPECT_EQ(config.listen[0].host, "::1");
  ASSERT_EQ(config.targets.size(), 2U);
  EXPECT_EQ(config.targets[0].back_end.size_bytes, 64ULL << 20);
  ASSERT_TRUE(config.targets[1].back_chap);
  EXPECT_EQ(config.targets[1].back_chap->secret, "a-long-secret");
  EXPECT_TRUE(config.targets[1].back_end.chap_secret.empty());
  EXPECT_EQ(config.workers, 3U);
  EXPECT_EQ(config.control.port, 9900);
}

TEST(CommandLine, ErrorsSayWhatWasWrong) {
  auto error_of = [](std::vector<std::string> args) {
    auto parsed = parse_command_line(args);
    return parsed ? std::string("accepted") : parsed.error();
  };
  EXPECT_NE(error_of({"--map", "iqn.2026-11.io.isergw:a"}).find("FRONT_IQN=URL"),
            std::string::npos);
  EXPECT_NE(error_of({"--map", "disk=ram://1G"}).find("iqn."), std::string::npos);
  EXPECT_NE(error_of({"--map", "iqn.2026-11.io.isergw:a=nfs://x/y"}).find("must start with"),
            std::string::npos);
  EXPECT_NE(error_of({"--map", "iqn.2026-11.io.isergw:a=ram://1G", "--map",
                      "iqn.2026-11.io.isergw:a=null://1G"})
                .find("twice"),
            std::string::npos);
  EXPECT_NE(error_of({"--listen", "udp://1.2.3.4"}).find("scheme 'udp'"), std::string::npos);
  EXPECT_NE(error_of({"--workers", "0"}).find("1 to 256"), std::string::npos);
  EXPECT_NE(error_of({"--rdma-posting", "kernel"}).find("auto, thread or inline"),
            std::string::npos);
  EXPECT_NE(error_of({"--frobnicate"}).find("--help"), std::string::npos);
  EXPECT_NE(error_of({"--config", "/nonexistent/isergw.json"}).find("cannot read"),
            std::string::npos);
  EXPECT_NE(error_of({"--config", "/etc/isergw.json", "--map", "iqn.2026-11.io.isergw:a=ram://1G"})
                .find("exclude each other"),
            std::string::npos);
}

TEST(CommandLine, HelpVersionAndCheckConfig) {
  auto help = parse({"--help"});
  ASSERT_TRUE(help);
  EXPECT_EQ(help->action, CommandLine::Action::kHelp);
  EXPECT_NE(help->help.find("--map"), std::string::npos);
  EXPECT_EQ(parse({"--version"})->action, CommandLine::Action::kVersion);
  auto check = parse({"--check-config", "/nonexistent.json"});
  ASSERT_FALSE(check);
}

}  // namespace
}  // namespace isergw::gateway

namespace isergw::gateway {
namespace {

TEST(CommandLine, FlagsOverAConfigFileAreKeptForReloads) {
  auto parsed = parse_command_line({"--listen", "tcp://127.0.0.1:3275", "--workers", "3",
                                    "--control", "127.0.0.1:9901", "--rdma-posting", "inline"});
  ASSERT_TRUE(parsed) << parsed.error();
  // A file read again later knows nothing of the flags; they apply again.
  control::Config reloaded = control::default_config();
  parsed->overrides.apply(reloaded);
  EXPECT_EQ(reloaded.workers, 3U);
  EXPECT_EQ(reloaded.control.port, 9901);
  EXPECT_EQ(reloaded.rdma.posting, rdma::PostingMode::kInline);
  ASSERT_EQ(reloaded.listen.size(), 1U);
  EXPECT_EQ(reloaded.listen[0].port, 3275);
  // Without flags, the file's settings stay.
  control::Config untouched = control::default_config();
  CommandLine plain;
  plain.overrides.apply(untouched);
  EXPECT_EQ(untouched.workers, 0U);
  EXPECT_EQ(untouched.rdma.posting, rdma::PostingMode::kAuto);
  EXPECT_EQ(untouched.listen[0].port, 3260);
}

}  // namespace
}  // namespace isergw::gateway
