#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Keeps a mount busy for a while and reports every failed operation.

usage: io-loop.py DIR SECONDS ACKFILE [STOPFILE]

Every ~20 ms: appends a numbered, checksummed line to DIR/appended.log
(the revoke-harness format, so tests/kms/e2e.sh check_appended can verify
it), creates DIR/f-N with 4 KiB, reads it back after dropping it from the
page cache, reads DIR/big (if present) the same way, stats and lists DIR.
Prints one JSON object {"ops": N, "errors": [[t, op, errno name], ...]}
and writes "ACKED PARTIAL" to ACKFILE: the lines acknowledged, and the
bytes of the next line a short write put on disk (0 if none). Exit 0 if no
operation failed, 1 otherwise. It stops after SECONDS, or earlier once
STOPFILE exists.
"""
import errno
import json
import os
import sys
import time

d, seconds, ackfile = sys.argv[1], float(sys.argv[2]), sys.argv[3]
stopfile = sys.argv[4] if len(sys.argv) > 4 else None
log = os.open(os.path.join(d, "appended.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
errors, ops, acked, partial, n = [], 0, 0, 0, 0
t0 = time.monotonic()


def line(seq):
    body = b"line %08d payload-%060d" % (seq, seq * 7919)
    h = 5381
    for c in body:
        h = (h * 33 + c) & 0xFFFFFFFFFFFFFFFF
    return body + b" %08x\n" % (h & 0xFFFFFFFF)


def step(name, fn):
    global ops
    try:
        fn()
        ops += 1
    except OSError as e:
        errors.append([round(time.monotonic() - t0, 3), name, errno.errorcode.get(e.errno, str(e.errno))])


def append():
    global acked, partial
    if partial:
        return  # the file ends inside a line: appending more would garble it
    data = line(acked + 1)
    w = os.write(log, data)
    if w != len(data):
        # a line across a page boundary goes to the mount as two requests;
        # cut off between them, write() returns the first one's count: that
        # prefix is on disk and is checked by check_appended
        partial = w
        errors.append([round(time.monotonic() - t0, 3), "append", "short write"])
        return
    acked += 1


def create_and_read():
    p = os.path.join(d, "f-%d" % (n % 50))
    data = os.urandom(4096)
    with open(p, "wb") as f:
        f.write(data)
    fd = os.open(p, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        if os.read(fd, 8192) != data:
            raise OSError(errno.EIO, "read back other data")
    finally:
        os.close(fd)


def read_big():
    p = os.path.join(d, "big")
    if not os.path.exists(p):
        return
    fd = os.open(p, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        while os.read(fd, 1 << 20):
            pass
    finally:
        os.close(fd)


while time.monotonic() - t0 < seconds and not (stopfile and os.path.exists(stopfile)):
    step("append", append)
    step("create+read", create_and_read)
    step("read", read_big)
    step("stat", lambda: os.stat(d))
    step("listdir", lambda: os.listdir(d))
    n += 1
    time.sleep(0.02)
os.close(log)
with open(ackfile, "w") as f:
    f.write("%d %d\n" % (acked, partial))
print(json.dumps({"ops": ops, "errors": errors[:20], "nerrors": len(errors)}))
sys.exit(1 if errors else 0)
