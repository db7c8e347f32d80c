# The KMS test servers still speak the real protocols: tests/kms/run-conformance
# drives them with the official clients, pinned (@aws-sdk/client-kms,
# node-vault; installed with npm ci when missing), and with curl 7.88's SigV4
# signer, over HTTP and HTTPS. Every check asserts an exact class, status or
# message; any failure, or a server-side exception, fails this test.
. "$(dirname "$0")/../lib.sh"
command -v node >/dev/null && command -v npm >/dev/null ||
  skip "node and npm are not installed (scripts/install-deps --test installs them)"
out=$("$BYOKFS_TOP/tests/kms/run-conformance" 2>&1) || { printf '%s\n' "$out" | tail -n 40; fail "run-conformance failed"; }
printf '%s\n' "$out" | grep -E '^# .*(passed|PASSED)' || true
[[ $(printf '%s\n' "$out" | tail -n 1) == "# run-conformance: ALL PASSED" ]] || fail "run-conformance did not end with ALL PASSED"
# every step ran and reported its count: the SDK suites, not just the curl checks
for step in "aws http" "aws https" "vault http" "vault https" "curl-sigv4 http" "curl-sigv4 https" \
  "curl-vault http" "curl-vault https"; do
  printf '%s\n' "$out" | grep -Eq "^# $step: [1-9][0-9]* passed, 0 failed\$" || fail "no clean result line for '$step'"
done
n=$(printf '%s\n' "$out" | grep -c '^ok - ' || true)
[[ $n -ge 240 ]] || fail "only $n checks passed"
note "$n conformance checks passed"
