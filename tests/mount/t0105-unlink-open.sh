#!/usr/bin/env bash
# Unlinking a file that is still open: it stays readable, writable,
# truncatable and fstat-able through the open descriptor, the name is free
# for a new, independent file, and the backing file goes away on close.
# Same for a file replaced by rename while open; an open file whose
# directory is renamed keeps writing to the same (moved) file.
. "$(dirname "$0")/../lib.sh"
vol_setup
head -c 20000 /dev/urandom >"$T/data"
cp "$T/data" "$PLAIN/victim"
cp "$T/data" "$PLAIN/replaced"
nfiles_before=$(find "$CIPHER" -type f ! -name '.byokfs*' | wc -l)

python3 - "$PLAIN" "$T/data" <<'PY' || fail "open-unlinked file checks failed"
import os, sys
d, ref = sys.argv[1], open(sys.argv[2], "rb").read()
p = os.path.join(d, "victim")
fd = os.open(p, os.O_RDWR)
os.unlink(p)
assert not os.path.exists(p), "name still visible after unlink"
assert "victim" not in os.listdir(d)
# still readable
assert os.pread(fd, 20000, 0) == ref, "content changed by unlink"
assert os.fstat(fd).st_size == 20000
assert os.fstat(fd).st_nlink == 0, os.fstat(fd).st_nlink
# still writable, at odd offsets and past the end
os.pwrite(fd, b"HELLO", 4093)
os.pwrite(fd, b"END", 25000)
exp = bytearray(ref)
exp[4093:4098] = b"HELLO"
exp += b"\0" * (25000 - len(exp)) + b"END"
assert os.pread(fd, 30000, 0) == bytes(exp), "write to unlinked file not read back"
assert os.fstat(fd).st_size == 25003
os.ftruncate(fd, 5000)
assert os.pread(fd, 30000, 0) == bytes(exp[:5000])
os.fsync(fd)
# a new file under the same name is independent
with open(p, "wb") as f:
    f.write(b"new file")
assert open(p, "rb").read() == b"new file"
assert os.pread(fd, 30000, 0) == bytes(exp[:5000]), "old fd sees the new file"
os.pwrite(fd, b"old", 0)
assert open(p, "rb").read() == b"new file", "write to old fd reached the new file"
# a second descriptor opened before the unlink shares the same file
os.close(fd)

# rename over a file that is open: the open fd keeps the old content
q = os.path.join(d, "replaced")
fd = os.open(q, os.O_RDONLY)
with open(os.path.join(d, "tmpnew"), "wb") as f:
    f.write(b"replacement")
os.rename(os.path.join(d, "tmpnew"), q)
assert os.pread(fd, 30000, 0) == ref, "open fd of a replaced file changed"
assert open(q, "rb").read() == b"replacement"
os.close(fd)

# the directory of an open file is renamed: the fd follows the file
os.makedirs(os.path.join(d, "olddir", "sub"))
r = os.path.join(d, "olddir", "sub", "f")
fd = os.open(r, os.O_RDWR | os.O_CREAT, 0o600)
os.write(fd, b"before ")
os.rename(os.path.join(d, "olddir"), os.path.join(d, "newdir"))
os.write(fd, b"after")
os.fsync(fd)
os.close(fd)
assert open(os.path.join(d, "newdir", "sub", "f"), "rb").read() == b"before after"
assert not os.path.exists(os.path.join(d, "olddir"))
PY
# closed: the unlinked files' backing files are gone; "victim" and
# "replaced" are the new files
sleep 0.2
nfiles_after=$(find "$CIPHER" -type f ! -name '.byokfs*' | wc -l)
assert_eq "$nfiles_after" "$((nfiles_before + 1))" "backing files after unlink/close (victim, replaced, newdir/sub/f)"
vol_remount
assert_eq "$(cat "$PLAIN/victim")" "new file" "new file after remount"
assert_eq "$(cat "$PLAIN/replaced")" "replacement" "replacement after remount"
assert_eq "$(ls "$PLAIN" | tr '\n' ' ')" "newdir replaced victim " "listing after remount"
assert_eq "$(cat "$PLAIN/newdir/sub/f")" "before after" "file written across a directory rename, after remount"
