# aws-kms: outages of the KMS endpoint shorter than the lease (lease=10,
# 3 s each: requests hanging, 503 DependencyTimeoutException, connections
# reset, ThrottlingException), each placed so a renewal runs into it, while
# a process appends, creates, reads and lists without pause: no operation
# fails, the mount stays unlocked, every outage is seen by a failed renewal
# and followed by a good one, the appended lines are all intact, and the
# provider retried within each call (throttled requests > failed renewals).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
kms_setup
start_aws --tls -- --quiet
aws_env
mkdir -p "$PLAIN"
byokfs init --key aws-kms:alias/byokfs "$CIPHER" >/dev/null
vol_mount_fg "$T/daemon.log" -v -v -o lease=10
ride_outages kmsctl 10 hang 503 reset throttle
out=$(kmsctl_out counters)
python3 - "$out" "$(mstatus renewals_failed)" <<'PY' || fail "server counters: $out"
import json, sys
c = json.loads(sys.argv[1])["counters"]; failed = int(sys.argv[2])
for f in ("hang", "503", "reset", "throttle"):
    assert c["faults"].get(f, 0) >= 1, "fault %s never hit" % f
# a throttled renewal is retried inside the provider call
assert c["faults"]["throttle"] >= 2, c["faults"]
assert c["ops"]["Encrypt"] == 1, c["ops"]
print("faults hit:", c["faults"], "renewals failed:", failed)
PY
grep -q "lease expired" "$T/daemon.log" && fail "the lease expired during a short outage"
grep -q "lease renewal failed (provider unavailable): AWS KMS Decrypt: ThrottlingException" "$T/daemon.log" ||
  fail "no throttled renewal in the log"
vol_umount_fg
