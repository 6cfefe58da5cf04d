#include "control/control_audit.h"

#include <spdlog/logger.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace isergw::control {

namespace {

ControlAudit::Writer audit_logger() {
  // Not registered with spdlog: spdlog::set_level (--log-level) reaches
  // registered loggers only, and this one must keep writing.
  const auto& sinks = spdlog::default_logger()->sinks();
  auto logger = std::make_shared<spdlog::logger>("audit", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::info);
  return [logger](const std::string& line) { logger->info("{}", line); };
}

std::string token_text(const std::string& token) {
  return token.empty() ? "(none)" : token;
}

}  // namespace

ControlAudit::ControlAudit(Writer writer) : writer_(writer ? std::move(writer) : audit_logger()) {}

void ControlAudit::know_tokens(const ApiTokens& tokens) {
  std::lock_guard lock(mutex_);
  for (const ApiToken& token : tokens.tokens) {
    if (token.role == Role::kAdmin) {
      counts_.applied.try_emplace(token.name, 0);
      counts_.rejected.try_emplace(token.name, 0);
    }
  }
  counts_.refused.try_emplace({"unauthorized", ""}, 0);
}

void ControlAudit::change(const std::string& token, std::string_view method, std::string_view route,
                          const std::string& subject, unsigned status) {
  const bool applied = status >= 200 && status < 300;
  {
    std::lock_guard lock(mutex_);
    ++(applied ? counts_.applied : counts_.rejected)[token];
  }
  write("change by token=" + token_text(token) + ": " + std::string(method) + " " +
        std::string(route) + (subject.empty() ? "" : " " + subject) + " -> " +
        std::to_string(status) + (applied ? " applied" : " rejected"));
}

void ControlAudit::refused(std::string_view reason, const std::string& token,
                           std::string_view method, std::string_view route, unsigned status,
                           std::chrono::steady_clock::time_point now) {
  uint64_t left_out = 0;
  {
    std::lock_guard lock(mutex_);
    ++counts_.refused[{std::string(reason), token}];
    log::Throttle& throttle = token.empty() ? anonymous_refusals_ : named_refusals_;
    if (!throttle.allow(now)) return;
    left_out = throttle.suppressed();
  }
  if (left_out > 0) {
    write(std::to_string(left_out) + " more refused requests " +
          (token.empty() ? "without a token" : "of named tokens") +
          " were left out of the audit log in the last second "
          "(isergw_control_refused_requests_total counts every one)");
  }
  write("refused (" + std::string(reason) + ") token=" + token_text(token) + ": " +
        std::string(method) + " " + std::string(route) + " -> " + std::to_string(status));
}

void ControlAudit::tokens_reloaded(const std::string& by, const ApiTokens& tokens) {
  know_tokens(tokens);
  std::string names;
  for (const ApiToken& token : tokens.tokens)
    names +=
        (names.empty() ? "" : ", ") + token.name + " (" + std::string(role_name(token.role)) + ")";
  write("tokens reloaded by token=" + token_text(by) + ": " + names);
}

ControlRequestCounts ControlAudit::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

void ControlAudit::write(const std::string& line) {
  writer_(line);
}

}  // namespace isergw::control
