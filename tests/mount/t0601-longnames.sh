#!/usr/bin/env bash
# Long names on a volume made with --longname-max 64 (every name of 32 bytes
# or more is stored hashed as .L... plus a .name side file): create, stat,
# read, rename long->long (same dir and across dirs), long->short,
# short->long, over an existing long name, RENAME_NOREPLACE, RENAME_EXCHANGE
# between long names (file<->file, file<->dir), hard links (also rename of
# one link onto another of the same file, a POSIX no-op), unlink,
# mkdir/rmdir of long-named trees, symlinks and FIFOs with long names.
# The same operations run on an ext4 reference tree; afterwards the
# listings and contents are exactly equal, and the backing store has no
# orphan .name side file and no hashed entry without one; again after a
# remount.
. "$(dirname "$0")/../lib.sh"
vol_setup --longname-max 64
grep -qx 'longname_max = 64' "$CIPHER/.byokfs.volume" || fail "descriptor longname_max"
ref=$T/ref; mkdir -p "$ref"

cat >"$T/ops.py" <<'PY'
import os, sys, ctypes
root = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
def renameat2(a, b, flags):
    if libc.renameat2(-100, os.fsencode(a), -100, os.fsencode(b), flags) != 0:
        e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
P = lambda *a: os.path.join(root, *a)
L = lambda tag: ("%s-" % tag) + "l" * (60 - len(tag))           # 61 bytes: long
LL = lambda tag: ("%s-" % tag) + "ü" * 100                       # 200+ bytes, UTF-8
def write(p, data): open(p, "wb").write(data)
def expect_err(fn, errno_):
    try:
        fn(); raise SystemExit("expected errno %d" % errno_)
    except OSError as e:
        assert e.errno == errno_, (e, errno_)
os.mkdir(P(L("dir1"))); os.mkdir(P(L("dir2"))); os.mkdir(P("short"))
for i in range(40):
    write(P(L("dir1"), L("file%02d" % i)), (b"content %d\n" % i) * (i * 50))
write(P(LL("utf8")), b"utf8 long name")
write(P("s1"), b"short one")
# stat and read
assert os.stat(P(L("dir1"), L("file07"))).st_size == len(b"content 7\n") * 350
# rename long -> long (same dir), long -> long (across dirs)
os.rename(P(L("dir1"), L("file00")), P(L("dir1"), L("renamed00")))
os.rename(P(L("dir1"), L("file01")), P(L("dir2"), L("moved01")))
# long -> short, short -> long
os.rename(P(L("dir1"), L("file02")), P("short", "f2"))
os.rename(P("s1"), P(L("dir2"), L("was-short")))
# over an existing long name
os.rename(P(L("dir1"), L("file03")), P(L("dir1"), L("file04")))
# RENAME_NOREPLACE onto a long name
expect_err(lambda: renameat2(P(L("dir1"), L("file05")), P(L("dir1"), L("file06")), 1), 17)
renameat2(P(L("dir1"), L("file05")), P(L("dir2"), L("noreplace05")), 1)
# RENAME_EXCHANGE between long names: files, then a file and a directory
renameat2(P(L("dir1"), L("file08")), P(L("dir1"), L("file09")), 2)
os.mkdir(P(L("dir1"), L("subdir")))
write(P(L("dir1"), L("subdir"), L("inner")), b"inner")
os.mkdir(P(L("dir2"), L("xdir")))
write(P(L("dir2"), L("xdir"), L("x")), b"x")
renameat2(P(L("dir1"), L("file10")), P(L("dir2"), L("xdir")), 2)
assert os.path.isdir(P(L("dir1"), L("file10"))) and os.path.isfile(P(L("dir2"), L("xdir")))
assert open(P(L("dir1"), L("file10"), L("x")), "rb").read() == b"x"
# hard links with long names
os.link(P(L("dir1"), L("file11")), P(L("dir2"), L("hardlink11")))
os.link(P(L("dir1"), L("file12")), P(L("dir1"), L("hardlink12")))
os.unlink(P(L("dir1"), L("file12")))                 # the link keeps the data
os.link(P(L("dir1"), L("file13")), P(L("dir1"), L("hl13b")))
os.rename(P(L("dir1"), L("file13")), P(L("dir1"), L("hl13b")))   # same inode: no-op
expect_err(lambda: os.link(P(L("dir1"), L("file14")), P(L("dir1"), L("file15"))), 17)
# unlink
for i in range(16, 26):
    os.unlink(P(L("dir1"), L("file%02d" % i)))
