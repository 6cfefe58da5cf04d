#include "control/service_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <cstring>
#include <string>

namespace isergw::control {
namespace {

// A datagram socket standing where systemd's notify socket would be.
class NotifySocket {
 public:
  NotifySocket() {
    // Bazel's TEST_TMPDIR is too long for sun_path's 108 bytes.
    char dir[] = "/tmp/isergw-notify-XXXXXX";
    EXPECT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/notify";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0)
        << std::strerror(errno);
    timeval timeout{.tv_sec = 5, .tv_usec = 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    close(fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }

  // The next datagram, or "" after the receive timeout.
  std::string receive() {
    char buffer[4096];
    const ssize_t length = recv(fd_, buffer, sizeof(buffer), 0);
    return length > 0 ? std::string(buffer, length) : std::string();
  }
  // True when no datagram is waiting.
  bool empty() {
    char buffer[1];
    return recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT | MSG_PEEK) < 0;
  }

 private:
  std::string dir_;
  std::string path_;
  int fd_ = -1;
};

TEST(ServiceNotify, SendsReadyStatusAndStopping) {
  NotifySocket systemd;
  boost::asio::io_context context;
  ServiceNotify notify(context);
  EXPECT_TRUE(ServiceNotify::under_systemd());
  notify.notify_ready("2 portals, 3 targets");
  EXPECT_EQ(systemd.receive(), "READY=1\nSTATUS=2 portals, 3 targets");
  notify.notify_status("draining\nsessions");
  EXPECT_EQ(systemd.receive(), "STATUS=draining sessions");
  notify.notify_stopping();
  EXPECT_EQ(systemd.receive(), "STOPPING=1\nSTATUS=stopping");
}

TEST(ServiceNotify, KeepsTheWatchdogFedUntilStopped) {
  NotifySocket systemd;
  setenv("WATCHDOG_USEC", "40000", 1);
  boost::asio::io_context context;
  ServiceNotify notify(context);
  ASSERT_EQ(ServiceNotify::watchdog_timeout(), std::chrono::microseconds(40000));
  notify.start_watchdog();
  EXPECT_EQ(systemd.receive(), "WATCHDOG=1");
  // Keep-alives come from the context's timer, not from the caller.
  int keep_alives = 0;
  for (int round = 0; round < 3; ++round) {
    context.run_one();
    if (systemd.receive() == "WATCHDOG=1") ++keep_alives;
  }
  EXPECT_EQ(keep_alives, 3);
  notify.stop_watchdog();
  context.restart();
  context.run();  // returns: the cancelled timer was the only work
  EXPECT_TRUE(systemd.empty());
}

TEST(ServiceNotify, WatchdogOfAnotherProcessIsNotOurs) {
  NotifySocket systemd;
  setenv("WATCHDOG_USEC", "40000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  EXPECT_FALSE(ServiceNotify::watchdog_timeout());
  unsetenv("WATCHDOG_PID");
}

TEST(ServiceNotify, DoesNothingOutsideSystemd) {
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  boost::asio::io_context context;
  ServiceNotify notify(context);
  EXPECT_FALSE(ServiceNotify::under_systemd());
  EXPECT_FALSE(ServiceNotify::watchdog_timeout());
  notify.notify_ready("ready");
  notify.start_watchdog();
  EXPECT_EQ(context.run(), 0U);  // no timer was armed
}

}  // namespace
}  // namespace isergw::control
