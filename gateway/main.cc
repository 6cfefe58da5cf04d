// isergw: the gateway daemon. Reads the config, starts one worker per core
// and the portals, and runs until SIGINT or SIGTERM.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <thread>

#include "common/log.h"
#include "control/isns_registration.h"
#include "control/service_notify.h"
#include "fabric_tcp/listener.h"
#include "gateway/command_line.h"
#include "gateway/dpdk_memory.h"
#include "gateway/target_map.h"
#include "gateway/worker.h"

namespace {

namespace asio = boost::asio;
using namespace isergw;

constexpr const char* kVersion = "isergw 0.1.0";
// How long hosts have to log out when the gateway is asked to stop.
constexpr std::chrono::seconds kDrain{10};

int run(const gateway::CommandLine& command_line) {
  const control::Config& config = command_line.config;
  const unsigned worker_count =
      config.workers != 0 ? config.workers : std::max(1U, std::thread::hardware_concurrency());
  for (const auto& portal : config.listen) {
    if (portal.transport == gateway::Transport::kIser) {
      log::error("{}: the iSER fabric is not available in this version", portal.url());
      return 1;
    }
  }
  auto targets = gateway::TargetMap::build(config);
  if (!targets) {
    log::error("{}", targets.error());
    return 1;
  }

  // Pools for every worker, plus room for DPDK's own structures.
  const size_t pool_megabytes =
      worker_count * config.buffers.buffers_per_worker * config.buffers.buffer_size >> 20;
  auto memory = gateway::start_dpdk_memory({.no_huge_megabytes = pool_megabytes + 64});
  if (!memory) {
    log::error("{}", memory.error());
    return 1;
  }
  std::vector<std::unique_ptr<gateway::Worker>> workers;
  for (unsigned i = 0; i < worker_count; ++i) {
    auto worker = gateway::Worker::create(i, {.name = "worker" + std::to_string(i),
                                              .buffer_size = config.buffers.buffer_size,
                                              .buffer_count = config.buffers.buffers_per_worker});
    if (!worker) {
      log::error("{}", worker.error());
      return 1;
    }
    (*worker)->start();
    workers.push_back(std::move(*worker));
  }

  asio::io_context context;  // listeners and signals
  fabric_tcp::TargetSessionOptions options;
  for (const auto& portal : config.listen) {
    const bool wildcard = portal.host == "0.0.0.0" || portal.host == "::";
    options.portals.push_back(
        {wildcard ? std::string() : portal.host, portal.port, options.portal_group_tag});
  }
  std::vector<std::unique_ptr<fabric_tcp::Listener>> listeners;
  for (const auto& portal : config.listen) {
    auto listener =
        std::make_unique<fabric_tcp::Listener>(context, portal, [&](asio::ip::tcp::socket socket) {
          // Exact balancing: the worker with the fewest sessions takes it.
          gateway::Worker* least = workers.front().get();
          for (auto& worker : workers) {
            if (worker->session_count() < least->session_count()) least = worker.get();
          }
          const auto protocol = socket.local_endpoint().protocol();
          least->adopt(protocol, socket.release(), *targets, options);
        });
    if (auto opened = listener->open(); !opened) {
      log::error("{}", opened.error());
      return 1;
    }
    listeners.push_back(std::move(listener));
  }

  log::info("{} running: {} workers, {} buffers of {} KiB each, {}", kVersion, worker_count,
            config.buffers.buffers_per_worker, config.buffers.buffer_size / 1024,
            gateway::dpdk_uses_hugepages() ? "on hugepages" : "without hugepages (--no-huge)");
  for (const auto& listener : listeners) {
    log::info("portal {} (port {})", listener->address().url(), listener->bound_port());
  }
  for (const auto& target : config.targets) {
    log::info("target {} -> {}", target.name, target.back_end.redacted());
  }
  log::info("hosts find the targets with: iscsiadm -m discovery -t st -p {}",
            config.listen.front().host_port());

  // systemd and iSNS hear of the gateway only once every portal listens.
  control::ServiceNotify service(context);
  std::unique_ptr<control::IsnsRegistration> isns;
  if (config.isns) {
    control::IsnsRegistrationInfo info = control::isns_registration_info(config);
    info.portals.clear();
    for (const auto& listener : listeners) {
      info.portals.push_back(listener->address());
      info.portals.back().port = listener->bound_port();
    }
    isns = std::make_unique<control::IsnsRegistration>(*config.isns, std::move(info));
    isns->start();
  }
  service.notify_ready(std::to_string(listeners.size()) + " portals, " +
                       std::to_string(config.targets.size()) + " targets");
  service.start_watchdog();

  // The first signal drains: no new logins, every host asked to log out,
  // and the gateway stops when they have or kDrain has passed. A second
  // signal stops at once.
  asio::signal_set signals(context, SIGINT, SIGTERM);
  asio::steady_timer drain_timer(context);
  const auto drain_deadline = std::make_shared<std::chrono::steady_clock::time_point>();
  std::function<void()> check_drained = [&] {
    size_t sessions = 0;
    for (const auto& worker : workers)
      sessions += worker->session_count();
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
        for (auto& listener : listeners)
          listener->close();
        for (auto& worker : workers)
          worker->drain(kDrain);
        if (isns) isns->stop();  // deregisters; bounded by a few seconds
        *drain_deadline = std::chrono::steady_clock::now() + kDrain;
        signals.async_wait(on_signal);  // before check_drained(), which may cancel it
        check_drained();
      };
  signals.async_wait(on_signal);
  context.run();
  for (auto& worker : workers)
    worker->stop();
  log::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = gateway::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed) {
    std::fprintf(stderr, "isergw: %s\n", parsed.error().c_str());
    return 2;
  }
  if (!log::set_level(parsed->log_level)) {
    std::fprintf(stderr, "isergw: unknown --log-level '%s'\n", parsed->log_level.c_str());
    return 2;
  }
  switch (parsed->action) {
    case gateway::CommandLine::Action::kHelp:
      std::cout << parsed->help;
      return 0;
    case gateway::CommandLine::Action::kVersion:
      std::cout << kVersion << "\n";
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
