#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Looks for keys in text and files: logs, command output, a backing store.

KEYS holds "LABEL HEX" lines (tests/format/keys.py prints them; add the
master key yourself). Each key is searched for as raw bytes, as hex (lower
and upper case), and as base64 and base64url (with and without padding, at
each of the three alignments a key can have inside a longer base64 text),
and so is its first half (a truncated print). Every PATH is walked: file
contents, file names, symlink targets, extended attribute names and values.
"-" reads standard input.

Prints "found LABEL FORM in WHERE" per hit; exit 0 if anything was found,
1 if nothing (like memscan.py), 2 on a usage error.

usage: keyscan.py KEYS PATH...
"""
import base64
import os
import sys


def b64_forms(name, key, enc):
    """Every substring of enc(...) that depends on the key alone."""
    out = []
    for align in range(3):
        a = enc(b"\x00" * align + key + b"\x00" * 3).decode()
        b = enc(b"\xff" * align + key + b"\xff" * 3).decode()
        same = [i for i in range(min(len(a), len(b))) if a[i] == b[i]]
        if not same:
            continue
        # the longest run of positions where the fillers make no difference
        best, start = (0, 0), same[0]
        for i, j in zip(same, same[1:] + [None]):
            if j != i + 1:
                if i + 1 - start > best[1] - best[0]:
                    best = (start, i + 1)
                start = j
        out.append(("%s@%d" % (name, align), a[best[0]:best[1]].encode()))
    return out


def needles(label, key):
    res = [("raw", key), ("hex", key.hex().encode()), ("HEX", key.hex().upper().encode())]
    res += [("b64", base64.b64encode(key)), ("b64url", base64.urlsafe_b64encode(key))]
    res += [("b64url-nopad", base64.urlsafe_b64encode(key).rstrip(b"="))]
    res += b64_forms("b64", key, base64.b64encode)
    res += b64_forms("b64url", key, base64.urlsafe_b64encode)
    half = key[:len(key) // 2]
    res += [("half-raw", half), ("half-hex", half.hex().encode()),
            ("half-HEX", half.hex().upper().encode())]
    res += b64_forms("half-b64", half, base64.b64encode)
    res += b64_forms("half-b64url", half, base64.urlsafe_b64encode)
    return [(label, form, n) for form, n in res if len(n) >= 12]


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().split("\n")[-1], file=sys.stderr)
        return 2
    keys = []
    for line in open(sys.argv[1]):
        parts = line.split()
        if len(parts) == 2:
            keys += needles(parts[0], bytes.fromhex(parts[1]))
    if not keys:
        print("keyscan.py: no keys in %s" % sys.argv[1], file=sys.stderr)
        return 2
    found = []

    def scan(data, where):
        for label, form, n in keys:
            if n in data:
                found.append("found %s %s in %s" % (label, form, where))

    def scan_path(p):
        scan(os.fsencode(os.path.basename(p)), "name of " + p)
        try:
            for x in os.listxattr(p, follow_symlinks=False):
                scan(os.fsencode(x), "xattr name %s of %s" % (x, p))
                scan(os.getxattr(p, x, follow_symlinks=False), "xattr %s of %s" % (x, p))
        except OSError:
            pass
        if os.path.islink(p):
            scan(os.fsencode(os.readlink(p)), "symlink target of " + p)
        elif os.path.isfile(p):
            with open(p, "rb") as f:
                scan(f.read(), p)

    for root in sys.argv[2:]:
        if root == "-":
            scan(sys.stdin.buffer.read(), "standard input")
            continue
        scan_path(root)
        if os.path.isdir(root) and not os.path.islink(root):
            for d, dirs, files in os.walk(root):
                for n in dirs + files:
                    scan_path(os.path.join(d, n))
    for f in found:
        print(f)
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
