// The control API's bearer tokens (docs/CONTROL.md, "Authentication"): each
// has a name, which the audit log and /metrics show, and a role. They come
// from control_token_file, in one of two formats:
//
//   NAME ROLE TOKEN lines (named tokens), ROLE being admin or read-only;
//   '#' starts a comment line, blank lines are skipped.
//
//   one bare token on the first line (the format before names existed): an
//   admin token named "admin".
//
// A file of named tokens also closes reads: every request but the health
// checks then needs a token. A single bare token keeps reads open, so that
// deployments written before names existed answer as they did.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace isergw::control {

enum class Role {
  kReadOnly,  // GET only
  kAdmin,     // GET and every change
};

std::string_view role_name(Role role);

struct ApiToken {
  std::string name;  // [A-Za-z0-9._-], at most 64: fit for a log line and a metric label
  Role role = Role::kAdmin;
  std::string secret;
};

// The name the single-token format gives its token.
inline constexpr std::string_view kSingleTokenName = "admin";

struct ApiTokens {
  std::vector<ApiToken> tokens;
  // True for a file of named tokens: GETs need a token of either role.
  bool reads_need_token = false;

  // The token whose secret is `presented`, or null. Every token is compared,
  // each in constant time for its length, so the answer's timing tells an
  // attacker neither how much of a guess was right nor which token it hit.
  const ApiToken* find(std::string_view presented) const;

  // One admin token named "admin", as the single-token format gives.
  static ApiTokens single_admin(std::string secret);
};

// Parses a token file's text; `path` only names the file in errors. An error
// names the line and the rule it breaks, and never quotes the line: a field
// in the wrong place may be a token.
Expected<ApiTokens, std::string> parse_api_tokens(std::string_view text, const std::string& path);

// Reads and parses the file. Refuses a file that is no regular file, or that
// group or others may read (a token others can read is no secret).
Expected<ApiTokens, std::string> read_api_tokens_file(const std::string& path);

}  // namespace isergw::control
