# aws-kms TLS: verification is always on. Against the AWS KMS test server over
# HTTPS, byokfs init fails (exit 5, "certificate" in the one-line error, no
# volume left behind) without the test CA and with an unrelated CA, and works
# with the test CA from AWS_CA_BUNDLE, from byokfs.conf [aws-kms] ca_bundle
# and from [kms] ca_bundle; AWS_CA_BUNDLE beats the file; the server is
# reached by IP address and by the name localhost (both in its
# certificate); a plain http:// endpoint that is not loopback is refused.
# With libcurl hidden (a mount namespace binds /dev/null over it), init says
# so in one line (exit 5).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
kms_setup
start_aws --tls -- --quiet
aws_env
certs=$(dirname "$KMS_AWS_CA")
unset AWS_CA_BUNDLE
n=0
init_ok() { # what
  n=$((n + 1))
  byokfs init --key aws-kms:alias/byokfs "$T/vol$n" >"$T/out" 2>&1 || fail "$1: $(cat "$T/out")"
  [[ -f $T/vol$n/.byokfs.volume ]] || fail "$1: no volume"
}
init_fails() { # what code pattern
  n=$((n + 1))
  expect_fail "$2" "$3" "$BYOKFS" init --key aws-kms:alias/byokfs "$T/vol$n"
  [[ ! -e $T/vol$n ]] || fail "$1: a volume directory was left behind"
}
init_fails "no CA" 5 "SSL certificate problem: unable to get local issuer certificate"
AWS_CA_BUNDLE=$certs/other-ca.pem init_fails "unrelated CA" 5 "SSL certificate problem"
AWS_CA_BUNDLE=$KMS_AWS_CA init_ok "AWS_CA_BUNDLE"
printf '[aws-kms]\nca_bundle = %s\n' "$KMS_AWS_CA" >"$BYOKFS_CONFIG"
init_ok "byokfs.conf [aws-kms] ca_bundle"
AWS_CA_BUNDLE=$certs/other-ca.pem init_fails "AWS_CA_BUNDLE over the file" 5 "SSL certificate problem"
printf '[kms]\nca_bundle = %s\n' "$KMS_AWS_CA" >"$BYOKFS_CONFIG"
init_ok "byokfs.conf [kms] ca_bundle"
AWS_ENDPOINT_URL_KMS=https://localhost:$KMS_AWS_PORT init_ok "https://localhost"
AWS_ENDPOINT_URL_KMS=http://127.0.0.1:$KMS_AWS_PORT init_fails "plain http to a TLS port" 5 "AWS KMS Encrypt"
AWS_ENDPOINT_URL_KMS=http://kms.example.com init_fails "plain http, not loopback" 4 \
  "refusing 'http://kms.example.com': only https:// (plain http:// to loopback addresses only)"
AWS_ENDPOINT_URL_KMS=https://user:pw@kms.example.com init_fails "credentials in the URL" 4 "bad URL"
# the volumes made over TLS open over TLS
mkdir -p "$PLAIN"
CIPHER=$T/vol3 vol_mount -o lease=1
echo hi >"$PLAIN/x"
sleep 1.2
[[ $(mstatus renewals_ok) -ge 2 && $(mstatus renewals_failed) -eq 0 ]] || fail "renewals over TLS: $(mstatus last_error)"
vol_umount

# libcurl missing: one clear line
# awk reads to the end: an early exit would SIGPIPE ldconfig, which
# pipefail turns into the test's exit status (141)
lib=$(ldconfig -p | awk '$1 == "libcurl.so.4" && !found {print $NF; found = 1}')
[[ -n $lib ]] || fail "ldconfig does not know libcurl.so.4"
if [[ $(id -u) -eq 0 ]] && unshare -m true 2>/dev/null; then
  rc=0
  out=$(unshare -m sh -c 'mount --bind /dev/null "$1" && exec "$2" init --key aws-kms:alias/byokfs "$3"' \
    sh "$lib" "$BYOKFS" "$T/nolib" 2>&1) || rc=$?
  [[ $rc -eq 5 ]] || fail "init without libcurl: exit $rc: $out"
  [[ $out == "byokfs: aws-kms: cannot load libcurl.so.4 ("*"): install libcurl (Debian: apt-get install libcurl4)" ]] ||
    fail "init without libcurl: $out"
  [[ ! -e $T/nolib ]] || fail "init without libcurl left a volume directory"
else
  note "not root or no mount namespaces: the missing-libcurl check did not run"
fi
