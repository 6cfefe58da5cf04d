"""Checks the Grafana dashboard against metric_names.txt.

Every metric name in the dashboard's queries must be in the list, and every
name in the list must be queried, so the list is exactly what the dashboard
needs from /metrics. With promtool (Debian's prometheus package) present,
every query must also parse as PromQL.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.join("deploy", "grafana")
METRIC = re.compile(r"\bisergw_[a-z0-9_]+\b")
# Grafana's variables, replaced by values PromQL accepts.
VARIABLES = {"$__rate_interval": "1m", "$instance": ".*", "$fabric": ".*", "$target": ".*"}


def queries(node):
    """Every PromQL query in the dashboard: panel targets and variable queries."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                yield value
            else:
                yield from queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from queries(item)


def listed_names():
    with open(os.path.join(HERE, "metric_names.txt")) as lines:
        return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(HERE, "isergw-dashboard.json")) as text:
            cls.dashboard = json.load(text)
        cls.queries = list(queries(cls.dashboard))

    def test_every_query_names_a_metric(self):
        self.assertGreater(len(self.queries), 20)
        for query in self.queries:
            self.assertRegex(query, METRIC, query)

    def test_dashboard_uses_exactly_the_listed_metrics(self):
        used = {name for query in self.queries for name in METRIC.findall(query)}
        listed = listed_names()
        self.assertEqual(len(listed), len(set(listed)), "metric_names.txt repeats a name")
        self.assertEqual(sorted(used - set(listed)), [], "queried but not in metric_names.txt")
        self.assertEqual(sorted(set(listed) - used), [], "listed but never queried")

    def test_panel_ids_are_unique(self):
        ids = [panel["id"] for panel in self.dashboard["panels"]]
        self.assertEqual(len(ids), len(set(ids)))

    def test_queries_parse_as_promql(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool not installed (Debian package prometheus)")
        rules = []
        for number, query in enumerate(q for q in self.queries if "label_values" not in q):
            for variable, value in VARIABLES.items():
                query = query.replace(variable, value)
            rules.append({"record": f"isergw:dashboard_query_{number}", "expr": query})
        # A rules file is JSON-compatible YAML: promtool checks each expression.
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as file:
            json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, file)
        try:
            result = subprocess.run([promtool, "check", "rules", file.name],
                                    capture_output=True, text=True)
        finally:
            os.unlink(file.name)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
