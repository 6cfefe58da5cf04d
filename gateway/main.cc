// isergw: the gateway daemon. Reads the config, starts the gateway and its
// control API, and runs until SIGINT or SIGTERM.
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>

#include "common/crash_report.h"
#include "common/log.h"
#include "control/http_server.h"
#include "control/isns_registration.h"
#include "control/rest_api.h"
#include "control/service_notify.h"
#include "gateway/command_line.h"
#include "gateway/dpdk_memory.h"
#include "gateway/gateway.h"

namespace {

namespace asio = boost::asio;
using namespace isergw;

// How long hosts have to log out when the gateway is asked to stop.
constexpr std::chrono::seconds kDrain{10};

// Soft-iWARP counts every registration against RLIMIT_MEMLOCK, even for
// root (soft-RoCE and hardware drivers let CAP_IPC_LOCK pass), and the
// buffer pools are registered whole. Lift the limit where allowed, as the
// systemd unit's LimitMEMLOCK=infinity does; else say what will fail.
void lift_memlock_limit() {
  const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  if (setrlimit(RLIMIT_MEMLOCK, &unlimited) == 0) return;
  rlimit now{};
  getrlimit(RLIMIT_MEMLOCK, &now);
  log::warn(
      "cannot lift RLIMIT_MEMLOCK ({}; now {} bytes): RDMA registrations on soft-iWARP "
      "may fail; run with LimitMEMLOCK=infinity or ulimit -l unlimited",
      std::strerror(errno), now.rlim_cur);
}

int run(const gateway::CommandLine& command_line) {
  const control::Config& config = command_line.config;
  lift_memlock_limit();
  control::ApiTokens tokens;
  if (!config.control_token_file.empty()) {
    auto read = control::read_api_tokens_file(config.control_token_file);
    if (!read) {
      log::error("{}", read.error());
      return 1;
    }
    tokens = std::move(*read);
  }

  auto started = gateway::Gateway::start(
      config, {.config_path = command_line.config_path,
               .overrides = [overrides = command_line.overrides](control::Config& reloaded) {
                 overrides.apply(reloaded);
               }});
  if (!started) {
    log::error("{}", started.error());
    return 1;
  }
  gateway::Gateway& gateway = **started;

  const size_t token_count = tokens.tokens.size();
  const bool reads_need_token = tokens.reads_need_token;
  control::RestApi api(gateway, std::move(tokens), config.control_token_file);
  control::HttpServer server(
      [&api](const control::HttpRequest& request) { return api.handle(request); });
  std::optional<control::TlsFiles> tls;
  if (config.control_tls)
    tls = control::TlsFiles{config.control_tls->cert_file, config.control_tls->key_file};
  if (auto serving = server.start(config.control, tls); !serving) {
    log::error("{}", serving.error());
    return 1;
  }

  log::info("isergw {} running: {} buffers of {} KiB per worker, {}", gateway::kVersion,
            config.buffers.buffers_per_worker, config.buffers.buffer_size / 1024,
            gateway::dpdk_uses_hugepages() ? "on hugepages" : "without hugepages (--no-huge)");
  for (const auto& portal : gateway.portals()) {
    log::info("portal {} (port {})", portal.url, portal.bound_port);
  }
  for (const auto& target : config.targets) {
    log::info("target {} -> {}", target.name, target.back_end.redacted());
  }
  gateway::PortalAddress bound = config.control;
  bound.port = server.bound_port();
  log::info("control API and /metrics on {}://{}{}", server.serves_tls() ? "https" : "http",
            bound.host_port(),
            token_count == 0   ? " (read-only: no control_token_file)"
            : reads_need_token ? fmt::format(" ({} named tokens; reads need one)", token_count)
                               : std::string());
  if (!server.serves_tls() && !control::is_loopback_host(config.control.host)) {
    log::warn(
        "control API on {} speaks plain HTTP (control_allow_plain_http): tokens cross the "
        "network in the clear",
        bound.host_port());
  }
  log::info("hosts find the targets with: iscsiadm -m discovery -t st -p {}",
            config.listen.front().host_port());

  asio::io_context context;
  // systemd and iSNS hear of the gateway only once every portal listens.
  control::ServiceNotify service(context);
  std::unique_ptr<control::IsnsRegistration> isns;
  if (config.isns) {
    // What iSNS lists: the running targets and the ports the portals
    // actually bound.
    const auto registration_info = [&gateway] {
      control::IsnsRegistrationInfo info = control::isns_registration_info(gateway.config());
      info.portals.clear();
      for (const auto& portal : gateway.portals()) {
        auto address = gateway::parse_listen_url(portal.url);
        if (!address) continue;
        address->port = portal.bound_port;
        info.portals.push_back(std::move(*address));
      }
      return info;
    };
    isns = std::make_unique<control::IsnsRegistration>(*config.isns, registration_info());
    isns->start();
    gateway.on_change([&isns, registration_info] { isns->update(registration_info()); });
  }
  const std::vector<gateway::PortalInfo> portals = gateway.portals();
  service.notify_ready(std::to_string(portals.size()) + " portals, " +
                       std::to_string(config.targets.size()) + " targets");
  service.start_watchdog();

  // The first signal drains: no new logins, every host asked to log out,
  // and the gateway stops when they have or kDrain has passed. A second
  // signal stops at once.
  asio::signal_set signals(context, SIGINT, SIGTERM);
  asio::steady_timer drain_timer(context);
  const auto drain_deadline = std::make_shared<std::chrono::steady_clock::time_point>();
  std::function<void()> check_drained = [&] {
    const size_t sessions = gateway.session_count();
    if (sessions == 0 || std::chrono::steady_clock::now() >= *drain_deadline) {
      if (sessions > 0) log::warn("{} sessions did not log out in time; closing them", sessions);
      signals.cancel();
      return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(100));
    drain_timer.async_wait([&](const boost::system::error_code& error) {
      if (!error) check_drained();
    });
  };
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& error, int signal) {
        if (error) return;
        if (*drain_deadline != std::chrono::steady_clock::time_point{}) {
          log::info("signal {} again: stopping now", signal);
          drain_timer.cancel();
          return;
        }
        log::info("signal {}: draining: no new logins, hosts asked to log out within {} s", signal,
                  kDrain.count());
        service.notify_stopping();
        service.stop_watchdog();
        gateway.drain(kDrain);
        if (isns) {
          gateway.on_change(nullptr);
          isns->stop();  // deregisters; bounded by a few seconds
        }
        *drain_deadline = std::chrono::steady_clock::now() + kDrain;
        signals.async_wait(on_signal);  // before check_drained(), which may cancel it
        check_drained();
      };
  signals.async_wait(on_signal);
  context.run();
  server.stop();
  gateway.stop();
  log::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  crash_report::install();
  auto parsed = gateway::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed) {
    std::fprintf(stderr, "isergw: %s\n", parsed.error().c_str());
    return 2;
  }
  if (!log::set_level(parsed->log_level)) {
    std::fprintf(stderr, "isergw: unknown --log-level '%s'\n", parsed->log_level.c_str());
    return 2;
  }
  // The file was checked alone; --control may have moved the API since.
  if (parsed->action == gateway::CommandLine::Action::kRun ||
      parsed->action == gateway::CommandLine::Action::kCheckConfig) {
    if (auto transport = control::check_control_transport(parsed->config); !transport) {
      std::fprintf(stderr, "isergw: %s\n", transport.error().describe().c_str());
      return 2;
    }
  }
  switch (parsed->action) {
    case gateway::CommandLine::Action::kHelp:
      std::cout << parsed->help;
      return 0;
    case gateway::CommandLine::Action::kVersion:
      std::cout << "isergw " << gateway::kVersion << "\n";
      return 0;
    case gateway::CommandLine::Action::kCheckConfig:
      std::cout << parsed->config_path << ": valid, " << parsed->config.targets.size()
                << " targets, " << parsed->config.listen.size() << " portals\n";
      return 0;
    case gateway::CommandLine::Action::kRun:
      return run(*parsed);
  }
  return 0;
}
