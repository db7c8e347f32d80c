#!/usr/bin/env bash
# byokfs rotate, offline: the slot's key is replaced in O(1) (no backing
# file but the descriptor changes: same inodes, sizes and contents);
# files read with the new key and not with the old (exit 4 "wrong key");
# keyslot list shows the new key. With two slots --slot is needed (exit 2,
# naming the slots); an unknown slot (2), the slot's own key again (2),
# another slot's key (7), a wrong current key (--with: 4), a missing new
# key file (4) and, for a local key, no --key (2: nothing to rewrap
# under) all leave the descriptor as it was. Rotating a second slot
# leaves the first one working. (The root directory's mtime changes: the
# descriptor is renamed into it.)
. "$(dirname "$0")/../lib.sh"
K1=$T/k1.key K2=$T/k2.key K3=$T/k3.key K4=$T/k4.key
for k in "$K1" "$K2" "$K3" "$K4"; do byokfs keygen "$k" 2>/dev/null; done
KEY=$K1
vol_setup
mkdir "$PLAIN/d"
head -c 100000 /dev/urandom >"$T/big"; cp "$T/big" "$PLAIN/d/big"
echo small >"$PLAIN/small"
vol_umount
D=$CIPHER/.byokfs.volume
id=$(sed -n 's/^id = //p' "$D")
snap() { (cd "$CIPHER" && find . -mindepth 1 ! -name .byokfs.volume -printf '%p %i %s %T@\n' | LC_ALL=C sort
         find . -type f ! -name .byokfs.volume -exec sha256sum {} + | LC_ALL=C sort -k2); }
snap >"$T/before"
run() { rc=0; out=$("$BYOKFS" "$@" 2>"$T/err") || rc=$?; err=$(cat "$T/err"); }

run rotate "$CIPHER" --key "local:$K2"
assert_eq "$rc" 0 "rotate: exit ($err)"
assert_eq "$out" "rotated key slot 'primary' of volume $id: local:$K2 (was local:$K1)" "rotate: stdout"
[[ -z $err ]] || fail "rotate: stderr '$err'"
snap >"$T/after"
diff "$T/before" "$T/after" || fail "rotate touched backing files"
assert_eq "$(byokfs keyslot list "$CIPHER")" "primary	local	$K2" "list after rotate"
expect_fail 4 "does not open this volume (wrong key)" byokfs mount --key "local:$K1" "$CIPHER" "$PLAIN"
! mountpoint -q "$PLAIN" || fail "the old key mounted the volume"
vol_mount
cmp "$PLAIN/d/big" "$T/big" || fail "big file after rotate"
assert_eq "$(cat "$PLAIN/small")" small "small file after rotate"
vol_umount
vol_mount --key "local:$K2"
vol_umount

# refusals
byokfs keyslot add "$CIPHER" --key "local:$K3" --name dr >/dev/null
cp "$D" "$T/desc.before"
expect_fail 2 "has 2 key slots (primary, dr): name one with --slot" byokfs rotate "$CIPHER" --key "local:$K4"
expect_fail 2 "has no key slot 'nope'" byokfs rotate "$CIPHER" --key "local:$K4" --slot nope
expect_fail 2 "is the key of slot 'primary' already" byokfs rotate "$CIPHER" --key "local:$K2" --slot primary
expect_fail 7 "already has key slot 'dr'" byokfs rotate "$CIPHER" --key "local:$K3" --slot primary
expect_fail 4 "wrong key" byokfs rotate "$CIPHER" --key "local:$K4" --slot primary --with "local:$K3"
expect_fail 4 "missing" byokfs rotate "$CIPHER" --key "local:$T/none.key" --slot primary
expect_fail 2 "provider 'local' has no key versions to rewrap under: give the new key with --key" \
  byokfs rotate "$CIPHER" --slot primary
mv "$K2" "$K2.moved"
expect_fail 4 "missing" byokfs rotate "$CIPHER" --key "local:$K4" --slot primary
mv "$K2.moved" "$K2"
cmp "$D" "$T/desc.before" || fail "a refused rotate changed the descriptor"

# the current key moved: --with names it
mv "$K3" "$T/k3-moved.key"
run rotate "$CIPHER" --slot dr --key "local:$K4" --with "local:$T/k3-moved.key"
assert_eq "$rc" 0 "rotate --with: exit ($err)"
assert_eq "$out" "rotated key slot 'dr' of volume $id: local:$K4 (was local:$K3)" "rotate --with"
assert_eq "$(byokfs keyslot list "$CIPHER")" "primary	local	$K2
dr	local	$K4" "list after the second rotate"
for k in "$K2" "$K4"; do
  vol_mount --key "local:$k"
  cmp "$PLAIN/d/big" "$T/big" || fail "big file with $k"
  vol_umount
done
expect_fail 4 "wrong key" byokfs mount --key "local:$T/k3-moved.key" "$CIPHER" "$PLAIN"
run rotate --help
[[ $rc -eq 0 && $out == "usage: byokfs rotate"* && -z $err ]] || fail "rotate --help"
run rotate
[[ $rc -eq 2 && $err == "usage: byokfs rotate"* ]] || fail "rotate without arguments: $rc"
