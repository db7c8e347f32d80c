# vault-transit end to end on real mounts, against the Vault test server
# over HTTPS (test CA), with a least-privilege token in ~/.vault-token:
# init encrypts the volume key under a derived key (ciphertext vault:v1:...);
# write, read, unmount, mount again (daemon in the foreground, -v -v, its log
# kept); revoking the token at the server revokes the mount within lease +
# 100 ms (readers through descriptors opened before get EKEYREVOKED) and
# unlock is refused (exit 4) until a new token is written to the token file;
# rotating the key and raising min_decryption_version to 2 revokes it again
# within lease + 100 ms ("too old", the slot's version named), lowering it
# lets unlock work; the data stays intact; no token is in the logs, the
# CLI's output or the backing store.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
harness=$BYOKFS_TOP/build/tools/revoke-harness
[[ -x $harness ]] || fail "missing $harness (make asan)"
kms_setup
start_vault --tls -- --quiet
export ADMINCTL_CACERT=$KMS_VAULT_CA
vaultctl create-key name=byokfs derived=true
vault_policy_byokfs
tok1=$(vault_token byokfs)
vault_env "$tok1"
lease=2

mkdir -p "$PLAIN"
byokfs init --key vault-transit:transit/byokfs "$CIPHER" >"$T/cli.out" 2>&1 || fail "init: $(cat "$T/cli.out")"
grep -qF "key slot 'primary': vault-transit:transit/byokfs" "$T/cli.out" || fail "init output: $(cat "$T/cli.out")"
python3 - "$CIPHER/.byokfs.volume" <<'PY' || fail "descriptor"
import base64, re, sys
t = open(sys.argv[1]).read().replace("\n  ", "")
assert re.search(r"^provider = vault-transit$", t, re.M), "provider"
assert re.search(r"^key_id = transit/byokfs$", t, re.M), "key_id"
w = base64.b64decode(re.search(r"^wrapped_key = (.*)$", t, re.M).group(1))
assert re.fullmatch(rb"vault:v1:[A-Za-z0-9+/]{80}", w), w  # nonce, key, tag: 60 bytes
PY

vol_mount_fg "$T/daemon1.log" -v -v -o lease=$lease
for i in 1 2 3; do
  head -c 1000000 /dev/urandom >"$T/ref$i"
  cp "$T/ref$i" "$PLAIN/f$i"
done
echo "chunk 1" >"$PLAIN/rag.jsonl"
[[ $(mstatus provider) == vault-transit && $(mstatus key_id) == transit/byokfs ]] || fail "status key"
vol_umount_fg
vol_mount_fg "$T/daemon2.log" -v -v -o lease=$lease
for i in 1 2 3; do cmp "$PLAIN/f$i" "$T/ref$i" || fail "f$i differs after remount"; done
readers=(-r "$PLAIN/f1" -r "$PLAIN/f2" -r "$PLAIN/f3")

# the token revoked at the server
out=$("$harness" -e "${readers[@]}" -w 300 -- bash -c '"$0" revoke-token token="$1" >/dev/null' "$KMSDIR/vaultctl" "$tok1") ||
  fail "harness (token revoked): $out"
check_cutoff "$out" $((lease * 1000 + 100)) "token revoked"
[[ $(mstatus state) == revoked ]] || fail "state $(mstatus state), want revoked"
[[ $(mstatus last_error) == "Vault transit/byokfs decrypt: permission denied (HTTP 403)" ]] || fail "last_error: $(mstatus last_error)"
expect_errno "Key has been revoked" cat "$PLAIN/f2"
expect_fail 4 "permission denied" "$BYOKFS" unlock "$PLAIN"
tok2=$(vault_token byokfs)
vault_env "$tok2"    # a new token in ~/.vault-token: read again at the next call
byokfs unlock "$PLAIN" >>"$T/cli.out" 2>&1 || fail "unlock with a new token: $(cat "$T/cli.out")"
for i in 1 2 3; do cmp "$PLAIN/f$i" "$T/ref$i" || fail "f$i differs after unlock"; done

# the key rotated, version 1 retired
vaultctl rotate-key name=byokfs
out=$("$harness" -e "${readers[@]}" -w 300 -- bash -c 'curl -sS --noproxy "*" --cacert "$KMS_VAULT_CA" -H "X-Vault-Token: root" \
  -X POST --data-binary "{\"min_decryption_version\":2}" "$KMS_VAULT_URL/v1/transit/keys/byokfs/config" >/dev/null') ||
  fail "harness (min_decryption_version): $out"
check_cutoff "$out" $((lease * 1000 + 100)) "min_decryption_version raised"
err=$(mstatus last_error)
[[ $err == "Vault transit/byokfs decrypt: ciphertext or signature version is disallowed by policy (too old) (HTTP 400); the key slot holds version 1" ]] ||
  fail "last_error: $err"
expect_fail 4 "too old" "$BYOKFS" unlock "$PLAIN"
vault_root transit/keys/byokfs/config '{"min_decryption_version":1}'
byokfs unlock "$PLAIN" >>"$T/cli.out" 2>&1 || fail "unlock with version 1 allowed again: $(cat "$T/cli.out")"
for i in 1 2 3; do cmp "$PLAIN/f$i" "$T/ref$i" || fail "f$i differs after the second unlock"; done
echo "chunk 2" >>"$PLAIN/rag.jsonl"
[[ $(cat "$PLAIN/rag.jsonl") == $'chunk 1\nchunk 2' ]] || fail "rag.jsonl"
vol_umount_fg

grep -q "permission denied" "$T/daemon2.log" || fail "the denial is not in the daemon log"
for f in "$T"/daemon*.log "$T/cli.out" "$CIPHER"; do
  no_secret "the first Vault token" "$tok1" "$f"
  no_secret "the second Vault token" "$tok2" "$f"
done
note "decrypt calls: $(counter decrypt vault), encrypt calls: $(counter encrypt vault)"
