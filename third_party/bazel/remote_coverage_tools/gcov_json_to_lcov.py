#!/usr/bin/env python3
"""Turns gcc's intermediate *.gcov.json.gz files into one LCOV tracefile."""

import gzip
import json
import pathlib
import sys
from collections import defaultdict


def main() -> int:
    coverage_dir, output = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    lines: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    functions: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for path in coverage_dir.rglob("*.gcov.json.gz"):
        with gzip.open(path, "rt") as stream:
            report = json.load(stream)
        for source in report.get("files", []):
            name = source["file"]
            if name.startswith("/") or name.startswith("external/"):
                continue  # system headers and stand-in repositories
            for line in source.get("lines", []):
                lines[name][line["line_number"]] += line["count"]
            for function in source.get("functions", []):
                key = function.get("demangled_name", function["name"])
                old = functions[name].get(key, (function["start_line"], 0))
                functions[name][key] = (old[0], old[1] + function["execution_count"])
    with output.open("w") as out:
        for name in sorted(lines):
            out.write(f"SF:{name}\n")
            for key, (start, count) in sorted(functions[name].items()):
                out.write(f"FN:{start},{key}\nFNDA:{count},{key}\n")
            for number, count in sorted(lines[name].items()):
                out.write(f"DA:{number},{count}\n")
            hit = sum(1 for count in lines[name].values() if count)
            out.write(f"LH:{hit}\nLF:{len(lines[name])}\nend_of_record\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
