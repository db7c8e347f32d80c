# aws-kms error classes, live: every KMS answer is classed by its __type, not
# its HTTP status (tests/unit/test_kms_parse.c has the full table offline).
# Injected answers of each type and real conditions at the AWS KMS test
# server (key disabled, pending deletion, deleted, denied by policy, alias
# gone, wrong volume, another key) give denied (exit 11), throttling,
# internal errors, hangs and resets give transient (exit 12) after
# max_attempts tries within retry_budget, malformed requests invalid (13);
# the namespaced __type and the x-amzn-ErrorType header class the same; an
# answer larger than the 64 KiB answer buffer is an error (transient);
# the provider's message reaches the error ("Message" with a capital M too).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
kms_setup
start_aws -- --quiet
aws_env
spec=aws-kms:alias/byokfs
ctx=00112233445566778899aabbccddeeff
kmscall $spec $ctx wrap "$T/blob" >/dev/null || fail "wrap"

# injected answers: name status -> exit code
while read -r name status code; do
  kmsctl fault type=error name="$name" status="$status" message="injected $name" op=Decrypt
  kmsctl reset-counters
  kmscall_expect "$code" "AWS KMS Decrypt: $name: injected $name" $spec $ctx unwrap "$T/blob" >/dev/null
  kmsctl clear-faults
  calls=$(counter Decrypt)
  want=1
  [[ $code -eq 12 ]] && want=3
  [[ $calls -eq $want ]] || fail "$name: $calls requests, want $want"
done <<'TABLE'
DisabledException 400 11
KMSInvalidStateException 409 11
AccessDeniedException 403 11
NotFoundException 404 11
InvalidCiphertextException 400 11
IncorrectKeyException 400 11
InvalidKeyUsageException 400 11
SomeFutureException 400 11
ThrottlingException 400 12
KMSInternalException 500 12
KeyUnavailableException 500 12
DependencyTimeoutException 503 12
SomeFutureException 502 12
ValidationException 400 13
TABLE

# the same classes whatever the error style
kmsctl error-style namespaced=true errorTypeHeader=true
kmsctl disable-key key=alias/byokfs
kmscall_expect 11 "DisabledException: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab is disabled." $spec $ctx unwrap "$T/blob"
kmsctl fault type=throttle op=Decrypt count=1
kmsctl enable-key key=alias/byokfs
kmscall_expect 0 "ok " $spec $ctx unwrap "$T/blob"   # throttled once, then answered
kmsctl error-style namespaced=false errorTypeHeader=false

# real conditions
kmsctl set-state key=alias/byokfs state=PendingDeletion
kmscall_expect 11 "KMSInvalidStateException" $spec $ctx unwrap "$T/blob"
kmsctl enable-key key=alias/byokfs
kmsctl deny accessKeyId=AKIDEXAMPLE key=alias/byokfs ops=Decrypt
kmscall_expect 11 "AccessDeniedException: User: arn:aws:iam::111122223333:user/byokfs-test-AKIDEXAMPLE is not authorized to perform: kms:Decrypt" $spec $ctx unwrap "$T/blob"
kmsctl allow accessKeyId=AKIDEXAMPLE key=alias/byokfs
kmscall_expect 11 "InvalidCiphertextException" $spec ffeeddccbbaa99887766554433221100 unwrap "$T/blob"
kmsctl create-key id=5678abcd-0000-0000-0000-000000000002 alias=other
kmscall_expect 11 "IncorrectKeyException" aws-kms:alias/other $ctx unwrap "$T/blob"
kmscall_expect 11 "IncorrectKeyException" aws-kms:arn:aws:kms:us-east-1:111122223333:key/5678abcd-0000-0000-0000-000000000002 $ctx unwrap "$T/blob"
kmsctl delete-alias alias=other
kmscall_expect 11 "NotFoundException" aws-kms:alias/other $ctx roundtrip
kmscall_expect 13 "bad AWS KMS alias 'alias/aws/ebs': AWS managed keys cannot be used" aws-kms:alias/aws/ebs $ctx roundtrip
kmscall_expect 13 "bad AWS KMS key ARN" aws-kms:arn:aws:s3:::bucket $ctx roundtrip

# an answer larger than the 64 KiB buffer: an error, never a reallocation
big=$(head -c 70000 /dev/zero | tr '\0' x)
kmsctl fault type=error name=KMSInternalException status=500 message="$big" op=Decrypt
kmscall_expect 12 "answer larger than 65536 bytes" $spec $ctx unwrap "$T/blob" >/dev/null
kmsctl clear-faults

# transport: hang (timeouts from byokfs.conf), reset, a budget that ends the retries
printf '[aws-kms]\ntimeout = 0.3\nretry_budget = 0.8\nmax_attempts = 5\n' >"$BYOKFS_CONFIG"
kmsctl fault type=hang op=Decrypt
t0=$(date +%s.%N)
kmscall_expect 12 "Operation timed out" $spec $ctx unwrap "$T/blob" >/dev/null
t1=$(date +%s.%N)
kmsctl clear-faults
kmsctl release-hung
python3 -c 'import sys; d=float(sys.argv[2])-float(sys.argv[1]); assert 0.6 < d < 1.6, d; print("hung call gave up after %.2f s (budget 0.8 s)" % d)' "$t0" "$t1" ||
  fail "the retry budget did not bound a hung call"
printf '[aws-kms]\nmax_attempts = 2\n' >"$BYOKFS_CONFIG"
kmsctl reset-counters
kmsctl fault type=reset op=Decrypt
kmscall_expect 12 "(2 attempts)" $spec $ctx unwrap "$T/blob" >/dev/null
kmsctl clear-faults
[[ $(counter Decrypt) -eq 2 ]] || fail "max_attempts=2 made $(counter Decrypt) requests"
: >"$BYOKFS_CONFIG"
# deleted key: its blobs are gone for good (crypto-shredding)
kmsctl delete-key key=alias/byokfs
kmscall_expect 11 "AccessDeniedException: The ciphertext refers to a customer master key that does not exist" \
  aws-kms:1234abcd-12ab-34cd-56ef-1234567890ab $ctx unwrap "$T/blob"
