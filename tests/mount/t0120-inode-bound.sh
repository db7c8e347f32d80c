#!/usr/bin/env bash
# The mount holds at most max_inodes inodes: past that it asks the kernel to
# forget the least recently used names (the kernel caches inodes until
# memory runs short; each costs the daemon a descriptor). With
# -o max_inodes=2000, 12,000 files are created, listed, read and renamed
# correctly while the daemon's open descriptors stay near the bound, and a
# pruned name resolves again. -o max_inodes below 1024 is refused.
. "$(dirname "$0")/../lib.sh"
vol_setup
vol_umount
vol_mount -o max_inodes=2000
pid=$(pgrep -f "byokfs mount -o max_inodes=2000 $CIPHER" | head -n 1)
[[ -n $pid ]] || fail "no daemon"
python3 - "$PLAIN" <<'PY' || fail "create"
import os, sys
for d in range(24):
    os.mkdir(os.path.join(sys.argv[1], "d%02d" % d))
    for f in range(500):
        with open(os.path.join(sys.argv[1], "d%02d" % d, "f%03d" % f), "w") as fh:
            fh.write("%d/%d\n" % (d, f))
PY
sleep 0.5
fds=$(ls /proc/$pid/fd | wc -l)
note "descriptors after 12,000 creates: $fds"
[[ $fds -lt 2600 ]] || fail "$fds descriptors held with max_inodes=2000"
[[ $(find "$PLAIN" -type f | wc -l) -eq 12000 ]] || fail "listing"
python3 - "$PLAIN" <<'PY' || fail "read back"
import os, sys
for d in range(24):
    for f in range(500):
        p = os.path.join(sys.argv[1], "d%02d" % d, "f%03d" % f)
        assert open(p).read() == "%d/%d\n" % (d, f), p
PY
mv "$PLAIN/d00/f000" "$PLAIN/d23/moved"
[[ $(cat "$PLAIN/d23/moved") == "0/0" ]] || fail "rename of a pruned name"
fds=$(ls /proc/$pid/fd | wc -l)
[[ $fds -lt 2600 ]] || fail "$fds descriptors after reading everything"
vol_umount
expect_fail 2 "bad mount option 'max_inodes=10'" "$BYOKFS" mount -o max_inodes=10 "$CIPHER" "$PLAIN"
