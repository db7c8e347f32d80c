# aws-kms end to end on real mounts, against the AWS KMS test server over
# HTTPS (test CA) with a temporary credential (session token): init wraps
# the volume key with Encrypt and records the key ARN; write, read, unmount,
# mount again (the daemon in the foreground, -v -v, its log kept); the key
# disabled at the server revokes the mount within lease + 100 ms (readers
# through descriptors opened before get EKEYREVOKED) and status names
# DisabledException; unlock is refused (exit 4) while the key is disabled
# and works once it is enabled, with the data intact; neither the secret
# access key nor the session token is in the daemon's logs, the CLI's
# output or the backing store.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
harness=$BYOKFS_TOP/build/tools/revoke-harness
[[ -x $harness ]] || fail "missing $harness (make asan)"
kms_setup
start_aws --tls -- --quiet
aws_temp_creds
arn=arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
lease=2

mkdir -p "$PLAIN"
byokfs init --key aws-kms:alias/byokfs "$CIPHER" >"$T/cli.out" 2>&1 || fail "init: $(cat "$T/cli.out")"
grep -qF "key slot 'primary': aws-kms:$arn" "$T/cli.out" || fail "init output: $(cat "$T/cli.out")"
# the descriptor holds the key ARN KMS answered with, not the alias
python3 - "$CIPHER/.byokfs.volume" "$arn" <<'PY' || fail "descriptor key_id"
import sys, re
t = open(sys.argv[1]).read().replace("\n  ", "")
m = re.search(r"^key_id = (.*)$", t, re.M)
assert m and m.group(1) == sys.argv[2], m and m.group(1)
PY
[[ $(counter Encrypt) -eq 1 ]] || fail "init made $(counter Encrypt) Encrypt calls, want 1"

vol_mount_fg "$T/daemon1.log" -v -v -o lease=$lease
for i in 1 2 3; do
  head -c 1000000 /dev/urandom >"$T/ref$i"
  cp "$T/ref$i" "$PLAIN/f$i"
done
echo "prompt 1" >"$PLAIN/prompts.jsonl"
for i in 1 2 3; do cmp "$PLAIN/f$i" "$T/ref$i" || fail "f$i differs"; done
[[ $(mstatus provider) == aws-kms ]] || fail "status provider: $(mstatus provider)"
[[ $(mstatus key_id) == "$arn" ]] || fail "status key_id: $(mstatus key_id)"
vol_umount_fg
vol_mount_fg "$T/daemon2.log" -v -v -o lease=$lease
for i in 1 2 3; do cmp "$PLAIN/f$i" "$T/ref$i" || fail "f$i differs after remount"; done
[[ $(cat "$PLAIN/prompts.jsonl") == "prompt 1" ]] || fail "prompts.jsonl after remount"

export ADMINCTL_CACERT=$KMS_AWS_CA
out=$("$harness" -e -r "$PLAIN/f1" -r "$PLAIN/f2" -r "$PLAIN/f3" -w 300 -- \
  bash -c '"$0" disable-key key=alias/byokfs >/dev/null' "$KMSDIR/kmsctl") || fail "harness: $out"
check_cutoff "$out" $((lease * 1000 + 100)) "key disabled at the server"
[[ $(mstatus state) == revoked ]] || fail "state $(mstatus state), want revoked"
err=$(mstatus last_error)
[[ $err == "AWS KMS Decrypt: DisabledException: $arn is disabled." ]] || fail "last_error: $err"
expect_errno "Key has been revoked" cat "$PLAIN/f1"
expect_errno "Key has been revoked" ls "$PLAIN"
expect_fail 4 "DisabledException" "$BYOKFS" unlock "$PLAIN"
kmsctl enable-key key=alias/byokfs
byokfs unlock "$PLAIN" >>"$T/cli.out" 2>&1 || fail "unlock after enabling the key: $(cat "$T/cli.out")"
[[ $(mstatus state) == unlocked ]] || fail "state after unlock"
for i in 1 2 3; do cmp "$PLAIN/f$i" "$T/ref$i" || fail "f$i differs after unlock"; done
echo "prompt 2" >>"$PLAIN/prompts.jsonl"
[[ $(wc -l <"$PLAIN/prompts.jsonl") -eq 2 ]] || fail "append after unlock"
vol_umount_fg

grep -q "mounted '$CIPHER'" "$T/daemon2.log" || fail "the daemon log is empty: nothing was checked"
grep -q "DisabledException" "$T/daemon2.log" || fail "the denial is not in the daemon log"
for f in "$T"/daemon*.log "$T/cli.out" "$CIPHER"; do
  no_secret "the secret access key" "$AWS_TEST_SECRET" "$f"
  no_secret "the session token" "$AWS_TEST_TOKEN" "$f"
  no_secret "the session token's start" "${AWS_TEST_TOKEN:0:24}" "$f"
done
note "Decrypt calls: $(counter Decrypt), Encrypt calls: $(counter Encrypt)"
