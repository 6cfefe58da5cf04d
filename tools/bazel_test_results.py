#!/usr/bin/env python3
"""Reads a `bazel test` build-event file and prints one line per test case.

  PASS <target> <suite.case>
  FAIL <target> <suite.case>: <why>

Cases come from each target's test.xml. A test target that failed to build,
timed out, or exited non-zero although its XML lists no failure (a sanitizer
report at exit, a crash after the XML was written) adds one FAIL line of its
own, so nothing that went wrong is counted as a pass.
"""

import json
import sys
import urllib.parse
import xml.etree.ElementTree as ElementTree


def read_events(path):
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            line = line.strip()
            if line:
                yield json.loads(line)


def xml_cases(path):
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError) as error:
        return None, str(error)
    cases = []
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '')}.{case.get('name', '')}".strip(".")
        if case.get("status") == "notrun" or case.find("skipped") is not None:
            continue
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is None:
            cases.append((name, None))
        else:
            text = (problem.get("message") or problem.text or "failed").strip()
            cases.append((name, text.splitlines()[0][:200] if text else "failed"))
    return cases, None


def main() -> int:
    tests = {}
    results = {}
    for event in read_events(sys.argv[1]):
        ident = event.get("id", {})
        if "targetConfigured" in ident:
            kind = event.get("configured", {}).get("targetKind", "")
            if kind.endswith("_test rule"):
                tests[ident["targetConfigured"]["label"]] = True
        elif "testResult" in ident:
            label = ident["testResult"]["label"]
            payload = event.get("testResult", {})
            xml = None
            for output in payload.get("testActionOutput", []):
                if output.get("name") == "test.xml":
                    xml = urllib.parse.urlparse(output["uri"]).path
            results[label] = (payload.get("status", "NO_STATUS"), xml)

    for label in sorted(tests):
        if label not in results:
            print(f"FAIL {label} (target): did not build or did not run")
            continue
        status, xml = results[label]
        cases, error = xml_cases(xml) if xml else (None, "no test.xml")
        failures = 0
        for name, problem in cases or []:
            if problem is None:
                print(f"PASS {label} {name}")
            else:
                failures += 1
                print(f"FAIL {label} {name}: {problem}")
        if cases is None:
            print(f"FAIL {label} (target): {error}")
        elif status != "PASSED" and failures == 0:
            print(f"FAIL {label} (target): bazel status {status}")
        elif not cases and status == "PASSED":
            print(f"PASS {label} (target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
