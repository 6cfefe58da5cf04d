#!/usr/bin/env python3
"""soak_verdict.py passes a flat record and fails each kind of leak."""
import contextlib
import io
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak_verdict  # noqa: E402

HEADER = "phase\tseconds\trss_kib\tfds\tbuffers_used\tconnections\tcommands\n"


def record(load_rss, load_fds=None, after_fds=29, after_buffers=0, after_connections=0):
    load_fds = load_fds or [36] * len(load_rss)
    lines = [HEADER, "idle\t0\t36000\t29\t0\t0\t0\n"]
    for i, (rss, fds) in enumerate(zip(load_rss, load_fds)):
        lines.append(f"load\t{5 * (i + 1)}\t{rss}\t{fds}\t7\t5\t{1000 * (i + 1)}\n")
    lines.append(f"after\t{5 * len(load_rss)}\t{load_rss[-1]}\t{after_fds}\t{after_buffers}"
                 f"\t{after_connections}\t{1000 * len(load_rss)}\n")
    return "".join(lines)


def verdict(text):
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        handle.write(text)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            soak_verdict.main(handle.name)
    finally:
        os.unlink(handle.name)
    return {line.split()[2].rstrip(":"): line.split()[0] for line in out.getvalue().splitlines()}


FLAT = [170000, 173000, 173200, 173300, 173300, 173250, 173300, 173350, 173300]


class SoakVerdictTest(unittest.TestCase):
    def test_a_flat_record_passes_every_measure(self):
        self.assertEqual(set(verdict(record(FLAT)).values()), {"PASS"})

    def test_memory_that_keeps_growing_fails(self):
        growing = FLAT[:3] + [173000 + 4000 * i for i in range(1, 7)]
        self.assertEqual(verdict(record(growing))["memory-flat"], "FAIL")

    def test_descriptors_not_given_back_fail(self):
        self.assertEqual(verdict(record(FLAT, after_fds=31))["descriptors-flat"], "FAIL")

    def test_descriptors_that_keep_growing_fail(self):
        fds = [36, 37, 36, 40, 44, 48, 52, 56, 60]
        self.assertEqual(verdict(record(FLAT, load_fds=fds))["descriptors-flat"], "FAIL")

    def test_buffers_or_connections_still_held_fail(self):
        self.assertEqual(verdict(record(FLAT, after_buffers=3))["buffers-returned"], "FAIL")
        self.assertEqual(verdict(record(FLAT, after_connections=1))["buffers-returned"], "FAIL")

    def test_too_short_a_record_fails(self):
        self.assertEqual(verdict(record(FLAT[:4])), {"record": "FAIL"})


if __name__ == "__main__":
    unittest.main()
