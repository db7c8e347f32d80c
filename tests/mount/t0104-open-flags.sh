#!/usr/bin/env bash
# create, open with O_TRUNC, O_APPEND, O_EXCL (EEXIST), O_SYNC, read-only
# handles refusing writes, reads and writes at odd offsets (a seeded random
# mix mirrored on an ext4 reference file), two handles of one file seeing
# each other's writes, flush (close of dup'd fds), release, fsync/fdatasync;
# contents compared exactly, again after a remount.
. "$(dirname "$0")/../lib.sh"
vol_setup
ref=$T/ref; mkdir -p "$ref"

python3 - "$PLAIN" <<'PY' || fail "open flag checks failed"
import os, sys, errno
d = sys.argv[1]
p = os.path.join(d, "c")
# create with a mode
fd = os.open(p, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o640)
assert os.write(fd, b"0123456789") == 10
os.close(fd)
st = os.stat(p)
assert oct(st.st_mode & 0o7777) == "0o640", oct(st.st_mode)
assert st.st_size == 10, st.st_size
# O_EXCL on an existing name
try:
    os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    raise SystemExit("O_EXCL on an existing file succeeded")
except FileExistsError as e:
    assert e.strerror == "File exists", e.strerror
# O_CREAT without O_EXCL opens the existing file, content untouched
fd = os.open(p, os.O_CREAT | os.O_RDONLY, 0o600)
assert os.read(fd, 100) == b"0123456789"
os.close(fd)
# O_TRUNC
fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
assert os.fstat(fd).st_size == 0
os.write(fd, b"abc")
os.close(fd)
assert open(p, "rb").read() == b"abc"
# O_APPEND: writes go to the end whatever the file position
fd = os.open(p, os.O_WRONLY | os.O_APPEND)
os.lseek(fd, 0, os.SEEK_SET)
os.write(fd, b"DEF")
os.lseek(fd, 1, os.SEEK_SET)
os.write(fd, b"G" * 5000)
os.close(fd)
assert open(p, "rb").read() == b"abcDEF" + b"G" * 5000
# O_APPEND|O_CREAT on a new file
q = os.path.join(d, "appended")
for i in range(3):
    fd = os.open(q, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.write(fd, b"line %d\n" % i)
    os.close(fd)
assert open(q, "rb").read() == b"line 0\nline 1\nline 2\n"
# O_TRUNC of a large file, then a small write: no stale blocks
big = os.path.join(d, "big")
with open(big, "wb") as f:
    f.write(os.urandom(100000))
fd = os.open(big, os.O_RDWR | os.O_TRUNC)
os.write(fd, b"tiny")
os.close(fd)
assert open(big, "rb").read() == b"tiny"
assert os.stat(big).st_size == 4
# a read-only handle cannot write
fd = os.open(p, os.O_RDONLY)
try:
    os.write(fd, b"x")
    raise SystemExit("write on O_RDONLY fd succeeded")
except OSError as e:
    assert e.errno == errno.EBADF, e
os.close(fd)
# O_SYNC / O_DSYNC writes
for fl in (os.O_SYNC, os.O_DSYNC):
    fd = os.open(os.path.join(d, "sync"), os.O_WRONLY | os.O_CREAT | fl, 0o600)
    os.pwrite(fd, b"synced", 3)
    os.close(fd)
assert open(os.path.join(d, "sync"), "rb").read() == b"\0\0\0synced"
# two handles share one file: a write through one is read through the other
a = os.open(p, os.O_RDWR)
b = os.open(p, os.O_RDONLY)
os.pwrite(a, b"XYZ", 4096)
assert os.pread(b, 3, 4096) == b"XYZ"
os.close(a); os.close(b)
# flush: close of dup'd descriptors, each close reports success
fd = os.open(p, os.O_RDWR)
fd2 = os.dup(fd)
os.write(fd, b"1")
os.close(fd)
os.write(fd2, b"2")
os.fsync(fd2)
os.fdatasync(fd2)
os.close(fd2)
assert open(p, "rb").read(2) == b"12"
PY

# reads and writes at odd offsets: the same seeded sequence on both files
python3 - "$PLAIN/odd" "$ref/odd" <<'PY' || fail "odd-offset I/O differs from ext4"
import os, sys, random
rnd = random.Random(20240607)
fds = [os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600) for p in sys.argv[1:]]
edges = [0, 1, 4095, 4096, 4097, 8191, 8192, 12287, 65535, 65536, 65537, 1048575, 1048576]
for step in range(400):
    op = rnd.random()
    off = rnd.choice(edges) + rnd.choice([-1, 0, 1, rnd.randrange(20000)])
    off = max(off, 0)
    n = rnd.choice([1, 2, 3, 511, 4095, 4096, 4097, 8193, rnd.randrange(1, 70000)])
    if op < 0.6:
        data = rnd.randbytes(n)
        for fd in fds:
            assert os.pwrite(fd, data, off) == n
    elif op < 0.9:
        got = [os.pread(fd, n, off) for fd in fds]
        assert got[0] == got[1], "step %d: pread(%d, %d) differs" % (step, n, off)
    else:
        size = rnd.randrange(0, 1100000)
        for fd in fds:
            os.ftruncate(fd, size)
    sizes = [os.fstat(fd).st_size for fd in fds]
    assert sizes[0] == sizes[1], "step %d: sizes %s" % (step, sizes)
for fd in fds:
    os.fsync(fd)
    os.close(fd)
PY
cmp "$PLAIN/odd" "$ref/odd" || fail "odd-offset file differs"
cp "$PLAIN/c" "$ref/c"
vol_remount
cmp "$PLAIN/odd" "$ref/odd" || fail "odd-offset file differs after remount"
cmp "$PLAIN/c" "$ref/c" || fail "c differs after remount"
assert_eq "$(cat "$PLAIN/appended")" "$(printf 'line 0\nline 1\nline 2')" "appended after remount"
assert_eq "$(cat "$PLAIN/big")" "tiny" "O_TRUNC'd file after remount"
