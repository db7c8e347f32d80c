#!/usr/bin/env bash
# byokfs keygen never overwrites: over an existing key, an arbitrary file,
# a symlink (dangling or not) it exits 7 with one "byokfs: " line and
# changes nothing (content, mode, mtime; the symlink's target is not
# created). A new key file is 32 bytes, mode 0600.
. "$(dirname "$0")/../lib.sh"
byokfs keygen "$KEY" 2>/dev/null || fail "keygen"
assert_eq "$(stat -c '%a %s' "$KEY")" "600 32" "new key file"
before=$(stat -c '%a %s %Y' "$KEY")$(sha "$KEY")
expect_fail 7 "already exists" byokfs keygen "$KEY"
assert_eq "$(stat -c '%a %s %Y' "$KEY")$(sha "$KEY")" "$before" "key after refused keygen"

echo "not a key" >"$T/other"; chmod 644 "$T/other"
touch -d '2001-01-01' "$T/other"
expect_fail 7 "already exists" byokfs keygen "$T/other"
assert_eq "$(cat "$T/other"):$(stat -c '%a %Y' "$T/other")" "not a key:644 978307200" "file after refused keygen"

ln -s "$T/nothere" "$T/dangling"
expect_fail 7 "exists" byokfs keygen "$T/dangling"
[[ ! -e $T/nothere ]] || fail "keygen wrote through a dangling symlink"
ln -s "$KEY" "$T/link-to-key"
expect_fail 7 "exists" byokfs keygen "$T/link-to-key"
assert_eq "$(stat -c '%a %s %Y' "$KEY")$(sha "$KEY")" "$before" "key after keygen on a symlink to it"
# two keys differ
byokfs keygen "$T/second.key" 2>/dev/null
! cmp -s "$KEY" "$T/second.key" || fail "two keygens produced the same key"
# usage
rc=0; out=$(byokfs keygen 2>&1) || rc=$?
[[ $rc -eq 2 ]] || fail "keygen without a path: exit $rc"
