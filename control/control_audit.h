// The control API's audit trail: one line per change (who, which route, what
// it named, how it ended) and per request refused for its token, and the
// counts /metrics shows of them. Lines go to a logger named "audit" that
// shares the log's output but not its level: `--log-level warn` quiets the
// gateway, never the record of who changed it. Nothing secret is written:
// bodies are reduced to the names of their fields.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "common/log.h"
#include "control/api_tokens.h"
#include "control/metrics.h"

namespace isergw::control {

class ControlAudit {
 public:
  using Writer = std::function<void(const std::string& line)>;

  // `writer`: where lines go; null: the "audit" logger.
  explicit ControlAudit(Writer writer = nullptr);

  // Every token's name appears in /metrics at zero before it acts, so that
  // a dashboard's rate() has a series from the start.
  void know_tokens(const ApiTokens& tokens);

  // A change an admin token asked for, answered `status`. `subject` is what
  // the request named, e.g. "target=iqn.x fields=back_end,front_chap".
  void change(const std::string& token, std::string_view method, std::string_view route,
              const std::string& subject, unsigned status);
  // A request refused for its token: `reason` is unauthorized, read_only or
  // changes_disabled; `token` is empty when none matched. Every refusal is
  // counted, but at most kRefusalLinesPerSecond are written a second, the
  // first line after a gap saying how many were left out: with named
  // tokens anyone who reaches the port can be refused as often as they
  // like. Refusals without a token and those of a named one are throttled
  // apart, so that a flood of the first never hides the second.
  static constexpr uint64_t kRefusalLinesPerSecond = 20;
  void refused(std::string_view reason, const std::string& token, std::string_view method,
               std::string_view route, unsigned status,
               std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  // The new token names after a reload re-read control_token_file.
  void tokens_reloaded(const std::string& by, const ApiTokens& tokens);

  ControlRequestCounts counts() const;

 private:
  void write(const std::string& line);

  Writer writer_;
  mutable std::mutex mutex_;
  ControlRequestCounts counts_;
  log::Throttle anonymous_refusals_{std::chrono::seconds(1), kRefusalLinesPerSecond};
  log::Throttle named_refusals_{std::chrono::seconds(1), kRefusalLinesPerSecond};
};

}  // namespace isergw::control
