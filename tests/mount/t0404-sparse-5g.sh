#!/usr/bin/env bash
# A 5 GiB sparse file: truncate -s 5G, write a few MiB at offsets beyond
# 4 GiB (unaligned, across the 4 GiB and 5 GiB-1 MiB marks, the last byte),
# read them back exactly, holes read as zeros, the size is exactly 5 GiB,
# the backing size is exactly what the format says, and the backing file's
# allocated space (du) stays small; again after a remount.
. "$(dirname "$0")/../lib.sh"
vol_setup
G=$((1024 * 1024 * 1024))
truncate -s 5G "$PLAIN/sparse"
assert_file_size "$PLAIN/sparse" $((5 * G))
cat >"$T/io.py" <<'PY'
import os, sys, random, hashlib
mode, path = sys.argv[1], sys.argv[2]
G = 1 << 30
rnd = random.Random(5)
writes = [(4 * G - 1000, 3 * 1024 * 1024 + 7),       # across the 4 GiB mark
          (4 * G + 4 * 1024 * 1024 + 123457, 65536),   # after the first, not touching it
          (5 * G - 1024 * 1024 - 3, 1024 * 1024),
          (5 * G - 1, 1)]                              # the very last byte
data = [rnd.randbytes(n) for _, n in writes]
fd = os.open(path, os.O_RDWR if mode == "write" else os.O_RDONLY)
if mode == "write":
    for (off, n), d in zip(writes, data):
        assert os.pwrite(fd, d, off) == n
    os.fsync(fd)
for (off, n), d in zip(writes, data):
    got = os.pread(fd, n, off)
    assert got == d, "data at %d (%d bytes) differs" % (off, n)
# holes: before, between and inside the written regions
for off in (0, 4096 * 7 + 5, G, 3 * G + 12345, 4 * G - 1000 - 4096, 4 * G + 4 * 1024 * 1024 + 123457 + 65536 + 10, 5 * G - 1024 * 1024 - 5000):
    assert os.pread(fd, 4096, off) == bytes(4096), "hole at %d is not zeros" % off
# 1 MiB straddling data and hole
off = 4 * G + 4 * 1024 * 1024 + 123457 - 500000
got = os.pread(fd, 1024 * 1024, off)
assert got[:500000] == bytes(500000) and got[500000:500000 + 65536] == data[1], "mixed read"
assert os.fstat(fd).st_size == 5 * G
# reads past the end return nothing
assert os.pread(fd, 100, 5 * G) == b""
os.close(fd)
PY
python3 "$T/io.py" write "$PLAIN/sparse" || fail "write/read beyond 4 GiB"
assert_file_size "$PLAIN/sparse" $((5 * G))
b=$(backing_of "$PLAIN/sparse")
assert_file_size "$b" "$(backing_size $((5 * G)) 4096 28)"
kb=$(du -k "$b" | cut -f1)
[[ $kb -lt 16384 ]] || fail "backing file allocates ${kb} KiB for ~5 MiB of data: not sparse"
vol_remount
assert_file_size "$PLAIN/sparse" $((5 * G))
python3 "$T/io.py" read "$PLAIN/sparse" || fail "read after remount"
# shrink below 4 GiB and grow again: the old data beyond the cut is gone
truncate -s $((4 * G - 10)) "$PLAIN/sparse"
truncate -s 5G "$PLAIN/sparse"
python3 - "$PLAIN/sparse" <<'PY' || fail "data beyond a shrink came back"
import os, sys
G = 1 << 30
fd = os.open(sys.argv[1], os.O_RDONLY)
for off in (4 * G - 10, 4 * G, 4 * G + 4 * 1024 * 1024 + 123457, 5 * G - 1024 * 1024 - 3):
    assert os.pread(fd, 65536, off) == bytes(min(65536, 5 * G - off)), off
assert os.pread(fd, 1, 5 * G - 1) == b"\0"
PY
kb=$(du -k "$(backing_of "$PLAIN/sparse")" | cut -f1)
[[ $kb -lt 16384 ]] || fail "backing file allocates ${kb} KiB after shrink and grow"
