#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Prints, in hex, one per line, every key a mount of BACKING holds: the
volume key, the keys derived from it, and the data keys of the given
backing files. Computed with the independent reader (no byokfs code), for
tests that look for keys in a process's memory.

usage: keys.py --key KEYFILE BACKING [BACKING_FILE...]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from byokfs_read import Volume  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--key", required=True)
ap.add_argument("backing")
ap.add_argument("files", nargs="*")
a = ap.parse_args()
vol = Volume(a.backing, a.key)
print("volume", vol.vkey.hex())
for name, k in vol.k.items():
    print(name, k.hex())
for f in a.files:
    raw = open(f, "rb").read(104)
    print("data", oracle.header_unwrap(raw, vol.k["header"], vol.volume_id).hex())
