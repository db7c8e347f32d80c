# aws-kms credentials, found as the AWS SDKs find them, each piece against
# the AWS KMS test server (plain HTTP on loopback; its container-credentials
# and IMDSv2 endpoints mint temporary keys that KMS accepts):
#  - environment with a session token; a wrong or missing token is denied
#    (UnrecognizedClientException), an expired one is transient;
#  - the shared credentials file with profiles (AWS_PROFILE, or byokfs.conf's
#    profile), a session token longer than inih's 200-byte lines, the region
#    from the config file's [profile X]; the environment beats the files; a
#    rewritten credentials file is picked up before any refused call;
#  - container credentials with an authorization token file (a wrong token
#    is denied), fetched once for many calls;
#  - EC2 instance metadata, IMDSv2 only (token, role, credentials: one each
#    for many calls); no role attached is denied;
#  - temporary credentials fetched again before they expire (and the
#    expired first key then refused by the server is never used), a failed
#    refresh keeps the still valid ones;
#  - a real (daemonised) mount on instance-metadata credentials renews
#    through several refreshes.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
kms_setup
start_aws -- --quiet
U=$KMS_AWS_URL
export AWS_REGION=us-east-1 AWS_ENDPOINT_URL_KMS=$U
spec=aws-kms:alias/byokfs
ctx=0123456789abcdef0123456789abcdef
issued() { kmsctl_out metadata | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["metadata"]["issued"]))'; }
errors_of() { kmsctl_out counters | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["errors"].get(sys.argv[1], 0))' "$1"; }

# ---- environment
aws_temp_creds
export AWS_ENDPOINT_URL_KMS=$U
kmscall_expect 0 "ok arn:aws:kms:us-east-1:111122223333:key/" -n 3 $spec $ctx roundtrip
kmscall $spec $ctx wrap "$T/blob" >/dev/null || fail "wrap with env credentials"
AWS_SESSION_TOKEN=${AWS_TEST_TOKEN}x kmscall_expect 11 "UnrecognizedClientException: The security token included in the request is invalid. (credentials from environment)" $spec $ctx unwrap "$T/blob"
env -u AWS_SESSION_TOKEN "$T/kmscall" $spec $ctx unwrap "$T/blob" 2>"$T/out" && fail "temporary key without its token accepted"
grep -q "UnrecognizedClientException" "$T/out" || fail "no token: $(cat "$T/out")"
kmsctl expire-credential accessKeyId="$AWS_TEST_AKID"
kmscall_expect 12 "ExpiredTokenException" $spec $ctx unwrap "$T/blob"
env_akid=$AWS_TEST_AKID
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

# ---- shared files
mkdir -p "$HOME/.aws"
long=$(head -c 900 /dev/urandom | base64 | tr -d '\n')   # 1200 characters
kmsctl add-credential accessKeyId=ASIAFILEPROFILE01 secretAccessKey=file-secret-1 sessionToken="$long" expiresIn=3600
kmsctl add-credential accessKeyId=AKIAFILEDEFAULT01 secretAccessKey=default-secret-1
cat >"$HOME/.aws/credentials" <<CREDS
# a comment; and a long one: $(printf 'x%.0s' $(seq 250))
[default]
aws_access_key_id = AKIAFILEDEFAULT01
aws_secret_access_key = wrong-secret

[byokfs]
aws_access_key_id = ASIAFILEPROFILE01
aws_secret_access_key = file-secret-1
aws_session_token = $long
CREDS
kmscall_expect 11 "InvalidSignatureException" $spec $ctx unwrap "$T/blob"   # [default]: wrong secret
AWS_PROFILE=byokfs kmscall_expect 0 "ok " -n 2 $spec $ctx unwrap "$T/blob"
printf '[aws-kms]\nprofile = byokfs\n' >"$BYOKFS_CONFIG"
kmscall_expect 0 "ok " $spec $ctx unwrap "$T/blob"
: >"$BYOKFS_CONFIG"
cp "$HOME/.aws/credentials" "$T/elsewhere"
rm "$HOME/.aws/credentials"
AWS_PROFILE=byokfs AWS_SHARED_CREDENTIALS_FILE=$T/elsewhere kmscall_expect 0 "ok " $spec $ctx unwrap "$T/blob"
cp "$T/elsewhere" "$HOME/.aws/credentials"
# region from the config file's profile
printf '[profile byokfs]\nregion = us-east-1\n' >"$HOME/.aws/config"
env -u AWS_REGION AWS_PROFILE=byokfs "$T/kmscall" $spec $ctx unwrap "$T/blob" >/dev/null || fail "region from ~/.aws/config"
env -u AWS_REGION AWS_PROFILE=nosuch "$T/kmscall" $spec $ctx unwrap "$T/blob" 2>"$T/out" && fail "no region accepted"
grep -q "no AWS region" "$T/out" || fail "no region: $(cat "$T/out")"
# the environment beats the files
AWS_PROFILE=byokfs AWS_ACCESS_KEY_ID=AKIAFILEDEFAULT01 AWS_SECRET_ACCESS_KEY=default-secret-1 \
  kmscall_expect 0 "ok " $spec $ctx unwrap "$T/blob"
AWS_PROFILE=byokfs AWS_ACCESS_KEY_ID=AKIAFILEDEFAULT01 AWS_SECRET_ACCESS_KEY=bad \
  kmscall_expect 11 "InvalidSignatureException" $spec $ctx unwrap "$T/blob"
