#!/usr/bin/env bash
# readdir and readdirplus of a directory with 3000 entries (short, UTF-8,
# spaces, 200-255 byte names stored hashed, files, dirs, symlinks): every
# name listed exactly once, and ls -l (readdirplus) shows the right types,
# modes, link counts, sizes and symlink targets; again after a remount.
. "$(dirname "$0")/../lib.sh"
vol_setup
ref=$T/ref
mkdir -p "$ref/big" "$PLAIN/big"

make_tree() { # dir
  python3 - "$1" <<'PY'
import os, sys
d = sys.argv[1]
modes = [0o644, 0o600, 0o755, 0o640, 0o400, 0o750]
for i in range(3000):
    if i % 13 == 0:
        name = ("long%04d-" % i) + "x" * (190 + i % 66)   # 199..255 bytes
        name = name[:255]
    elif i % 7 == 0:
        name = "ünïcødé-%04d-日本語" % i
    elif i % 11 == 0:
        name = "with space %04d" % i
    else:
        name = "f%04d" % i
    p = os.path.join(d, name)
    if i % 17 == 0:
        os.mkdir(p, 0o755)
        if i % 34 == 0:
            os.mkdir(os.path.join(p, "sub"))   # link count 3
    elif i % 19 == 0:
        os.symlink("target-of-%d" % i + "/t" * (i % 9), p)
    else:
        with open(p, "wb") as f:
            f.write(bytes([i % 251]) * (i % 70 + (5000 if i % 23 == 0 else 0)))
        os.chmod(p, modes[i % len(modes)])
PY
}
make_tree "$ref/big"
make_tree "$PLAIN/big"

listing() { # dir -> sorted names, one per line (NUL-safe via python)
  python3 -c 'import os,sys; [print(n) for n in sorted(os.listdir(sys.argv[1]))]' "$1"
}
long_listing() { # dir -> ls -ln without the total line and the times
  (cd "$1" && ls -lnA --time-style=+T --quoting-style=escape) | sed 1d | sed 's/ T / /'
}
check() { # when
  listing "$ref/big" >"$T/want"
  [[ $(wc -l <"$T/want") -eq 3000 ]] || fail "reference tree has $(wc -l <"$T/want") entries"
  # raw getdents: each name exactly once, plus . and ..
  ls -fA "$PLAIN/big" | LC_ALL=C sort >"$T/raw"
  [[ $(wc -l <"$T/raw") -eq 3000 ]] || fail "$1: ls -f lists $(wc -l <"$T/raw") entries, want 3000"
  dups=$(uniq -d "$T/raw")
  [[ -z $dups ]] || fail "$1: names listed more than once: $(head -c 300 <<<"$dups")"
  listing "$PLAIN/big" >"$T/got"
  diff "$T/want" "$T/got" >"$T/diff" || fail "$1: listing differs: $(head -c 600 "$T/diff")"
  # readdirplus: attributes as ls -l shows them
  long_listing "$ref/big" >"$T/lwant"
  long_listing "$PLAIN/big" >"$T/lgot"
  diff "$T/lwant" "$T/lgot" >"$T/ldiff" || fail "$1: ls -l differs: $(head -c 800 "$T/ldiff")"
  # a second pass over the same open directory (rewinddir) gives the same
  python3 - "$PLAIN/big" <<'PY' || fail "$1: rewinddir pass differs"
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
a = sorted(os.listdir(fd)); b = sorted(os.listdir(fd))
assert a == b and len(a) == 3000, (len(a), len(b))
PY
}
check "fresh"
vol_remount
check "after remount"
# readdir of a directory with entries removed: exactly the rest
python3 - "$PLAIN/big" "$ref/big" <<'PY'
import os, sys, shutil
for d in sys.argv[1:]:
    for n in sorted(os.listdir(d))[::3]:
        p = os.path.join(d, n)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.unlink(p)
PY
listing "$ref/big" >"$T/want"; listing "$PLAIN/big" >"$T/got"
diff "$T/want" "$T/got" >/dev/null || fail "listing after removing every third entry differs"
[[ $(wc -l <"$T/got") -eq 2000 ]] || fail "$(wc -l <"$T/got") entries left, want 2000"
