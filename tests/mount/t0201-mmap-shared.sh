#!/usr/bin/env bash
# Shared writable mmap: stores through MAP_SHARED (across block boundaries,
# first and last byte, into a region grown by ftruncate), msync, munmap;
# then read through a fresh descriptor, through read() while still mapped,
# through a second mapping, and after a remount: exactly the expected bytes.
. "$(dirname "$0")/../lib.sh"
vol_setup
head -c 20000 /dev/urandom >"$T/orig"
cp "$T/orig" "$PLAIN/m"
python3 - "$PLAIN/m" "$T/orig" "$T/expected" <<'PY' || fail "mmap checks"
import mmap, os, sys, random
path, orig, expected = sys.argv[1:]
exp = bytearray(open(orig, "rb").read())
rnd = random.Random(7)
fd = os.open(path, os.O_RDWR)
mm = mmap.mmap(fd, 20000, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
assert mm[:] == bytes(exp), "mapping does not show the file"
for off, n in [(0, 1), (4090, 12), (8191, 2), (12288, 4096), (19999, 1), (1000, 3000)]:
    data = rnd.randbytes(n)
    mm[off:off + n] = data
    exp[off:off + n] = data
mm.flush()                      # msync(MS_SYNC)
# read() of the same file through another descriptor sees the stores
fd2 = os.open(path, os.O_RDONLY)
assert os.pread(fd2, 30000, 0) == bytes(exp), "read() after msync differs"
os.close(fd2)
mm.close()                      # munmap
# grow the file, map the new size, write into the new region
os.ftruncate(fd, 30000)
exp += bytes(10000)
mm = mmap.mmap(fd, 30000, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
assert mm[20000:30000] == bytes(10000), "grown region not zero in the mapping"
mm[25000:25010] = b"0123456789"
exp[25000:25010] = b"0123456789"
mm[29999:30000] = b"Z"
exp[29999] = ord("Z")
mm.flush()
mm.close()
os.close(fd)
# a second, read-only shared mapping through a fresh descriptor
fd = os.open(path, os.O_RDONLY)
mm = mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ)
assert mm[:] == bytes(exp), "fresh mapping differs"
mm.close(); os.close(fd)
open(expected, "wb").write(exp)
PY
cmp "$PLAIN/m" "$T/expected" || fail "fresh read differs"
assert_file_size "$PLAIN/m" 30000

# stores through a mapping without an explicit msync, then munmap + close:
# written back at the latest by the close
python3 - "$PLAIN/m2" <<'PY'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 3 * 4096 + 5)
mm = mmap.mmap(fd, 3 * 4096 + 5)
mm[:] = b"m" * (3 * 4096 + 5)
mm.close(); os.fsync(fd); os.close(fd)
PY
cmp "$PLAIN/m2" <(head -c $((3 * 4096 + 5)) /dev/zero | tr '\0' m) || fail "m2 after munmap+fsync"
vol_remount
cmp "$PLAIN/m" "$T/expected" || fail "mmap-written file differs after remount"
cmp "$PLAIN/m2" <(head -c $((3 * 4096 + 5)) /dev/zero | tr '\0' m) || fail "m2 after remount"
