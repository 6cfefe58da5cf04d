#!/usr/bin/env python3
"""Judges a soak record (soak.sh) flat or not, one PASS/FAIL line per measure.

The first third of the samples under load is warm-up: pools, the ram disk and
the allocator's arenas fill there. A leak shows as the last third rising above
the middle third. Descriptors and buffers must also be back at their idle
counts once every host has gone.
"""
import sys

RSS_SLACK_KIB = 4096  # the allocator's arenas breathe by a few MiB
RSS_SLACK_FRACTION = 0.02
FD_SLACK = 8  # the hosts' connections of the moment


def main(path):
    with open(path) as record:
        header = record.readline().rstrip("\n").split("\t")
        rows = [dict(zip(header, line.rstrip("\n").split("\t"))) for line in record]
    for row in rows:
        for key in header[1:]:
            row[key] = int(row[key])
    idle = [r for r in rows if r["phase"] == "idle"]
    load = [r for r in rows if r["phase"] == "load"]
    after = [r for r in rows if r["phase"] == "after"]
    if not idle or not after or len(load) < 6:
        print(f"FAIL soak record: {len(load)} samples under load, "
              f"{'an' if after else 'no'} after sample; too few to judge")
        return
    third = len(load) // 3
    middle, last = load[third:2 * third], load[2 * third:]

    def peak(rows, key):
        return max(r[key] for r in rows)

    rss_middle, rss_last = peak(middle, "rss_kib"), peak(last, "rss_kib")
    allowed = RSS_SLACK_KIB + int(rss_middle * RSS_SLACK_FRACTION)
    verdict = "PASS" if rss_last - rss_middle <= allowed else "FAIL"
    print(f"{verdict} soak memory-flat: peak RSS {rss_middle} KiB in the middle third, "
          f"{rss_last} KiB in the last (allowed +{allowed} KiB)")

    fds_idle, fds_after = idle[0]["fds"], after[-1]["fds"]
    fds_middle, fds_last = peak(middle, "fds"), peak(last, "fds")
    flat = fds_after == fds_idle and fds_last <= fds_middle + FD_SLACK
    print(f"{'PASS' if flat else 'FAIL'} soak descriptors-flat: {fds_idle} idle before, "
          f"peak {fds_middle} then {fds_last} under load, {fds_after} idle after")

    buffers_after, connections_after = after[-1]["buffers_used"], after[-1]["connections"]
    buffers_peak = peak(load, "buffers_used")
    flat = buffers_after == 0 and connections_after == 0
    print(f"{'PASS' if flat else 'FAIL'} soak buffers-returned: peak {buffers_peak} in use "
          f"under load, {buffers_after} in use and {connections_after} connections after")

    commands = after[-1]["commands"]
    seconds = after[-1]["seconds"]
    print(f"soak: {seconds} s, {commands} commands, {len(load)} samples, RSS "
          f"{idle[0]['rss_kib']} -> {rss_last} -> {after[-1]['rss_kib']} KiB", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
