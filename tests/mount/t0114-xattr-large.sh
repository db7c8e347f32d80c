#!/usr/bin/env bash
# Large user.* xattr values. An encrypted value costs 40 bytes more than the
# plaintext, and its name becomes "user.b." + the encrypted name, so on ext4
# (all of an inode's attributes in one 4 KiB block) values up to about
# 3.9 KiB fit (docs/FORMAT.md, section 7). A 3800-byte value round-trips next
# to a small one and survives a remount; a value the backing store cannot
# hold fails with the store's error (ENOSPC on ext4) and leaves the existing
# attributes intact; no value text reaches the backing store.
. "$(dirname "$0")/../lib.sh"
command -v setfattr >/dev/null && command -v getfattr >/dev/null || skip "setfattr/getfattr (package attr) not installed"
vol_setup
val() { python3 -c 'import sys; n=int(sys.argv[1]); print(("LARGEXATTRMARKER" + "".join(chr(97 + i % 26) for i in range(n)))[:n], end="")' "$1"; }
big=$(val 3800)
assert_eq "${#big}" "3800" "value length"
echo data >"$PLAIN/f"
setfattr -n user.small -v "s" "$PLAIN/f" || fail "small attribute"
out=$(setfattr -n user.large -v "$big" "$PLAIN/f" 2>&1) || fail "setfattr of a 3800-byte value: $out"
assert_eq "$(getfattr --only-values -n user.large "$PLAIN/f")" "$big" "3800-byte value read back"
assert_eq "$(getfattr --only-values -n user.small "$PLAIN/f")" "s" "small value"
vol_remount
assert_eq "$(getfattr --only-values -n user.large "$PLAIN/f")" "$big" "3800-byte value after remount"

# too big for one ext4 xattr block once encrypted: a clean error, nothing lost
huge=$(val 4080)
touch "$T/probe"
if setfattr -n user.huge -v "$huge" "$T/probe" 2>/dev/null; then
  out=$(setfattr -n user.huge -v "$huge" "$PLAIN/f" 2>&1) && fail "a 4080-byte value fit after encryption?"
  [[ $out == *"No space left on device"* || $out == *"Argument list too long"* ]] || fail "unclear error: $out"
fi
assert_eq "$(getfattr --only-values -n user.large "$PLAIN/f")" "$big" "large value after a refused set"
assert_eq "$(getfattr --only-values -n user.small "$PLAIN/f")" "s" "small value after a refused set"
assert_eq "$(cat "$PLAIN/f")" "data" "content"
vol_umount
! grep -raqF LARGEXATTRMARKER "$CIPHER" || fail "value in a backing file"
! getfattr -d -m - -R --absolute-names "$CIPHER" 2>/dev/null | grep -qF LARGEXATTRMARKER || fail "value in clear in backing xattrs"
