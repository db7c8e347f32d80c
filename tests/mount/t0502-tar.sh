#!/usr/bin/env bash
# A tar round trip: a tree on ext4 (under the test dir) with files of many
# sizes, empty files and dirs, symlinks (relative, absolute, dangling),
# hard-link groups across directories, 255-byte names and UTF-8 names,
# modes and mtimes; tar it, untar into the mount, diff -r against the
# original, same hard-link inode groups, same types/modes/sizes/mtimes/
# link targets; tar back out of the mount (sorted) and compare the archive
# listings; again after a remount.
. "$(dirname "$0")/../lib.sh"
vol_setup
src=$T/src
mkdir -p "$src"
python3 - "$src" <<'PY'
import os, sys, random
root = sys.argv[1]
rnd = random.Random(42)
n255 = "N" * 250 + "-255x"
assert len(n255.encode()) == 255
u255 = "é" * 127 + "z"               # 255 bytes of UTF-8
assert len(u255.encode()) == 255
dirs = ["a", "a/b", "a/b/c", "émoji-📁", "日本語/ディレクトリ", "empty-dir", n255, "spaces in dir"]
for d in dirs:
    os.makedirs(os.path.join(root, d), exist_ok=True)
sizes = [0, 1, 100, 4095, 4096, 4097, 65536, 100000, 1048577]
names = ["plain.txt", "Ünïcödé-ﬁle.txt", "файл.bin", "中文文件", "tab\tand newline\nname", n255, u255, "-leading-dash", ".hidden"]
i = 0
for d in [d for d in dirs if d != "empty-dir"]:
    for nm in names:
        p = os.path.join(root, d, nm)
        with open(p, "wb") as f:
            f.write(rnd.randbytes(sizes[i % len(sizes)]))
        os.chmod(p, [0o644, 0o600, 0o755, 0o444, 0o640][i % 5])
        os.utime(p, ns=(1_000_000_000_123_456_789 + i * 1000, 1_100_000_000_987_654_321 + i * 1000))
        i += 1
# hard-link groups across directories
os.link(os.path.join(root, "a/plain.txt"), os.path.join(root, "a/b/hard1"))
os.link(os.path.join(root, "a/plain.txt"), os.path.join(root, "日本語/hard2"))
os.link(os.path.join(root, n255, u255), os.path.join(root, "a/b/c/hard-utf8"))
# symlinks
os.symlink("../plain.txt", os.path.join(root, "a/b/rel-link"))
os.symlink("/etc/hostname", os.path.join(root, "abs-link"))
os.symlink("does/not/exist", os.path.join(root, "a/dangling"))
os.symlink(u255, os.path.join(root, n255, "link-to-utf8"))
os.symlink("日本語/ディレクトリ", os.path.join(root, "dir-link-ünï"))
os.chmod(os.path.join(root, "a/b"), 0o750)
for d in reversed(dirs):
    os.utime(os.path.join(root, d), ns=(1_200_000_000_000_000_000, 1_200_000_000_000_000_000))
PY
tar --format=posix --sort=name -C "$src" -cf "$T/in.tar" .
tar --format=posix --same-owner -p -C "$PLAIN" -xf "$T/in.tar" || fail "untar into the mount failed"

meta() { # dir -> one line per object: path type mode size mtime target
  (cd "$1" && find . -printf '%p\t%y\t%m\t%s\t%T@\t%l\t%U:%G\n' | LC_ALL=C sort)
}
links() { # dir -> hard-link groups (regular files with >1 link), as sorted path lists
  (cd "$1" && find . -type f -links +1 -printf '%i\t%p\n') |
    python3 -c '
import sys, collections
g = collections.defaultdict(list)
for line in sys.stdin.read().split("\n"):
    if line:
        ino, p = line.split("\t", 1); g[ino].append(p)
for grp in sorted(sorted(v) for v in g.values()):
    print(" | ".join(grp))'
}
check() { # when
  diff -r --no-dereference "$src" "$PLAIN" >"$T/diff" 2>&1 || fail "$1: diff -r differs: $(head -c 600 "$T/diff")"
  meta "$src" >"$T/meta.src"; meta "$PLAIN" >"$T/meta.mnt"
  # the root directory itself differs (mount point): drop the "." line
  diff <(grep -v '^\.	' "$T/meta.src") <(grep -v '^\.	' "$T/meta.mnt") >"$T/mdiff" ||
    fail "$1: metadata differs: $(head -c 800 "$T/mdiff")"
  links "$src" >"$T/links.src"; links "$PLAIN" >"$T/links.mnt"
  [[ $(wc -l <"$T/links.src") -eq 2 ]] || fail "reference tree has $(wc -l <"$T/links.src") hard-link groups"
  diff "$T/links.src" "$T/links.mnt" || fail "$1: hard-link groups differ"
  # tar back out of the mount and compare the listings
  tar --format=posix --sort=name -C "$PLAIN" -cf "$T/out.tar" . || fail "$1: tar of the mount failed"
  diff <(tar -tvf "$T/in.tar" --full-time) <(tar -tvf "$T/out.tar" --full-time) >"$T/tdiff" ||
    fail "$1: archive listings differ: $(head -c 800 "$T/tdiff")"
}
check "fresh"
vol_remount
check "after remount"
