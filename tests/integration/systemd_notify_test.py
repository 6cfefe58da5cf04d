"""The daemon speaks sd_notify as a Type=notify unit expects.

A datagram socket stands where systemd's would be: isergw must send READY=1
once its portal listens, keep the watchdog fed at WATCHDOG_USEC, and send
STOPPING=1 on SIGTERM before it exits cleanly.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BINARY = os.path.join("gateway", "isergw")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SystemdNotifyTest(unittest.TestCase):
    def test_ready_watchdog_stopping(self):
        # Under /tmp: the socket path must fit in sun_path's 108 bytes.
        with tempfile.TemporaryDirectory(dir="/tmp") as directory:
            path = os.path.join(directory, "notify")
            systemd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            systemd.bind(path)
            systemd.settimeout(20)
            port = free_port()
            environment = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
            environment.pop("WATCHDOG_PID", None)
            daemon = subprocess.Popen(
                [BINARY, "--listen", f"tcp://127.0.0.1:{port}", "--workers", "1",
                 "--control", f"127.0.0.1:{free_port()}",
                 "--map", "iqn.2026-11.io.isergw.test:notify=null://16M"],
                env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                ready = systemd.recv(4096).decode()
                self.assertEqual(ready, "READY=1\nSTATUS=1 portals, 1 targets")
                # READY=1 promises a listening portal.
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                keep_alives = 0
                while keep_alives < 3:
                    self.assertEqual(systemd.recv(4096).decode(), "WATCHDOG=1")
                    keep_alives += 1
                daemon.send_signal(signal.SIGTERM)
                message = systemd.recv(4096).decode()
                while message == "WATCHDOG=1":  # one may have been on its way
                    message = systemd.recv(4096).decode()
                self.assertEqual(message, "STOPPING=1\nSTATUS=stopping")
                self.assertEqual(daemon.wait(timeout=20), 0)
            finally:
                if daemon.poll() is None:
                    daemon.kill()
                output = daemon.communicate()[0]
                systemd.close()
            self.assertIn("stopped", output)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
