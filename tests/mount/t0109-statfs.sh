#!/usr/bin/env bash
# statfs: df works on the mount and names it, stat -f reports a name length
# of 255 and the backing store's block size and total blocks; the mount is
# fuse.byokfs with default_permissions.
. "$(dirname "$0")/../lib.sh"
vol_setup
assert_eq "$(stat -f -c %l "$PLAIN")" "255" "namelen (stat -f)"
assert_eq "$(stat -f -c '%S %b' "$PLAIN")" "$(stat -f -c '%S %b' "$CIPHER")" "block size and total blocks vs backing store"
out=$(df -P "$PLAIN") || fail "df failed: $out"
line=$(tail -n 1 <<<"$out")
[[ $line == "byokfs:$CIPHER "* && $line == *" $PLAIN" ]] || fail "df line: $line"
python3 - "$PLAIN" <<'PY' || fail "statvfs"
import os, sys
s = os.statvfs(sys.argv[1])
assert s.f_namemax == 255, s.f_namemax
assert s.f_blocks > 0 and s.f_bsize > 0 and s.f_bavail <= s.f_bfree <= s.f_blocks, s
PY
assert_eq "$(findmnt -n -o FSTYPE "$PLAIN")" "fuse.byokfs" "fstype"
[[ ,$(findmnt -n -o OPTIONS "$PLAIN"), == *,default_permissions,* ]] || fail "mount options: $(findmnt -n -o OPTIONS "$PLAIN")"
# a 255-byte name works, 256 bytes is "File name too long"
n255=$(printf 'n%.0s' $(seq 255)); n256=${n255}x
echo ok >"$PLAIN/$n255"
assert_eq "$(cat "$PLAIN/$n255")" "ok" "255-byte name"
expect_errno "File name too long" touch "$PLAIN/$n256"
