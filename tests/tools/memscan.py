#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Searches a process's memory (/proc/PID/mem, every readable mapping) or a
core file for byte strings given in hex, one per line on stdin as
"LABEL HEX". Prints "found LABEL" for each hit; exit 0 if any was found,
1 if none. Needs root (or ptrace rights) for /proc/PID/mem.

usage: memscan.py --pid PID | --file CORE  < keys
"""
import argparse
import re
import sys

ap = argparse.ArgumentParser()
g = ap.add_mutually_exclusive_group(required=True)
g.add_argument("--pid", type=int)
g.add_argument("--file")
ap.add_argument("--where", action="store_true", help="also print the mapping of each hit")
a = ap.parse_args()
needles = []
for line in sys.stdin:
    parts = line.split()
    if len(parts) == 2:
        needles.append((parts[0], bytes.fromhex(parts[1])))


def chunks():
    if a.file:
        with open(a.file, "rb") as f:
            while True:
                b = f.read(64 << 20)
                if not b:
                    return
                yield b
        return
    with open("/proc/%d/maps" % a.pid) as maps, open("/proc/%d/mem" % a.pid, "rb", 0) as mem:
        for line in maps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            start, end, perms = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
            if perms[0] != "r" or "[vvar]" in line or "[vsyscall]" in line:
                continue
            # AddressSanitizer reserves terabytes of shadow: nothing of ours there
            if end - start > (4 << 30):
                continue
            pos = start
            while pos < end:
                n = min(16 << 20, end - pos)
                try:
                    mem.seek(pos)
                    data = mem.read(n)
                    if a.where:
                        for label, nd in needles:
                            i = data.find(nd)
                            if i >= 0:
                                print("where", label, hex(pos + i), line.strip())
                    yield data
                except (OSError, ValueError, OverflowError):
                    pass
                pos += n


found = set()
tail = b""
for c in chunks():
    buf = tail + c
    for label, n in needles:
        if n in buf:
            found.add(label)
    tail = buf[-64:]
for label in sorted(found):
    print("found", label)
sys.exit(0 if found else 1)
