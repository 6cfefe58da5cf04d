"""The shipped scrape config is valid and scrapes the daemon's default address."""
import os
import re
import shutil
import subprocess
import sys
import unittest

CONFIG = os.path.join("deploy", "prometheus", "prometheus.yml")


class PrometheusConfigTest(unittest.TestCase):
    def test_scrapes_the_default_control_address(self):
        with open(CONFIG) as text:
            config = text.read()
        self.assertRegex(config, r"job_name: isergw\b")
        self.assertRegex(config, r"metrics_path: /metrics\b")
        self.assertRegex(config, re.escape('targets: ["127.0.0.1:9860"]'))

    def test_promtool_accepts_it(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool not installed (Debian package prometheus)")
        result = subprocess.run([promtool, "check", "config", CONFIG], capture_output=True,
                                text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
