#!/usr/bin/env bash
# byokfs keyslot list/add/remove with local keys: list prints one exact
# tab-separated line per slot; add wraps the volume key under a second
# key; a mount with only the second key (mount --key) reads the data;
# removing the first slot (unlocked with --with the second key) leaves a
# volume the first key no longer opens (mount and fsck --key: exit 4),
# while the slot's own key ids still mount it. Refusals leave the
# descriptor byte for byte as it was: the last slot (exit 1), a missing
# slot name (2), a name or a key that has a slot already (7), a bad name
# (2), a wrong or missing key for --with (4), a ninth slot (1), no --key
# (2), an unknown subcommand (2); list of a non-volume exits 3.
. "$(dirname "$0")/../lib.sh"
K1=$T/k1.key K2=$T/k2.key K3=$T/k3.key
for k in "$K1" "$K2" "$K3"; do byokfs keygen "$k" 2>/dev/null; done
mkdir -p "$PLAIN"
byokfs init --key "local:$K1" "$CIPHER" >/dev/null
D=$CIPHER/.byokfs.volume
id=$(sed -n 's/^id = //p' "$D")
run() { rc=0; out=$("$BYOKFS" "$@" 2>"$T/err") || rc=$?; err=$(cat "$T/err"); }

run keyslot list "$CIPHER"
assert_eq "$rc" 0 "list: exit"
assert_eq "$out" "primary	local	$K1" "list of a new volume"
[[ -z $err ]] || fail "list: stderr '$err'"

run keyslot add "$CIPHER" --key "local:$K2" --name backup
assert_eq "$rc" 0 "add: exit ($err)"
assert_eq "$out" "added key slot 'backup' (local:$K2) to volume $id" "add: stdout"
run keyslot list "$CIPHER"
assert_eq "$out" "primary	local	$K1
backup	local	$K2" "list after add"
# the default name: slotN, N = the number of slots so far
run keyslot add "$CIPHER" --key "local:$K3"
assert_eq "$rc" 0 "add without --name: exit ($err)"
assert_eq "$out" "added key slot 'slot2' (local:$K3) to volume $id" "add without --name"
run keyslot remove "$CIPHER" slot2
assert_eq "$rc" 0 "remove slot2: exit ($err)"
assert_eq "$out" "removed key slot 'slot2' (local:$K3) from volume $id: 2 left" "remove slot2: stdout"
[[ $err == *"rekey"* ]] || fail "remove: no note about rekeying: '$err'"

# refusals change nothing
cp "$D" "$T/desc.before"
expect_fail 7 "key slot 'backup' exists already" byokfs keyslot add "$CIPHER" --key "local:$K3" --name backup
expect_fail 7 "already has key slot 'primary'" byokfs keyslot add "$CIPHER" --key "local:$K1" --name again
expect_fail 2 "bad key slot name" byokfs keyslot add "$CIPHER" --key "local:$K3" --name "bad name!"
expect_fail 2 "needs --key" byokfs keyslot add "$CIPHER" --name x
byokfs keygen "$T/wrong.key" 2>/dev/null
expect_fail 4 "wrong key" byokfs keyslot add "$CIPHER" --key "local:$K3" --with "local:$T/wrong.key"
expect_fail 4 "missing" byokfs keyslot add "$CIPHER" --key "local:$K3" --with "local:$T/nokey"
expect_fail 4 "wrong key" byokfs keyslot remove "$CIPHER" backup --with "local:$T/wrong.key"
expect_fail 2 "has no key slot 'nosuch'" byokfs keyslot remove "$CIPHER" nosuch
expect_fail 2 "unknown keyslot command 'frob'" byokfs keyslot frob "$CIPHER"
cmp "$D" "$T/desc.before" || fail "a refused keyslot command changed the descriptor"
[[ ! -e $D.tmp ]] || fail "a refused command left $D.tmp"

# only the second key mounts it
mv "$K1" "$K1.away"
byokfs mount --key "local:$K2" "$CIPHER" "$PLAIN"; _mounts+=("$PLAIN")
echo "written with the second key" >"$PLAIN/f"
vol_umount
mv "$K1.away" "$K1"

# remove the first slot, proving the right to with the second key
run keyslot remove "$CIPHER" primary --with "local:$K2"
assert_eq "$rc" 0 "remove primary: exit ($err)"
assert_eq "$out" "removed key slot 'primary' (local:$K1) from volume $id: 1 left" "remove primary"
run keyslot list "$CIPHER"
assert_eq "$out" "backup	local	$K2" "list after removing primary"
expect_fail 4 "does not open this volume (wrong key)" byokfs mount --key "local:$K1" "$CIPHER" "$PLAIN"
! mountpoint -q "$PLAIN" || fail "mounted with the removed key"
expect_fail 4 "does not open this volume (wrong key)" byokfs fsck --key "local:$K1" "$CIPHER"
vol_mount
assert_eq "$(cat "$PLAIN/f")" "written with the second key" "data through the remaining slot"
vol_umount

# the last slot stays
cp "$D" "$T/desc.before"
expect_fail 1 "refusing to remove key slot 'backup': it is the last one" byokfs keyslot remove "$CIPHER" backup
cmp "$D" "$T/desc.before" || fail "refused removal of the last slot changed the descriptor"

# eight slots at most
for i in 2 3 4 5 6 7 8; do
  byokfs keygen "$T/m$i.key" 2>/dev/null
  byokfs keyslot add "$CIPHER" --key "local:$T/m$i.key" --name "m$i" >/dev/null || fail "add slot m$i"
done
assert_eq "$(byokfs keyslot list "$CIPHER" | wc -l)" 8 "slots after filling"
byokfs keygen "$T/m9.key" 2>/dev/null
expect_fail 1 "has 8 key slots, the most a volume can have" byokfs keyslot add "$CIPHER" --key "local:$T/m9.key"
# every one of them opens the volume
for i in 2 5 8; do
  rc=0; byokfs fsck --key "local:$T/m$i.key" "$CIPHER" >/dev/null || rc=$?
  assert_eq "$rc" 0 "fsck with the key of slot m$i"
done

mkdir -p "$T/notvol"
expect_fail 3 "is not a byokfs volume" byokfs keyslot list "$T/notvol"
run keyslot --help
[[ $rc -eq 0 && $out == "usage: byokfs keyslot"* && -z $err ]] || fail "keyslot --help: $rc '$out' '$err'"
run keyslot
[[ $rc -eq 2 && -z $out && $err == "usage: byokfs keyslot"* ]] || fail "keyslot without arguments: $rc"
