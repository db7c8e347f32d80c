#!/usr/bin/env bash
# byokfs rotate without --key, for a provider that versions its keys (the
# Vault transit test server): after the key is rotated in Vault, the slot
# is rewrapped under the newest version (the blob changes from vault:v1 to
# vault:v2, the key id does not). A mount (lease=1) picks the new blob up
# at its next renewal: once Vault refuses version 1 (min_decryption_version
# = 2), it stays unlocked and reads, while a volume that was not rewrapped
# no longer opens (exit 4).
. "$(dirname "$0")/../lib.sh"
[[ -f $BYOKFS_TOP/kms/vault.c && -f $BYOKFS_TOP/tests/kms/e2e.sh ]] || skip "no vault-transit provider in this tree"
. "$BYOKFS_TOP/tests/kms/e2e.sh"
kms_setup
start_vault
vault_root transit/keys/byokfs '{"derived": true}'
vault_policy_byokfs
vault_env "$(vault_token byokfs)"
spec=vault-transit:transit/byokfs
mkdir -p "$PLAIN"
byokfs init --key "$spec" "$CIPHER" >/dev/null
byokfs init --key "$spec" "$T/other" >/dev/null
blob() { # backing: the slot's wrapped key, decoded
  python3 - "$1/.byokfs.volume" <<'PY'
import base64, re, sys
t = open(sys.argv[1]).read().replace("\n  ", "")
print(base64.b64decode(re.search(r"^wrapped_key = (.*)$", t, re.M).group(1)).decode())
PY
}
[[ $(blob "$CIPHER") == vault:v1:* ]] || fail "blob after init: $(blob "$CIPHER")"
id=$(sed -n 's/^id = //p' "$CIPHER/.byokfs.volume")
vol_mount -o lease=1
echo "rewrapped data" >"$PLAIN/f"

vault_root transit/keys/byokfs/rotate '{}'
rc=0; out=$("$BYOKFS" rotate "$CIPHER" 2>"$T/err") || rc=$?
assert_eq "$rc" 0 "rotate: exit ($(cat "$T/err"))"
assert_eq "$out" "rewrapped key slot 'primary' of volume $id under the newest version of $spec" "rotate: stdout"
[[ $(blob "$CIPHER") == vault:v2:* ]] || fail "blob after rewrap: $(blob "$CIPHER")"
assert_eq "$(byokfs keyslot list "$CIPHER" | cut -f2,3)" "vault-transit	transit/byokfs" "slot after rewrap"

vault_root transit/keys/byokfs/config '{"min_decryption_version": 2}'
n0=$(mstatus renewals_ok)
for i in $(seq 100); do (( $(mstatus renewals_ok) >= n0 + 2 )) && break; sleep 0.05; done
assert_eq "$(mstatus state)" unlocked "mount after version 1 was retired"
assert_eq "$(cat "$PLAIN/f")" "rewrapped data" "read after version 1 was retired"
vol_umount
vol_mount
assert_eq "$(cat "$PLAIN/f")" "rewrapped data" "read after a fresh mount"
rc=0; "$BYOKFS" fsck "$T/other" >/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 4 "the volume not rewrapped: exit ($(cat "$T/err"))"
