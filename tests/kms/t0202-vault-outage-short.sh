# vault-transit: outages shorter than the lease (lease=10, 3 s each: requests
# hanging, 503 sealed, connections reset, 429 rate limit with Retry-After),
# each placed so a renewal runs into it, while a process appends, creates,
# reads and lists without pause: no operation fails, the mount stays
# unlocked, every outage is seen by a failed renewal and followed by a good
# one, the appended lines are all intact.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
kms_setup
start_vault --tls -- --quiet
export ADMINCTL_CACERT=$KMS_VAULT_CA
vaultctl create-key name=byokfs derived=true
vault_policy_byokfs
vault_env "$(vault_token byokfs)"
mkdir -p "$PLAIN"
byokfs init --key vault-transit:transit/byokfs "$CIPHER" >/dev/null
vol_mount_fg "$T/daemon.log" -v -v -o lease=10
ride_outages vaultctl 10 hang 503 reset 429
out=$(vaultctl_out counters)
python3 - "$out" <<'PY' || fail "server counters: $out"
import json, sys
c = json.loads(sys.argv[1])["counters"]
for f in ("hang", "503", "reset", "429"):
    assert c["faults"].get(f, 0) >= 1, "fault %s never hit" % f
assert c["ops"]["encrypt"] == 1, c["ops"]
print("faults hit:", c["faults"])
PY
grep -q "lease expired" "$T/daemon.log" && fail "the lease expired during a short outage"
grep -q "lease renewal failed (provider unavailable): Vault transit/byokfs decrypt: Vault is sealed (HTTP 503)" "$T/daemon.log" ||
  fail "no sealed renewal in the log"
vol_umount_fg
