// Tells systemd how the daemon is doing (sd_notify(3)): ready once the
// portals accept logins, stopping on SIGTERM, a status line for
// `systemctl status`, and watchdog keep-alives when the unit sets WatchdogSec.
// Every call is a no-op when NOTIFY_SOCKET is unset, as it is outside systemd.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <string_view>

namespace isergw::control {

class ServiceNotify {
 public:
  // The watchdog timer runs on `context`, which must not be a worker's: a
  // keep-alive must never wait behind the data path, nor delay it.
  explicit ServiceNotify(boost::asio::io_context& context);
  ~ServiceNotify();
  ServiceNotify(const ServiceNotify&) = delete;
  ServiceNotify& operator=(const ServiceNotify&) = delete;

  // True when started by systemd with Type=notify (NOTIFY_SOCKET is set).
  static bool under_systemd();

  void notify_ready(std::string_view status);
  void notify_stopping();
  void notify_status(std::string_view text);

  // The interval systemd expects keep-alives within (WATCHDOG_USEC), if any.
  static std::optional<std::chrono::microseconds> watchdog_timeout();
  // Sends WATCHDOG=1 at half the timeout, as sd_watchdog_enabled(3) advises,
  // until stop_watchdog() or destruction. Does nothing without a watchdog.
  void start_watchdog();
  void stop_watchdog();

 private:
  void schedule_keep_alive();

  boost::asio::steady_timer timer_;
  std::chrono::microseconds interval_{0};
  bool watchdog_running_ = false;
};

}  // namespace isergw::control
