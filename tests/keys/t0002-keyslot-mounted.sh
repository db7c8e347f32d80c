#!/usr/bin/env bash
# Key slots change under running mounts (lease=1), which read the
# descriptor again at each renewal: mount A renews through slot 'primary'
# (key 1), mount B through slot 'backup' (mount --key, key 2). Adding a
# slot disturbs neither. A damaged descriptor is logged once and the last
# good one used: both stay unlocked. Removing 'primary' revokes A within a
# renewal ("key slot 'primary' was removed"; reads fail with EKEYREVOKED;
# byokfs unlock exits 4 saying so) while B keeps reading. Adding 'primary'
# back (a new wrapped key under key 1) lets byokfs unlock bring A back.
. "$(dirname "$0")/../lib.sh"
K1=$T/k1.key K2=$T/k2.key K3=$T/k3.key
for k in "$K1" "$K2" "$K3"; do byokfs keygen "$k" 2>/dev/null; done
mkdir -p "$PLAIN" "$T/plain2"
byokfs init --key "local:$K1" "$CIPHER" >/dev/null
byokfs keyslot add "$CIPHER" --key "local:$K2" --name backup >/dev/null
D=$CIPHER/.byokfs.volume
vol_mount_fg "$T/a.log" -o lease=1
mount_at "$CIPHER" "$T/plain2" -o lease=1 --key "local:$K2"
echo "shared data" >"$PLAIN/f"

field() { # mountpoint field...
  byokfs status --json "$1" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(" ".join(str(d[k]) for k in sys.argv[1:]))' "${@:2}"
}
wait_state() { # mountpoint state: within 3 s
  local i
  for i in $(seq 60); do
    [[ $(field "$1" state) == "$2" ]] && return 0
    sleep 0.05
  done
  fail "$1 is $(field "$1" state last_error), not $2"
}
renewals() { field "$1" renewals_ok; }
wait_renewals() { # mountpoint: two more successful renewals
  local n0 i; n0=$(renewals "$1")
  for i in $(seq 80); do
    (( $(renewals "$1") >= n0 + 2 )) && return 0
    sleep 0.05
  done
  fail "$1: no renewals ($(field "$1" state last_error))"
}
assert_eq "$(field "$PLAIN" slot key_id)" "primary $K1" "mount A renews through"
assert_eq "$(field "$T/plain2" slot key_id)" "backup $K2" "mount B renews through"

byokfs keyslot add "$CIPHER" --key "local:$K3" --name third >/dev/null
wait_renewals "$PLAIN"; wait_renewals "$T/plain2"
assert_eq "$(field "$PLAIN" state last_error)" "unlocked " "A after a slot was added"

# a damaged descriptor decides nothing
cp "$D" "$T/desc.good"
sed -i 's/^key_epoch = 0/key_epoch = 1/' "$D"
! cmp -s "$D" "$T/desc.good" || fail "the edit changed nothing"
wait_renewals "$PLAIN"; wait_renewals "$PLAIN"
assert_eq "$(field "$PLAIN" state)" unlocked "A with a tampered descriptor"
assert_eq "$(field "$T/plain2" state)" unlocked "B with a tampered descriptor"
n=$(grep -c "fails authentication (modified?); renewals use the last good volume descriptor" "$T/a.log" || true)
assert_eq "$n" 1 "log lines about the tampered descriptor"
printf 'garbage\n' >"$D"
wait_renewals "$PLAIN"
grep -q "corrupt volume descriptor '$D'.*renewals use the last good volume descriptor" "$T/a.log" ||
  fail "no log line about the corrupt descriptor: $(cat "$T/a.log")"
rm "$D"
wait_renewals "$PLAIN"
cp "$T/desc.good" "$D"
wait_renewals "$PLAIN"
grep -q "the volume descriptor authenticates again" "$T/a.log" || fail "no log line about recovery"
assert_eq "$(cat "$PLAIN/f")" "shared data" "A reads after the descriptor came back"

# removing the slot mount A renews through revokes A only
t0=$(date +%s.%N)
byokfs keyslot remove "$CIPHER" primary --with "local:$K2" >/dev/null 2>&1
wait_state "$PLAIN" revoked
took=$(python3 -c "import sys; print('%.2f' % ($(date +%s.%N) - $t0))")
note "mount A revoked ${took}s after the slot was removed"
assert_eq "$(field "$PLAIN" last_error)" "key slot 'primary' was removed" "A's last error"
expect_errno "Key has been revoked" cat "$PLAIN/f"
expect_fail 4 "key slot 'primary' was removed" byokfs unlock "$PLAIN"
wait_renewals "$T/plain2"
assert_eq "$(field "$T/plain2" state)" unlocked "B after primary was removed"
assert_eq "$(cat "$T/plain2/f")" "shared data" "B reads after primary was removed"

# the slot back (a new wrapped key): unlock works again
byokfs keyslot add "$CIPHER" --key "local:$K1" --name primary --with "local:$K2" >/dev/null
byokfs unlock "$PLAIN" || fail "unlock after primary came back"
assert_eq "$(cat "$PLAIN/f")" "shared data" "A reads after unlock"
wait_renewals "$PLAIN"
assert_eq "$(field "$PLAIN" state slot key_id)" "unlocked primary $K1" "A after unlock"
vol_umount "$T/plain2"
vol_umount_fg
