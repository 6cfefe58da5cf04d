// The daemon's command line: the config file, or the quick flags that build
// a config without one, and what to do with it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "control/config.h"
#include "gateway/portal_address.h"
#include "rdma/posting_mode.h"

namespace isergw::gateway {

// Flags that win over the config file, at start and at every reload.
struct ConfigOverrides {
  std::vector<PortalAddress> listen;  // --listen; empty: the file's
  std::optional<PortalAddress> control;
  unsigned workers = 0;  // 0: the file's
  std::optional<rdma::PostingMode> rdma_posting;
  void apply(control::Config& config) const;
};

struct CommandLine {
  enum class Action { kRun, kCheckConfig, kHelp, kVersion };
  Action action = Action::kRun;
  control::Config config;
  std::string config_path;    // empty: built from flags or the embedded default
  ConfigOverrides overrides;  // already applied to `config`
  std::string log_level = "info";
  std::string help;  // the usage text, for kHelp and errors
};

// Parses argv; the error is one line for the admin, e.g. "--map wants
// FRONT_IQN=URL, got 'iqn.x'".
Expected<CommandLine, std::string> parse_command_line(const std::vector<std::string>& args);

}  // namespace isergw::gateway
