#!/usr/bin/env bash
# Many open files at once: one process creates 3,000 files and keeps them
# all open, writes each, reads each back through its descriptor while all
# are open, closes them; then a second pass opens them all read-only at
# once. Contents exact, the daemon keeps serving (fd limits, inode table
# growth), again after a remount.
. "$(dirname "$0")/../lib.sh"
vol_setup
hard=$(ulimit -Hn)
[[ $hard == unlimited || $hard -ge 8000 ]] || skip "hard open-file limit $hard is below 8000"
ulimit -n 8000
cat >"$T/many.py" <<'PY'
import os, sys
d, mode = sys.argv[1], sys.argv[2]
N = 3000
data = lambda i: (b"file %d " % i) * (1 + i % 50)
fds = []
if mode == "write":
    os.makedirs(os.path.join(d, "many"), exist_ok=True)
    for i in range(N):
        fds.append(os.open(os.path.join(d, "many", "f%04d" % i), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    for i, fd in enumerate(fds):
        os.write(fd, data(i))
for i in range(N) if mode != "write" else []:
    fds.append(os.open(os.path.join(d, "many", "f%04d" % i), os.O_RDONLY))
for i, fd in enumerate(fds):
    got = os.pread(fd, 100000, 0)
    assert got == data(i), "file %d: %r" % (i, got[:40])
for fd in fds:
    os.close(fd)
PY
python3 "$T/many.py" "$PLAIN" write || fail "3000 files open for writing"
python3 "$T/many.py" "$PLAIN" read || fail "3000 files open for reading"
assert_eq "$(ls "$PLAIN/many" | wc -l)" "3000" "files listed"
vol_remount
python3 "$T/many.py" "$PLAIN" read || fail "3000 files open for reading after remount"
