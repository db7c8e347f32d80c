#!/usr/bin/env bash
# Mounting with the wrong key (--key local:OTHER) or a missing key file:
# exit 4, one "byokfs: " line, nothing mounted, the mount point still an
# ordinary empty directory, the backing store unchanged; the right key then
# mounts and the data is intact.
. "$(dirname "$0")/../lib.sh"
vol_setup
echo "secret" >"$PLAIN/f"
vol_umount
byokfs keygen "$T/other.key" 2>/dev/null
snap() { (cd "$CIPHER" && find . -printf '%p %s %T@\n' | LC_ALL=C sort; find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2); }
snap >"$T/before"
expect_fail 4 "wrong key" byokfs mount --key "local:$T/other.key" "$CIPHER" "$PLAIN"
! mountpoint -q "$PLAIN" || fail "mounted with the wrong key"
assert_eq "$(ls -A "$PLAIN" | wc -l)" "0" "mount point after refused mount"
expect_fail 4 "missing" byokfs mount --key "local:$T/no-such.key" "$CIPHER" "$PLAIN"
! mountpoint -q "$PLAIN" || fail "mounted with a missing key"
# the slot's own key moved away: denied too
mv "$KEY" "$T/moved.key"
expect_fail 4 "missing" byokfs mount "$CIPHER" "$PLAIN"
! mountpoint -q "$PLAIN" || fail "mounted with the slot's key missing"
# a key of the wrong size
head -c 31 /dev/urandom >"$T/short.key"; chmod 600 "$T/short.key"
expect_fail 4 "not a byokfs key" byokfs mount --key "local:$T/short.key" "$CIPHER" "$PLAIN"
! mountpoint -q "$PLAIN" || fail "mounted with a 31-byte key"
snap >"$T/after"
diff "$T/before" "$T/after" || fail "refused mounts changed the backing store"
mv "$T/moved.key" "$KEY"
vol_mount --key "local:$KEY"
assert_eq "$(cat "$PLAIN/f")" "secret" "data after the right key"
