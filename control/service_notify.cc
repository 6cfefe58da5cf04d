#include "control/service_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "common/log.h"

namespace isergw::control {
namespace {

void send(const std::string& state) {
  // sd_notify returns 0 without NOTIFY_SOCKET; a send error is logged, never
  // fatal: the gateway serves hosts whether or not systemd hears it.
  if (const int result = sd_notify(0, state.c_str()); result < 0) {
    log::warn("sd_notify failed: {}", std::strerror(-result));
  }
}

// Newlines would start another assignment in the notify datagram.
std::string one_line(std::string_view text) {
  std::string line(text);
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  return line;
}

}  // namespace

ServiceNotify::ServiceNotify(boost::asio::io_context& context) : timer_(context) {}

ServiceNotify::~ServiceNotify() {
  stop_watchdog();
}

bool ServiceNotify::under_systemd() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  return socket != nullptr && socket[0] != '\0';
}

void ServiceNotify::notify_ready(std::string_view status) {
  send("READY=1\nSTATUS=" + one_line(status));
}

void ServiceNotify::notify_stopping() {
  send("STOPPING=1\nSTATUS=stopping");
}

void ServiceNotify::notify_status(std::string_view text) {
  send("STATUS=" + one_line(text));
}

std::optional<std::chrono::microseconds> ServiceNotify::watchdog_timeout() {
  uint64_t usec = 0;
  // Also checks WATCHDOG_PID, so a child that inherited the environment
  // does not ping on its parent's behalf.
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec);
}

void ServiceNotify::start_watchdog() {
  const auto timeout = watchdog_timeout();
  if (!timeout || watchdog_running_) return;
  interval_ = *timeout / 2;
  watchdog_running_ = true;
  send("WATCHDOG=1");
  schedule_keep_alive();
}

void ServiceNotify::stop_watchdog() {
  watchdog_running_ = false;
  timer_.cancel();
}

void ServiceNotify::schedule_keep_alive() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || !watchdog_running_) return;
    send("WATCHDOG=1");
    schedule_keep_alive();
  });
}

}  // namespace isergw::control
