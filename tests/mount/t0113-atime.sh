#!/usr/bin/env bash
# Opening a file without reading it must not change its access time (it
# does not on ext4): open(O_WRONLY) + close, open(O_RDONLY) + close, and
# `touch -m -d` (which opens the file, then sets only the mtime) keep the
# atime. Mounted with attr_timeout=0 so stat shows fresh attributes.
. "$(dirname "$0")/../lib.sh"
export TZ=UTC
mkdir -p "$PLAIN"
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null
vol_mount -o attr_timeout=0,entry_timeout=0
echo data >"$PLAIN/f"
old=946684799 # 1999-12-31 23:59:59, older than a day: relatime would update it on a read
reset() { touch -a -d "@$old" "$PLAIN/f"; assert_eq "$(stat -c %X "$PLAIN/f")" "$old" "atime set"; }

reset
python3 -c 'import os,sys; os.close(os.open(sys.argv[1], os.O_WRONLY))' "$PLAIN/f"
assert_eq "$(stat -c %X "$PLAIN/f")" "$old" "atime after open(O_WRONLY)+close"
reset
python3 -c 'import os,sys; os.close(os.open(sys.argv[1], os.O_RDONLY))' "$PLAIN/f"
assert_eq "$(stat -c %X "$PLAIN/f")" "$old" "atime after open(O_RDONLY)+close"
reset
touch -m -d '2010-06-07 08:09:10' "$PLAIN/f"
assert_eq "$(stat -c '%X %Y' "$PLAIN/f")" "$old 1275898150" "touch -m: mtime set, atime kept"
reset
ls -l "$PLAIN" >/dev/null; stat "$PLAIN/f" >/dev/null
assert_eq "$(stat -c %X "$PLAIN/f")" "$old" "atime after ls -l and stat"
