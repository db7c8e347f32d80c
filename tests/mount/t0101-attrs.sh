#!/usr/bin/env bash
# lookup/getattr and setattr on a real mount: types and sizes, chmod, chown
# to another uid, utimens (touch -d, -a, -m, -h), truncate up and down (ftruncate
# through an open fd too), all checked again after a remount.
. "$(dirname "$0")/../lib.sh"
export TZ=UTC
vol_setup
ref=$T/ref; mkdir -p "$ref"

# ---- lookup / getattr ----
head -c 5000 /dev/urandom >"$ref/f"
cp "$ref/f" "$PLAIN/f"
mkdir "$PLAIN/d"
ln -s f "$PLAIN/l"
assert_eq "$(stat -c '%F %s' "$PLAIN/f")" "regular file 5000" "stat of a file"
assert_eq "$(stat -c '%F' "$PLAIN/d")" "directory" "stat of a dir"
assert_eq "$(stat -c '%F %s' "$PLAIN/l")" "symbolic link 1" "lstat of a symlink"
assert_eq "$(stat -L -c '%F %s' "$PLAIN/l")" "regular file 5000" "stat through a symlink"
expect_errno "No such file or directory" stat "$PLAIN/missing"
expect_errno "Not a directory" stat "$PLAIN/f/x"
# a negative lookup must not stick once the name exists
echo new >"$PLAIN/missing"
assert_eq "$(cat "$PLAIN/missing")" "new" "name created after a failed lookup"

# ---- chmod ----
chmod 0640 "$PLAIN/f"
assert_eq "$(stat -c %a "$PLAIN/f")" "640" "chmod 0640"
chmod 4751 "$PLAIN/f"
assert_eq "$(stat -c %a "$PLAIN/f")" "4751" "chmod 4751 (setuid kept by root)"
chmod 0600 "$PLAIN/f"
chmod 2770 "$PLAIN/d"
assert_eq "$(stat -c %a "$PLAIN/d")" "2770" "chmod on a directory"

# ---- chown (as root, to another uid and gid) ----
[[ $(id -u) -eq 0 ]] || skip "chown to another uid needs root"
chown 12345:23456 "$PLAIN/f"
assert_eq "$(stat -c %u:%g "$PLAIN/f")" "12345:23456" "chown file"
chown -h 3333:4444 "$PLAIN/l"
assert_eq "$(stat -c %u:%g "$PLAIN/l")" "3333:4444" "chown -h on a symlink"
assert_eq "$(stat -c %u:%g "$PLAIN/f")" "12345:23456" "chown -h must not touch the target"
chgrp 777 "$PLAIN/d"
assert_eq "$(stat -c %u:%g "$PLAIN/d")" "0:777" "chgrp dir"
# the content is unaffected by attribute changes
cmp "$PLAIN/f" "$ref/f" || fail "content changed by chmod/chown"

# ---- utimens ----
touch -d '2001-02-03 04:05:06.123456789' "$PLAIN/f"
assert_eq "$(stat -c '%x|%y' "$PLAIN/f")" \
  "2001-02-03 04:05:06.123456789 +0000|2001-02-03 04:05:06.123456789 +0000" "touch -d"
touch -a -d '1999-12-31 23:59:59' "$PLAIN/f"
assert_eq "$(stat -c '%X %Y' "$PLAIN/f")" "946684799 981173106" "touch -a changes atime only"
# utimensat(atime = UTIME_OMIT, mtime = given) on the path, without opening
# the file (touch -m opens it first; that case is t0113's)
utimens_omit_atime() { # path sec nsec
  python3 - "$@" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
class TS(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]
UTIME_OMIT = (1 << 30) - 2
ts = (TS * 2)(TS(0, UTIME_OMIT), TS(int(sys.argv[2]), int(sys.argv[3])))
if libc.utimensat(-100, os.fsencode(sys.argv[1]), ts, 0) != 0:
    sys.exit("utimensat: " + os.strerror(ctypes.get_errno()))
PY
}
utimens_omit_atime "$PLAIN/f" 1276243750 500000000
assert_eq "$(stat -c '%X %y' "$PLAIN/f")" "946684799 2010-06-11 08:09:10.500000000 +0000" "utimensat(UTIME_OMIT, t) changes mtime only"
touch -h -d '2002-02-02 02:02:02' "$PLAIN/l"
assert_eq "$(stat -c %Y "$PLAIN/l")" "1012615322" "touch -h on a symlink"
assert_eq "$(stat -c %y "$PLAIN/f")" "2010-06-11 08:09:10.500000000 +0000" "touch -h must not touch the target"
touch -d '2003-03-03 03:03:03' "$PLAIN/d"
assert_eq "$(stat -c %Y "$PLAIN/d")" "1046660583" "touch on a directory"
before=$(date +%s)
touch "$PLAIN/f"   # UTIME_NOW
now_m=$(stat -c %Y "$PLAIN/f")
[[ $now_m -ge $before && $now_m -le $((before + 5)) ]] || fail "touch (now): mtime $now_m, expected about $before"

# ---- truncate up and down (content and zeros) ----
cp "$ref/f" "$PLAIN/t"
check_t() { # size what
  cp "$ref/f" "$ref/t"; truncate -s "$1" "$ref/t"
  assert_file_size "$PLAIN/t" "$1"
  cmp "$PLAIN/t" "$ref/t" || fail "content after $2 to $1"
}
for s in 20000 12288 8193 8192 4097 4096 4095 100 1 0 65536 3; do
  cp "$ref/f" "$PLAIN/t"
  truncate -s "$s" "$PLAIN/t"
  check_t "$s" "truncate -s"
done
# grow in two steps: bytes past the first cut must read as zeros, not old data
cp "$ref/f" "$PLAIN/t"
truncate -s 1000 "$PLAIN/t"
truncate -s 9000 "$PLAIN/t"
head -c 1000 "$ref/f" >"$ref/t2"; truncate -s 9000 "$ref/t2"
cmp "$PLAIN/t" "$ref/t2" || fail "shrink then grow: stale bytes instead of zeros"
# ftruncate through an open fd (setattr with a file handle), and write after it
python3 - "$PLAIN/t" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.ftruncate(fd, 4100)
os.pwrite(fd, b"tail", 4100)
os.ftruncate(fd, 10)
os.pwrite(fd, b"X", 20)
os.close(fd)
PY
head -c 1000 "$ref/f" | head -c 10 >"$ref/t3"; printf '\0\0\0\0\0\0\0\0\0\0X' >>"$ref/t3"
cmp "$PLAIN/t" "$ref/t3" || fail "ftruncate through an open fd"
cp "$PLAIN/t" "$ref/t-final"
f_attrs=$(stat -c '%a %u:%g %s %x %y' "$PLAIN/f")

# ---- after a remount everything is still there ----
vol_remount
assert_eq "$(stat -c '%a %u:%g %s %x %y' "$PLAIN/f")" "$f_attrs" "file attributes after remount"
[[ $f_attrs == "600 12345:23456 5000 "* ]] || fail "file attributes before remount: $f_attrs"
assert_eq "$(stat -c '%a %u:%g %Y' "$PLAIN/d")" "2770 0:777 1046660583" "dir attributes after remount"
assert_eq "$(stat -c '%u:%g %Y' "$PLAIN/l")" "3333:4444 1012615322" "symlink attributes after remount"
cmp "$PLAIN/f" "$ref/f" || fail "content after remount"
cmp "$PLAIN/t" "$ref/t-final" || fail "truncated file after remount"
