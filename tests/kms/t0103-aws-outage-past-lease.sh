# aws-kms: outages longer than the lease (lease=3) fail closed and heal by
# themselves: with KMS answering 503 DependencyTimeoutException, and then
# with every request hanging (the lease deadline must not wait for a hung
# renewal), readers and an appender are cut off with EKEYREVOKED within
# lease + 100 ms of the outage's start, the mount is locked (not revoked);
# when the server answers again the mount unlocks by itself within the lease,
# the data reads back and every acknowledged appended line is intact. No
# crash: the daemon exits 0 at unmount.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
[[ -x $BYOKFS_TOP/build/tools/revoke-harness ]] || fail "missing revoke-harness (make asan)"
kms_setup
start_aws --tls -- --quiet
aws_env
export ADMINCTL_CACERT=$KMS_AWS_CA
mkdir -p "$PLAIN"
byokfs init --key aws-kms:alias/byokfs "$CIPHER" >/dev/null
vol_mount_fg "$T/daemon.log" -v -v -o lease=3
for i in 1 2; do head -c 300000 /dev/urandom >"$T/ref$i"; cp "$T/ref$i" "$PLAIN/f$i"; done
outage_past_lease kmsctl 3 503 "DependencyTimeoutException"
outage_past_lease kmsctl 3 hang "Operation timed out"
grep -q "lease expired" "$T/daemon.log" || fail "no 'lease expired' in the daemon log"
grep -q "key provider answers again" "$T/daemon.log" || fail "no 'answers again' in the daemon log"
grep -q "revoking" "$T/daemon.log" && fail "an outage revoked the mount: $(grep revoking "$T/daemon.log")"
vol_umount_fg
