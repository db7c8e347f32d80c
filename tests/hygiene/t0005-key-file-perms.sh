#!/usr/bin/env bash
# Key files that others could read or swap are refused, everywhere a key is
# read: init, mount, unlock and a live mount's lease. Each of the six
# group/other permission bits alone is refused with "group or others"
# (exit 4), as is a key owned by another user, a symlink, a directory and a
# file of the wrong size; modes 0600, 0400 and 0700 work. (A FIFO is not
# tried: opening one blocks until a writer comes, reported as a bug.) A
# live mount whose key file becomes group-readable is revoked at once;
# unlock refuses until it is fixed. keygen makes 0600 files even under
# umask 000, never overwrites, and never follows a symlink.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/hygiene.sh"
OTHER_UID=65534
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null
mkdir -p "$PLAIN"

refused() { # what pattern
  local what=$1 pat=$2
  expect_fail 4 "$pat" byokfs init --key "local:$KEY" "$T/new-$RANDOM"
  expect_fail 4 "$pat" byokfs mount "$CIPHER" "$PLAIN"
  ! mountpoint -q "$PLAIN" || fail "mounted with $what"
  expect_fail 4 "$pat" byokfs mount --key "local:$KEY" "$CIPHER" "$PLAIN"
  ! mountpoint -q "$PLAIN" || fail "mounted with $what (--key)"
}

for mode in 0640 0620 0610 0604 0602 0601 0644 0666 0777; do
  chmod "$mode" "$KEY"
  refused "a $mode key" "group or others"
done
for mode in 0600 0400 0700; do
  chmod "$mode" "$KEY"
  vol_mount
  vol_umount
done
chmod 0600 "$KEY"

chown "$OTHER_UID" "$KEY"
refused "a key owned by uid $OTHER_UID" "owned by uid $OTHER_UID"
chown 0 "$KEY"

mv "$KEY" "$KEY.real"
ln -s "$KEY.real" "$KEY"
refused "a symlinked key" "symlink"
rm "$KEY"
mkdir "$KEY"
refused "a directory" "not a regular file"
rmdir "$KEY"
head -c 33 /dev/urandom >"$KEY"; chmod 600 "$KEY"
refused "a 33-byte key" "not a byokfs key"
: >"$KEY"
refused "an empty key" "not a byokfs key"
mv "$KEY.real" "$KEY"

# unlock and the lease read the key file again
vol_mount
echo data >"$PLAIN/f"
chmod 0640 "$KEY"
for i in $(seq 50); do
  [[ $(byokfs status --json "$PLAIN" | sed -n 's/.*"state": "\([a-z]*\)".*/\1/p') == revoked ]] && break
  sleep 0.1
done
assert_eq "$(byokfs status --json "$PLAIN" | sed -n 's/.*"state": "\([a-z]*\)".*/\1/p')" revoked \
  "state after the key became group-readable"
expect_errno "Key has been revoked" cat "$PLAIN/f"
expect_fail 4 "group or others" byokfs unlock "$PLAIN"
chmod 0600 "$KEY"
byokfs unlock "$PLAIN" >/dev/null 2>&1 || fail "unlock after chmod 600"
assert_eq "$(cat "$PLAIN/f")" data "read after unlock"
vol_umount

# keygen: 0600 whatever the umask, no overwrite, no symlink following
(umask 000 && byokfs keygen "$T/k1" 2>/dev/null)
assert_eq "$(stat -c %a "$T/k1")" 600 "mode of a key made under umask 000"
assert_eq "$(stat -c %s "$T/k1")" 32 "size of a new key"
cp "$T/k1" "$T/k1.copy"
expect_fail 7 "already exists" byokfs keygen "$T/k1"
cmp "$T/k1" "$T/k1.copy" || fail "keygen changed an existing key"
ln -s "$T/target" "$T/k2"
! byokfs keygen "$T/k2" 2>/dev/null || fail "keygen wrote through a dangling symlink"
[[ ! -e $T/target ]] || fail "keygen created the target of a symlink"