# mkdir/rmdir of long-named trees
d = P(L("tree"))
os.makedirs(os.path.join(d, L("lvl1"), L("lvl2")))
write(os.path.join(d, L("lvl1"), L("lvl2"), L("leaf")), b"leaf")
expect_err(lambda: os.rmdir(os.path.join(d, L("lvl1"))), 39)
os.unlink(os.path.join(d, L("lvl1"), L("lvl2"), L("leaf")))
os.rmdir(os.path.join(d, L("lvl1"), L("lvl2")))
os.rmdir(os.path.join(d, L("lvl1")))
os.mkdir(os.path.join(d, L("keep")))
expect_err(lambda: os.mkdir(os.path.join(d, L("keep"))), 17)
# rename a long-named directory over an empty long-named directory
os.mkdir(P(L("emptytarget")))
os.rename(P(L("dir1"), L("file10")), P(L("emptytarget")))
assert open(P(L("emptytarget"), L("x")), "rb").read() == b"x"
# symlink and FIFO with long names
os.symlink(L("target"), P(L("dir2"), L("symlink")))
os.mkfifo(P(L("dir2"), L("fifo")))
# create with O_EXCL on an existing long name
expect_err(lambda: os.open(P(L("dir1"), L("file26")), os.O_CREAT | os.O_EXCL | os.O_WRONLY), 17)
PY
python3 "$T/ops.py" "$PLAIN" || fail "operations on the mount failed"
python3 "$T/ops.py" "$ref" || fail "operations on the ext4 reference failed"

tree() { # dir -> path, type, size, content hash, link target
  (cd "$1" && { find . -mindepth 1 -type d -printf '%p\t%y\t%n\n'
                find . -mindepth 1 ! -type d -printf '%p\t%y\t%s\t%l\t%n\n'; } | LC_ALL=C sort
   find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2)
}
orphans() { # backing dir -> problems with long-name bookkeeping
  python3 - "$CIPHER" <<'PY'
import os, sys
n = 0
for dp, dns, fns in os.walk(sys.argv[1]):
    names = set(dns) | set(fns)
    longs = {e for e in names if e.startswith(".L") and not e.endswith(".name")}
    sides = {e[:-5] for e in names if e.startswith(".L") and e.endswith(".name")}
    n += len(longs)
    for e in sorted(sides - longs):
        print("orphan side file %s/%s.name" % (dp, e))
    for e in sorted(longs - sides):
        print("hashed entry without side file %s/%s" % (dp, e))
print("long entries: %d" % n, file=sys.stderr)
PY
}
check() { # when
  tree "$ref" >"$T/want"; tree "$PLAIN" >"$T/got"
  diff "$T/want" "$T/got" >"$T/diff" || fail "$1: tree differs from ext4: $(head -c 1000 "$T/diff")"
  # readdir lists each name once
  (cd "$PLAIN" && find . | LC_ALL=C sort | uniq -d) >"$T/dups"
  [[ ! -s $T/dups ]] || fail "$1: duplicate names: $(cat "$T/dups")"
  orphans >"$T/orph" 2>"$T/orph.count"
  [[ ! -s $T/orph ]] || fail "$1: backing bookkeeping: $(head -c 800 "$T/orph")"
  n=$(sed -n 's/^long entries: //p' "$T/orph.count")
  [[ $n -ge 40 ]] || fail "$1: only $n hashed long entries in the backing store: the test does not exercise long names"
}
check "fresh"
vol_remount
check "after remount"
# remove everything: nothing but bookkeeping of the root remains
rm -rf "${PLAIN:?}"/* "${PLAIN:?}"/.[!.]* 2>/dev/null || true
assert_eq "$(ls -A "$PLAIN" | wc -l)" "0" "mount empty after rm -rf"
assert_eq "$(ls -A "$CIPHER" | LC_ALL=C sort | tr '\n' ' ')" ".byokfs.dirid .byokfs.volume " "backing root after rm -rf"
