#!/usr/bin/env bash
# A key file readable or writable by group or others is refused, at init
# and at mount: exit 4, one "byokfs: " line saying "group or others",
# nothing created or mounted. chmod 600 makes it work again.
. "$(dirname "$0")/../lib.sh"
byokfs keygen "$KEY" 2>/dev/null
for mode in 0644 0640 0604 0660 0602; do
  chmod "$mode" "$KEY"
  expect_fail 4 "group or others" byokfs init --key "local:$KEY" "$CIPHER"
  [[ ! -e $CIPHER ]] || fail "init with a $mode key created the backing dir"
done
mkdir -p "$CIPHER"
chmod 0644 "$KEY"
expect_fail 4 "group or others" byokfs init --key "local:$KEY" "$CIPHER"
assert_eq "$(ls -A "$CIPHER" | wc -l)" "0" "backing dir after refused init"
chmod 0600 "$KEY"
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null || fail "init with a 0600 key"
mkdir -p "$PLAIN"
for mode in 0644 0640 0604; do
  chmod "$mode" "$KEY"
  expect_fail 4 "group or others" byokfs mount "$CIPHER" "$PLAIN"
  ! mountpoint -q "$PLAIN" || fail "mounted with a $mode key"
  expect_fail 4 "group or others" byokfs mount --key "local:$KEY" "$CIPHER" "$PLAIN"
  ! mountpoint -q "$PLAIN" || fail "mounted with a $mode key (--key)"
done
chmod 0400 "$KEY"
vol_mount
echo ok >"$PLAIN/f"
assert_eq "$(cat "$PLAIN/f")" "ok" "mount with a 0400 key"
