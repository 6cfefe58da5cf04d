#!/usr/bin/env python3
"""Splits `tshark -q -z follow,tcp,raw,N` output into the two byte streams.

tshark prints the first node's (the initiator's) bytes flush left and the
second node's (the target's) indented by a tab, one hex line per segment.
Usage: split_follow.py INITIATOR_OUT TARGET_OUT < follow.txt
"""
import re
import sys

streams = [bytearray(), bytearray()]
for line in sys.stdin:
    body = line.rstrip("\n")
    if not body.strip() or not re.fullmatch(r"\t?[0-9a-fA-F]+", body):
        continue
    node = 1 if body.startswith("\t") else 0
    streams[node] += bytes.fromhex(body.strip())
for path, data in zip(sys.argv[1:3], streams):
    with open(path, "wb") as f:
        f.write(data)
