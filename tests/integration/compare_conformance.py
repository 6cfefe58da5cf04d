#!/usr/bin/env python3
"""Compares iscsi-test-cu runs through the gateway with a run on a reference
target: every test the reference passes, each gateway run must pass too.
Writes one JUnit test case per such test and gateway run.

usage: compare_conformance.py JUNIT.xml REFERENCE.txt LABEL=GATEWAY.txt...
"""

import re
import sys
import xml.etree.ElementTree as ElementTree


def results(path):
    """{"Suite.Test": passed} from iscsi-test-cu's verbose output; a test that
    appears under several families passes only if it passed every time."""
    outcome = {}
    suite = None
    current = None
    with open(path, encoding="utf-8", errors="replace") as stream:
        for line in stream:
            match = re.match(r"^Suite: (\S+)", line)
            if match:
                suite = match.group(1)
                continue
            match = re.match(r"^  Test: (\S+) \.\.\.", line)
            if match and suite:
                current = f"{suite}.{match.group(1)}"
                outcome.setdefault(current, True)
            if current and ("FAILED" in line):
                outcome[current] = False
            if current and line.rstrip().endswith("passed"):
                pass
    return outcome


def compare(reference, gateway, label, root):
    """Adds a test suite for one gateway run; returns its failure count."""
    suite = ElementTree.SubElement(root, "testsuite", name=label)
    failures = 0
    compared = 0
    for name in sorted(reference):
        if not reference[name]:
            continue
        compared += 1
        case = ElementTree.SubElement(suite, "testcase", classname=label, name=name)
        if name not in gateway:
            failures += 1
            ElementTree.SubElement(case, "failure", message="the gateway run did not reach this test")
        elif not gateway[name]:
            failures += 1
            ElementTree.SubElement(case, "failure", message="passes on the reference target, fails through the gateway")
    suite.set("tests", str(compared))
    suite.set("failures", str(failures))
    extra = sorted(n for n in gateway if gateway[n] and not reference.get(n, False))
    print(f"{label}: {compared} tests pass on the reference; {failures} of them fail through the gateway")
    for name in sorted(reference):
        if reference[name] and not gateway.get(name, False):
            print(f"  FAILS THROUGH THE GATEWAY: {name}")
    if extra:
        print(f"  pass through the gateway but not on the reference: {', '.join(extra)}")
    return failures if compared else 1


def main() -> int:
    junit, reference = sys.argv[1], results(sys.argv[2])
    root = ElementTree.Element("testsuites")
    failures = 0
    for run in sys.argv[3:]:
        label, path = run.split("=", 1)
        failures += compare(reference, results(path), label, root)
    ElementTree.ElementTree(root).write(junit, encoding="utf-8", xml_declaration=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
