#!/usr/bin/env bash
# Concurrent O_APPEND: 4 processes x 20,000 lines, one write() per line on
# an O_APPEND descriptor; each line carries its writer id, sequence number,
# a variable-length payload and a checksum of itself. Then: exactly 80,000
# lines, the file size is the sum of the line lengths, every line intact,
# each writer's sequence complete and in order; again after a remount.
. "$(dirname "$0")/../lib.sh"
vol_setup
cat >"$T/writer.py" <<'PY'
import os, sys, zlib
path, wid, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
total = 0
for seq in range(n):
    body = "w%d %06d %s" % (wid, seq, chr(97 + (seq + wid) % 26) * ((seq * 37 + wid * 11) % 300))
    line = ("%s %08x\n" % (body, zlib.crc32(body.encode()))).encode()
    if os.write(fd, line) != len(line):
        sys.exit("short write")
    total += len(line)
os.close(fd)
print(total)
PY
cat >"$T/verify.py" <<'PY'
import sys, zlib
path, writers, n, expect_size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
data = open(path, "rb").read()
assert len(data) == expect_size, "file is %d bytes, writers wrote %d" % (len(data), expect_size)
assert data.endswith(b"\n"), "last line not terminated"
lines = data.split(b"\n")[:-1]
assert len(lines) == writers * n, "%d lines, want %d" % (len(lines), writers * n)
nxt = [0] * writers
for i, raw in enumerate(lines):
    try:
        body, crc = raw.decode().rsplit(" ", 1)
        assert int(crc, 16) == zlib.crc32(body.encode())
        w, seq = body.split(" ")[:2]
        w, seq = int(w[1:]), int(seq)
    except Exception as e:
        sys.exit("line %d damaged: %r (%s)" % (i + 1, raw[:80], e))
    assert seq == nxt[w], "line %d: writer %d seq %d, expected %d" % (i + 1, w, seq, nxt[w])
    nxt[w] += 1
assert nxt == [n] * writers, nxt
PY
pids=()
for w in 0 1 2 3; do
  timeout 120 python3 "$T/writer.py" "$PLAIN/log.txt" "$w" 20000 >"$T/written.$w" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a writer failed"; done
total=0
for w in 0 1 2 3; do total=$((total + $(cat "$T/written.$w"))); done
python3 "$T/verify.py" "$PLAIN/log.txt" 4 20000 "$total" || fail "verification failed"
assert_file_size "$PLAIN/log.txt" "$total"
vol_remount
python3 "$T/verify.py" "$PLAIN/log.txt" 4 20000 "$total" || fail "verification after remount failed"
