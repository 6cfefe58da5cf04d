// The token file's two formats, the rules each line must keep, errors that
// never quote a token, and the permissions the file must have.
#include "control/api_tokens.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace isergw::control {
namespace {

constexpr const char* kAlice = "alice-token-0123456789";
constexpr const char* kProm = "prometheus-token-0123456789";

std::string error_of(const std::string& text) {
  auto parsed = parse_api_tokens(text, "/etc/isergw/token");
  EXPECT_FALSE(parsed) << "accepted:\n" << text;
  return parsed ? std::string() : parsed.error();
}

TEST(ApiTokensTest, ASingleBareTokenIsTheAdminAndLeavesReadsOpen) {
  // What the Debian package writes: one token, a newline.
  auto parsed = parse_api_tokens("  0123456789abcdef0123  \n", "/etc/isergw/token");
  ASSERT_TRUE(parsed) << parsed.error();
  ASSERT_EQ(parsed->tokens.size(), 1U);
  EXPECT_EQ(parsed->tokens[0].name, "admin");
  EXPECT_EQ(parsed->tokens[0].role, Role::kAdmin);
  EXPECT_EQ(parsed->tokens[0].secret, "0123456789abcdef0123");
  EXPECT_FALSE(parsed->reads_need_token);
  // Comments after it are fine; another token is not (it would be ignored).
  EXPECT_TRUE(parse_api_tokens("0123456789abcdef0123\n# rotated 2026-11-01\n\n", "f"));
  EXPECT_NE(error_of("0123456789abcdef0123\nbob read-only bob-token-0123456789\n").find("line 2"),
            std::string::npos);
  EXPECT_NE(error_of("short\n").find("at least 16"), std::string::npos);
  EXPECT_NE(error_of("").find("holds no token"), std::string::npos);
}

TEST(ApiTokensTest, NamedTokensCarryTheirRolesAndCloseReads) {
  const std::string text = std::string("# name role token\n") + "alice admin " + kAlice +
                           "\n\n\tprometheus\tread-only\t" + kProm + "\r\n";
  auto parsed = parse_api_tokens(text, "f");
  ASSERT_TRUE(parsed) << parsed.error();
  ASSERT_EQ(parsed->tokens.size(), 2U);
  EXPECT_TRUE(parsed->reads_need_token);
  const ApiToken* alice = parsed->find(kAlice);
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->role, Role::kAdmin);
  const ApiToken* prometheus = parsed->find(kProm);
  ASSERT_NE(prometheus, nullptr);
  EXPECT_EQ(prometheus->name, "prometheus");
  EXPECT_EQ(prometheus->role, Role::kReadOnly);
  EXPECT_EQ(role_name(prometheus->role), "read-only");
  EXPECT_EQ(parsed->find(std::string(kAlice) + "x"), nullptr);
  EXPECT_EQ(parsed->find(std::string(kAlice).substr(1)), nullptr);
  EXPECT_EQ(parsed->find(""), nullptr);
  // A line that is only a comment first still makes the file named.
  auto one = parse_api_tokens(std::string("#\nalice admin ") + kAlice, "f");
  ASSERT_TRUE(one) << one.error();
  EXPECT_TRUE(one->reads_need_token);
}

