#include "control/api_tokens.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <set>
#include <span>

#include "iscsi/chap.h"

namespace isergw::control {

namespace {

// A short token can be guessed over the network.
constexpr size_t kMinTokenLength = 16;
constexpr size_t kMaxTokenLength = 4096;
constexpr size_t kMaxNameLength = 64;

bool blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && blank(line[at]))
      ++at;
    const size_t start = at;
    while (at < line.size() && !blank(line[at]))
      ++at;
    if (at > start) fields.push_back(line.substr(start, at - start));
  }
  return fields;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Printable ASCII only: a token goes into an HTTP header as it is.
std::optional<std::string> secret_rule_broken(std::string_view secret) {
  if (secret.size() < kMinTokenLength) {
    return "the token must be at least " + std::to_string(kMinTokenLength) + " characters";
  }
  if (secret.size() > kMaxTokenLength) {
    return "the token must be at most " + std::to_string(kMaxTokenLength) + " characters";
  }
  for (const char c : secret) {
    if (c < 0x21 || c > 0x7e) return std::string("the token must be printable ASCII");
  }
  return std::nullopt;
}

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

bool same_secret(std::string_view given, std::string_view secret) {
  if (secret.empty()) return false;
  return iscsi::constant_time_equal(bytes_of(given), bytes_of(secret));
}

struct FileDescriptor {
  int fd;
  ~FileDescriptor() { ::close(fd); }
};

}  // namespace

std::string_view role_name(Role role) {
  return role == Role::kAdmin ? "admin" : "read-only";
}

const ApiToken* ApiTokens::find(std::string_view presented) const {
  const ApiToken* found = nullptr;
  for (const ApiToken& token : tokens) {
    if (same_secret(presented, token.secret) && found == nullptr) found = &token;
  }
  return found;
}

ApiTokens ApiTokens::single_admin(std::string secret) {
  ApiTokens tokens;
  tokens.tokens.push_back({std::string(kSingleTokenName), Role::kAdmin, std::move(secret)});
  return tokens;
}

Expected<ApiTokens, std::string> parse_api_tokens(std::string_view text, const std::string& path) {
  const std::string where = "control_token_file " + path;
  std::vector<std::string_view> lines;
  for (size_t start = 0; start <= text.size();) {
    const size_t end = std::min(text.find('\n', start), text.size());
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  const auto first = fields_of(lines.front());
  if (first.size() == 1 && first[0].front() != '#') {
    // The single-token format: the first line is the token.
    if (auto broken = secret_rule_broken(first[0])) return Unexpected{where + ": " + *broken};
    for (size_t i = 1; i < lines.size(); ++i) {
      const auto fields = fields_of(lines[i]);
      if (fields.empty() || fields[0].front() == '#') continue;
      return Unexpected{where + ": line " + std::to_string(i + 1) +
                        ": the first line holds a bare token (the single-token format), so no "
                        "more may follow; write every line as NAME ROLE TOKEN"};
    }
    return ApiTokens::single_admin(std::string(first[0]));
  }

  ApiTokens parsed;
  parsed.reads_need_token = true;
  std::set<std::string_view> names;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto fields = fields_of(lines[i]);
    if (fields.empty() || fields[0].front() == '#') continue;
    const std::string line = where + ": line " + std::to_string(i + 1) + ": ";
    if (fields.size() != 3) {
      return Unexpected{line + "has " + std::to_string(fields.size()) +
                        " fields; write NAME ROLE TOKEN (ROLE: admin or read-only)"};
    }
    if (!valid_name(fields[0])) {
      return Unexpected{line + "the name must be 1 to 64 of A-Z a-z 0-9 . _ -"};
    }
    if (!names.insert(fields[0]).second) {
      return Unexpected{line + "the name " + std::string(fields[0]) + " is given twice"};
    }
    ApiToken token;
    token.name = std::string(fields[0]);
    if (fields[1] == "admin") {
      token.role = Role::kAdmin;
    } else if (fields[1] == "read-only") {
      token.role = Role::kReadOnly;
    } else {
      return Unexpected{line + "the role must be admin or read-only"};
    }
    if (auto broken = secret_rule_broken(fields[2])) return Unexpected{line + *broken};
    // Two names for one token would make the audit log guess who acted.
    if (parsed.find(fields[2]) != nullptr) {
      return Unexpected{line + "the token of " + token.name + " is also another name's token"};
    }
    token.secret = std::string(fields[2]);
    parsed.tokens.push_back(std::move(token));
  }
  if (parsed.tokens.empty()) return Unexpected{where + " holds no token"};
  return parsed;
}

Expected<ApiTokens, std::string> read_api_tokens_file(const std::string& path) {
  const std::string where = "control_token_file " + path;
  // What is no regular file is never opened (a device may act on it).
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    return Unexpected{where + " cannot be read: " + std::strerror(errno)};
  }
  if (!S_ISREG(status.st_mode)) return Unexpected{where + " is not a regular file"};
  // The checks that count are made on the descriptor the file is read
  // from: by path, the file could be swapped between them and the read.
  // O_NONBLOCK: a FIFO swapped in after stat() would otherwise hold the
  // open, and the reload that asked, until a writer came. Symlinks are
  // followed, as before (a Kubernetes secret is one); the checks are those
  // of the file they lead to.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return Unexpected{where + " cannot be read: " + std::strerror(errno)};
  const FileDescriptor file{fd};
  if (::fstat(file.fd, &status) != 0) {
    return Unexpected{where + " cannot be read: " + std::strerror(errno)};
  }
  if (!S_ISREG(status.st_mode)) return Unexpected{where + " is not a regular file"};
  if ((status.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Unexpected{where + " may be read by group or others; chmod 600 it"};
  }
  std::string text;
  char chunk[4096];
  while (true) {
    const ssize_t got = ::read(file.fd, chunk, sizeof chunk);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      return Unexpected{where + " cannot be read: " + std::strerror(errno)};
    }
    text.append(chunk, static_cast<size_t>(got));
  }
  return parse_api_tokens(text, path);
}

}  // namespace isergw::control
