# vault-transit: outages longer than the lease (lease=3) fail closed and heal
# by themselves: with Vault sealed (503), and then with every request
# hanging, readers and an appender are cut off with EKEYREVOKED within
# lease + 100 ms of the outage's start, the mount is locked (not revoked);
# when Vault answers again the mount unlocks by itself within the lease, the
# data reads back and every acknowledged appended line is intact.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
[[ -x $BYOKFS_TOP/build/tools/revoke-harness ]] || fail "missing revoke-harness (make asan)"
kms_setup
start_vault --tls -- --quiet
export ADMINCTL_CACERT=$KMS_VAULT_CA
vaultctl create-key name=byokfs derived=true
vault_policy_byokfs
vault_env "$(vault_token byokfs)"
mkdir -p "$PLAIN"
byokfs init --key vault-transit:transit/byokfs "$CIPHER" >/dev/null
vol_mount_fg "$T/daemon.log" -v -v -o lease=3
for i in 1 2; do head -c 300000 /dev/urandom >"$T/ref$i"; cp "$T/ref$i" "$PLAIN/f$i"; done
outage_past_lease vaultctl 3 503 "Vault is sealed (HTTP 503)"
outage_past_lease vaultctl 3 hang "Operation timed out"
grep -q "lease expired" "$T/daemon.log" || fail "no 'lease expired' in the daemon log"
grep -q "key provider answers again" "$T/daemon.log" || fail "no 'answers again' in the daemon log"
grep -q "revoking" "$T/daemon.log" && fail "an outage revoked the mount: $(grep revoking "$T/daemon.log")"
vol_umount_fg
