#!/usr/bin/env bash
# byokfs rotate under a running mount (lease=1): the mount reads the
# descriptor at each renewal and renews with the slot's new key. Deleting
# the OLD key file right after the rotation (its inotify watch fires a
# renewal at once) leaves the mount unlocked, renewing with the new key
# (status shows it) and reading; deleting the NEW key then revokes it
# within lease + 100 ms (the watch moved to the new key file), with the
# new key named in the error. Restored and unlocked, a rotation to a key
# file that is deleted before the mount renews also revokes it: the key
# the descriptor names is the one that counts, even while the previous
# one still exists.
. "$(dirname "$0")/../lib.sh"
K1=$T/k1.key K2=$T/k2.key K3=$T/k3.key
for k in "$K1" "$K2" "$K3"; do byokfs keygen "$k" 2>/dev/null; done
KEY=$K1
mkdir -p "$PLAIN"
byokfs init --key "local:$K1" "$CIPHER" >/dev/null
vol_mount -o lease=1
head -c 300000 /dev/urandom >"$T/data"; cp "$T/data" "$PLAIN/data"
field() { # field...
  byokfs status --json "$PLAIN" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(" ".join(str(d[k]) for k in sys.argv[1:]))' "$@"
}

byokfs rotate "$CIPHER" --key "local:$K2" >/dev/null
rm "$K1"
sleep 1.6 # three renewals
assert_eq "$(field state key_id last_error)" "unlocked $K2 " "after rotate and removal of the old key"
cmp "$PLAIN/data" "$T/data" || fail "read after the old key was removed"
ok=$(field renewals_ok)
(( ok >= 3 )) || fail "only $ok renewals"

cp -p "$K2" "$T/k2.saved"
# delete the key, then read until the reads fail: how long it took
took=$(python3 - "$K2" "$PLAIN/data" <<'PY'
import errno, os, sys, time
t0 = time.monotonic()
os.unlink(sys.argv[1])
while time.monotonic() - t0 < 5:
    try:
        with open(sys.argv[2], "rb") as f:
            f.read(4096)
    except OSError as e:
        if e.errno == errno.EKEYREVOKED:
            print(int((time.monotonic() - t0) * 1000))
            sys.exit(0)
        raise
    time.sleep(0.001)
print("never")
PY
)
assert_eq "$(field state last_error)" "revoked key file '$K2' is missing" "after removal of the new key"
[[ $took != never ]] && (( took <= 1100 )) || fail "revoked ${took} ms after the new key went"
note "reads fail ${took} ms after the new key file was deleted"
expect_errno "Key has been revoked" cat "$PLAIN/data"

install -m 0600 "$T/k2.saved" "$K2"
byokfs unlock "$PLAIN" || fail "unlock with the new key back"
cmp "$PLAIN/data" "$T/data" || fail "read after unlock"
byokfs rotate "$CIPHER" --key "local:$K3" >/dev/null
rm "$K3"
for i in $(seq 150); do [[ $(field state) == revoked ]] && break; sleep 0.01; done
assert_eq "$(field state last_error)" "revoked key file '$K3' is missing" "rotated to a key deleted before the renewal"
[[ -f $K2 ]] || fail "the previous key is gone too"