TEST(ApiTokensTest, BadLinesNameTheLineAndTheRuleButNeverTheToken) {
  const std::string alice = std::string("alice admin ") + kAlice + "\n";
  struct Case {
    std::string text;
    std::string says;
  };
  const Case cases[] = {
      {alice + "bob admin\n", "line 2: has 2 fields"},
      {alice + "bob admin " + kProm + " extra\n", "line 2: has 4 fields"},
      {alice + "bob root " + kProm + "\n", "line 2: the role must be admin or read-only"},
      {alice + "bob/x admin " + kProm + "\n", "line 2: the name must be"},
      {alice + std::string(65, 'b') + " admin " + kProm + "\n", "line 2: the name must be"},
      {alice + "alice read-only " + kProm + "\n", "line 2: the name alice is given twice"},
      {alice + "bob admin " + kAlice + "\n", "line 2: the token of bob is also another name's"},
      {alice + "bob admin short-token\n", "line 2: the token must be at least 16"},
      {"# only comments\n\n", "holds no token"},
  };
  for (const Case& test : cases) {
    const std::string error = error_of(test.text);
    EXPECT_NE(error.find(test.says), std::string::npos) << error;
    EXPECT_NE(error.find("/etc/isergw/token"), std::string::npos) << error;
    EXPECT_EQ(error.find(kAlice), std::string::npos) << error;
    EXPECT_EQ(error.find(kProm), std::string::npos) << error;
  }
  // Columns swapped: the token stands where the name should, and still
  // does not reach the error.
  const std::string swapped = error_of(std::string(kProm) + " admin bob\n");
  EXPECT_EQ(swapped.find(kProm), std::string::npos) << swapped;
}

TEST(ApiTokensTest, TheFileMustBeReadableByItsOwnerOnly) {
  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/token";
  std::ofstream(path) << "alice admin " << kAlice << "\n";
  for (const mode_t mode : {0644, 0640, 0604, 0620}) {
    ::chmod(path.c_str(), mode);
    auto read = read_api_tokens_file(path);
    ASSERT_FALSE(read) << std::oct << mode;
    EXPECT_NE(read.error().find("chmod 600"), std::string::npos) << read.error();
  }
  ::chmod(path.c_str(), 0600);
  auto read = read_api_tokens_file(path);
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(read->tokens.at(0).name, "alice");
  EXPECT_FALSE(read_api_tokens_file(path + ".missing"));
  const std::string fifo = path + ".fifo";
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto blocked = read_api_tokens_file(fifo);
  ASSERT_FALSE(blocked);
  EXPECT_NE(blocked.error().find("not a regular file"), std::string::npos);
  unlink(fifo.c_str());
}

TEST(ApiTokensTest, ASymlinkIsFollowedAndTheFileItLeadsToIsChecked) {
  // A Kubernetes secret is mounted as a symlink into a hidden directory.
  const std::string directory = getenv("TEST_TMPDIR");
  const std::string target = directory + "/linked-token";
  const std::string link = directory + "/token-link";
  std::ofstream(target) << "alice admin " << kAlice << "\n";
  ::chmod(target.c_str(), 0600);
  unlink(link.c_str());
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  auto read = read_api_tokens_file(link);
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(read->tokens.at(0).name, "alice");
  // The link's own mode (0777) does not count, the file's does.
  ::chmod(target.c_str(), 0644);
  read = read_api_tokens_file(link);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().find("chmod 600"), std::string::npos) << read.error();
  // A link to a directory or to nothing.
  unlink(link.c_str());
  ASSERT_EQ(symlink(directory.c_str(), link.c_str()), 0);
  read = read_api_tokens_file(link);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().find("not a regular file"), std::string::npos) << read.error();
  unlink(link.c_str());
  ASSERT_EQ(symlink((directory + "/nothing").c_str(), link.c_str()), 0);
  read = read_api_tokens_file(link);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().find("cannot be read"), std::string::npos) << read.error();
  unlink(link.c_str());
}

TEST(ApiTokensTest, AFileLargerThanOneReadIsReadWhole) {
  // The file is read in chunks from its descriptor: the last name must
  // still be there.
  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/many-tokens";
  {
    std::ofstream file(path);
    for (int i = 0; i < 300; ++i)
      file << "user" << i << " read-only token-of-user-" << i << "-0123456789\n";
  }
  ::chmod(path.c_str(), 0600);
  auto read = read_api_tokens_file(path);
  ASSERT_TRUE(read) << read.error();
  ASSERT_EQ(read->tokens.size(), 300U);
  EXPECT_EQ(read->tokens.back().name, "user299");
  EXPECT_EQ(read->tokens.back().secret, "token-of-user-299-0123456789");
}

}  // namespace
}  // namespace isergw::control
