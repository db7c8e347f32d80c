# byokfs.conf: provider settings from the per-user file
# (${XDG_CONFIG_HOME:-~/.config}/byokfs/byokfs.conf) or BYOKFS_CONFIG:
# region, endpoint and CA bundle from the file reach the AWS KMS test server
# (a CA path longer than inih's 200-byte lines included); the environment
# beats the file; BYOKFS_CONFIG replaces the per-user file, empty means none;
# mistakes (unknown section or setting, bad number, relative path, a file
# writable by others) stop byokfs init with one line naming file and line.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
kms_setup
start_aws --tls -- --quiet
export AWS_ACCESS_KEY_ID=$AWS_TEST_AKID AWS_SECRET_ACCESS_KEY=$AWS_TEST_SECRET
spec=aws-kms:alias/byokfs
n=0
init_ok() { # what
  n=$((n + 1))
  byokfs init --key $spec "$T/vol$n" >"$T/out" 2>&1 || fail "$1: $(cat "$T/out")"
}
init_fails() { # what code pattern
  n=$((n + 1))
  expect_fail "$2" "$3" "$BYOKFS" init --key $spec "$T/vol$n"
}
# a CA bundle at a path longer than 200 bytes
long=$T/$(printf 'd%.0s' $(seq 120))/$(printf 'e%.0s' $(seq 120))
mkdir -p "$long"
cp "$KMS_AWS_CA" "$long/ca.pem"
conf="[aws-kms]
region = us-east-1
endpoint = $KMS_AWS_URL
ca_bundle = $long/ca.pem
timeout = 2
"
# the per-user file, by HOME and by XDG_CONFIG_HOME
unset BYOKFS_CONFIG
mkdir -p "$HOME/.config/byokfs" "$T/xdg/byokfs"
printf '%s' "$conf" >"$HOME/.config/byokfs/byokfs.conf"
init_ok "~/.config/byokfs/byokfs.conf"
mv "$HOME/.config/byokfs/byokfs.conf" "$T/xdg/byokfs/byokfs.conf"
init_fails "no file: no region" 4 "no AWS region"
XDG_CONFIG_HOME=$T/xdg init_ok "XDG_CONFIG_HOME"
# BYOKFS_CONFIG replaces it; empty: no file at all
export BYOKFS_CONFIG=$T/xdg/byokfs/byokfs.conf
init_ok "BYOKFS_CONFIG"
XDG_CONFIG_HOME=$T/xdg BYOKFS_CONFIG= init_fails "BYOKFS_CONFIG empty" 4 "no AWS region"
# the environment beats the file
AWS_ENDPOINT_URL_KMS=https://127.0.0.1:1 init_fails "endpoint from the environment" 5 "AWS KMS Encrypt: no answer from https://127.0.0.1:1"
n=$((n + 1))
AWS_REGION=eu-west-1 "$BYOKFS" init --key $spec "$T/vol$n" >"$T/out" 2>&1 && fail "region from the environment ignored"
grep -q "InvalidSignatureException" "$T/out" || fail "region eu-west-1 against a us-east-1 server: $(cat "$T/out")"

# mistakes
bad() { # content pattern
  printf '%s\n' "$1" >"$T/bad.conf"
  chmod 0600 "$T/bad.conf"
  BYOKFS_CONFIG=$T/bad.conf init_fails "bad file" 2 "$2"  # a usage error, said before the key is opened
}
bad $'[aws-kms]\nca_bunlde = /x' "byokfs.conf: $T/bad.conf line 2: unknown setting 'ca_bunlde' in [aws-kms]"
bad $'[aws]\nregion = us-east-1' "line 2: unknown section [aws]"
bad $'[kms]\ntimeout = soon' "line 2: bad value 'soon' for 'timeout'"
bad $'[kms]\nmax_attempts = 0' "line 2: bad value '0' for 'max_attempts'"
bad $'[aws-kms]\nimds = perhaps' "bad value 'perhaps' for 'imds' (true or false)"
bad $'\n\n[kms]\nca_bundle = certs/ca.pem' "line 4: 'ca_bundle' must be an absolute path"
bad $'[vault-transit]\nregion = us-east-1' "unknown setting 'region' in [vault-transit]"
bad $'region = us-east-1' "line 1: unknown section []"
printf '%s' "$conf" >"$T/loose.conf"
chmod 0666 "$T/loose.conf"
BYOKFS_CONFIG=$T/loose.conf init_fails "group-writable file" 2 "refusing '$T/loose.conf': writable by group or others"
