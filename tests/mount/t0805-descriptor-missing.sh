#!/usr/bin/env bash
# No volume descriptor: a volume whose .byokfs.volume was removed, an empty
# directory, a directory of ordinary files, a missing backing directory:
# byokfs mount exits 3 with one "byokfs: " line, nothing is mounted and
# nothing is created in the backing directory.
. "$(dirname "$0")/../lib.sh"
vol_setup
echo data >"$PLAIN/f"
vol_umount
mv "$CIPHER/.byokfs.volume" "$T/descriptor"
ls -A "$CIPHER" | LC_ALL=C sort >"$T/before"
expect_fail 3 "not a byokfs volume" byokfs mount "$CIPHER" "$PLAIN"
! mountpoint -q "$PLAIN" || fail "mounted without a descriptor"
expect_fail 3 "not a byokfs volume" byokfs mount --key "local:$KEY" "$CIPHER" "$PLAIN"
ls -A "$CIPHER" | LC_ALL=C sort >"$T/after"
diff "$T/before" "$T/after" || fail "refused mount changed the backing dir"
mkdir "$T/empty"
expect_fail 3 "not a byokfs volume" byokfs mount --key "local:$KEY" "$T/empty" "$PLAIN"
[[ -z $(ls -A "$T/empty") ]] || fail "refused mount wrote into an empty dir"
mkdir "$T/plaindir"; echo hi >"$T/plaindir/readme"
expect_fail 3 "not a byokfs volume" byokfs mount "$T/plaindir" "$PLAIN"
rc=0; out=$(byokfs mount "$T/no-such-dir" "$PLAIN" 2>&1) || rc=$?
[[ $rc -eq 3 && $out == "byokfs: "* && $(wc -l <<<"$out") -eq 1 ]] || fail "missing backing dir: exit $rc: $out"
! mountpoint -q "$PLAIN" || fail "something got mounted"
mv "$T/descriptor" "$CIPHER/.byokfs.volume"
vol_mount
assert_eq "$(cat "$PLAIN/f")" "data" "data after restoring the descriptor"