# a rotated credentials file is read again before the old key is refused
kmsctl add-credential accessKeyId=AKIAROTATED000001 secretAccessKey=rotated-secret
kmsctl reset-counters
AWS_PROFILE=byokfs "$T/kmscall" -n 8 -i 300 $spec $ctx unwrap "$T/blob" >"$T/rot.out" 2>&1 &
rot=$!
sleep 1
printf '[byokfs]\naws_access_key_id = AKIAROTATED000001\naws_secret_access_key = rotated-secret\n' >"$T/new"
mv "$T/new" "$HOME/.aws/credentials"
kmsctl remove-credential accessKeyId=ASIAFILEPROFILE01
wait "$rot" || fail "calls across a credentials file rotation: $(cat "$T/rot.out")"
[[ $(errors_of UnrecognizedClientException) -eq 0 ]] || fail "the old key was used after the file changed"
[[ $(counter Decrypt) -eq 8 ]] || fail "$(counter Decrypt) Decrypt calls, want 8"
rm -f "$HOME/.aws/credentials" "$HOME/.aws/config"

# ---- container credentials
printf 'container-auth-%s\n' "$RANDOM$RANDOM" >"$T/ctoken"
kmsctl metadata containerToken="$(head -n 1 "$T/ctoken")"
export AWS_CONTAINER_CREDENTIALS_FULL_URI=$U/_container/credentials AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$T/ctoken
kmsctl reset-counters
kmscall_expect 0 "ok " -n 5 $spec $ctx unwrap "$T/blob"
[[ $(counter container-credentials) -eq 1 ]] || fail "$(counter container-credentials) container fetches for 5 calls, want 1"
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE= AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong \
  kmscall_expect 11 "container credentials at $U/_container/credentials answered HTTP 403" $spec $ctx unwrap "$T/blob"
AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.1/creds \
  kmscall_expect 11 "refusing 'http://192.0.2.1/creds'" $spec $ctx unwrap "$T/blob"

# ---- refresh before expiry (5 minutes ahead): credentials of 302 s
kmsctl metadata ttlSeconds=302
kmsctl reset-counters
n0=$(issued)
"$T/kmscall" -n 6 -i 1000 $spec $ctx unwrap "$T/blob" >"$T/ref.out" 2>&1 &
refpid=$!
sleep 2.5
first=$(kmsctl_out metadata | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["issued"][int(sys.argv[1])])' "$n0")
kmsctl expire-credential accessKeyId="$first"
wait "$refpid" || fail "calls across credential refreshes: $(cat "$T/ref.out")"
fetches=$(counter container-credentials)
[[ $fetches -ge 2 && $fetches -le 4 ]] || fail "$fetches container fetches in 5 s of 302 s credentials, want 2 to 4"
[[ $(errors_of ExpiredTokenException) -eq 0 ]] || fail "an expired credential was used"
# a failed refresh keeps the credentials that still hold
kmsctl reset-counters
kmsctl fault type=503 op=container-credentials seconds=30
"$T/kmscall" -n 4 -i 1000 $spec $ctx unwrap "$T/blob" >"$T/keep.out" 2>&1 && fail "no credentials at all, yet it worked"
grep -q "container credentials at .* answered HTTP 503" "$T/keep.out" || fail "first fetch failing: $(cat "$T/keep.out")"
kmsctl clear-faults
"$T/kmscall" -n 5 -i 1000 $spec $ctx unwrap "$T/blob" >"$T/keep.out" 2>&1 &
keeppid=$!
sleep 0.5
kmsctl fault type=503 op=container-credentials seconds=30
wait "$keeppid" || fail "a failed refresh dropped valid credentials: $(cat "$T/keep.out")"
kmsctl clear-faults
unset AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE

# ---- instance metadata (IMDSv2)
kmsctl metadata ttlSeconds=3600
unset AWS_EC2_METADATA_DISABLED
export AWS_EC2_METADATA_SERVICE_ENDPOINT=$U
kmsctl reset-counters
kmscall_expect 0 "ok " -n 5 $spec $ctx unwrap "$T/blob"
for op in imds-token imds-role imds-credentials; do
  [[ $(counter $op) -eq 1 ]] || fail "$(counter $op) $op requests for 5 calls, want 1"
done
kmsctl metadata role=
kmscall_expect 11 "no IAM role is attached" $spec $ctx unwrap "$T/blob"
kmsctl metadata role=byokfs-test-role
AWS_EC2_METADATA_DISABLED=true kmscall_expect 11 "no AWS credentials" $spec $ctx unwrap "$T/blob"

# ---- a daemonised mount on instance-metadata credentials of 302 s
kmsctl metadata ttlSeconds=302
mkdir -p "$PLAIN"
byokfs init --key $spec "$CIPHER" >/dev/null
vol_mount -o lease=1
echo "data" >"$PLAIN/a"
n0=$(issued)
sleep 5
[[ $(cat "$PLAIN/a") == data ]] || fail "read on refreshed credentials"
n1=$(issued)
[[ $((n1 - n0)) -ge 2 ]] || fail "the mount fetched $((n1 - n0)) credentials in 5 s of 302 s ones, want >= 2"
[[ $(mstatus state) == unlocked && $(mstatus renewals_failed) -eq 0 ]] || fail "renewals: $(mstatus last_error)"
note "the mount fetched credentials $((n1 - n0)) times in 5 s, $(mstatus renewals_ok) renewals"
vol_umount
