# No volume key in transit lingers in the mount's memory. With renewals every
# 0.25 s (lease=0.5) through aws-kms and then vault-transit over HTTPS, the
# daemon's memory (every readable mapping, /proc/PID/mem; release build, as
# revoke/t0002) holds the volume key itself (the positive control: the scan
# works) but never its base64 form, the form in which it crosses the wire in
# every Decrypt / transit/decrypt answer: libcurl's, OpenSSL's and jansson's
# buffers are wiped before they are freed, TLS records are cleansed, the
# answer buffer is wiped after parsing. After byokfs revoke neither form is
# left.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
BYOKFS=$BYOKFS_TOP/build/byokfs
[[ -x $BYOKFS ]] || fail "missing $BYOKFS (make)"
scan=$BYOKFS_TOP/tests/tools/memscan.py
kms_setup
start_aws --tls -- --quiet
start_vault --tls -- --quiet
aws_env
export ADMINCTL_CACERT=$KMS_VAULT_CA
vaultctl create-key name=byokfs derived=true
vault_policy_byokfs
vault_env "$(vault_token byokfs)"
mkdir -p "$PLAIN"

check_memory() { # spec
  local spec=$1 vid pid key before after
  rm -rf "$CIPHER"
  byokfs init --key "$spec" "$CIPHER" >/dev/null || fail "init $spec"
  vol_mount -o lease=0.5
  echo "data" >"$PLAIN/a"
  vid=$(mstatus volume_id)
  pid=$(mstatus pid)
  python3 - "$CIPHER/.byokfs.volume" "$T/blob" <<'PY' || fail "no wrapped key in the descriptor"
import base64, re, sys
t = open(sys.argv[1]).read().replace("\n  ", "")
open(sys.argv[2], "wb").write(base64.b64decode(re.search(r"^wrapped_key = (.*)$", t, re.M).group(1)))
PY
  key=$(kmscall -k "$spec" "$vid" unwrap "$T/blob" | sed -n 's/^key //p')
  [[ ${#key} -eq 64 ]] || fail "cannot get the volume key of $spec"
  # the key, and the key as the provider's JSON answer carries it (base64)
  python3 -c 'import base64, sys; k = bytes.fromhex(sys.argv[1]); print("volume", k.hex()); print("volume-base64", base64.b64encode(k).hex())' \
    "$key" >"$T/needles"
  sleep 2   # some 8 renewals: 8 answers carrying the key in base64
  [[ $(mstatus renewals_ok) -ge 5 ]] || fail "$spec: only $(mstatus renewals_ok) renewals"
  before=$(/usr/bin/python3 "$scan" --where --pid "$pid" <"$T/needles" || true)
  [[ $before == *"found volume"* ]] || fail "$spec: positive control: the volume key is not found in the live daemon"
  if [[ $before == *"found volume-base64"* ]]; then
    fail "$spec: the base64 volume key (as sent by the provider) is in the daemon's memory: $(echo "$before" | grep volume-base64)"
  fi
  "$BYOKFS" revoke "$PLAIN"
  if after=$(/usr/bin/python3 "$scan" --where --pid "$pid" <"$T/needles"); then
    fail "$spec: keys in the daemon's memory after revoke: $after"
  fi
  note "$spec: key found only in its place while unlocked, nowhere after revoke"
  vol_umount
}
check_memory aws-kms:alias/byokfs
check_memory vault-transit:transit/byokfs
