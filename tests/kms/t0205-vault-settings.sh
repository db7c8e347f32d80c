# vault-transit settings, key versions and error classes, against the Vault
# test server (kmscall, no mount):
#  - TLS: no CA and an unrelated CA fail (transient, "certificate"), also
#    with VAULT_SKIP_VERIFY=true (ignored); VAULT_CACERT, byokfs.conf
#    [vault-transit] ca_bundle and address work; http:// off loopback refused;
#  - tokens: VAULT_TOKEN beats ~/.vault-token; byokfs.conf token_file; a
#    rewritten token file is read before the old token is refused; no token
#    is denied;
#  - VAULT_NAMESPACE selects the namespace's key;
#  - key versions: rewrap after a rotation gives vault:v2, which unwraps to
#    the same key; with min_decryption_version=2 the v1 blob is denied
#    ("too old", version 1 named) and the v2 blob still opens; the volume id
#    is bound (another context is denied); a key that is not derived is
#    refused at wrap (invalid);
#  - statuses: 403/404/400 denied, 400 "invalid ciphertext" invalid,
#    429/500/503/412/307 transient after max_attempts tries (Retry-After
#    honoured).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
kms_setup
start_vault --tls -- --quiet
export ADMINCTL_CACERT=$KMS_VAULT_CA
certs=$(dirname "$KMS_VAULT_CA")
vaultctl create-key name=byokfs derived=true
vault_policy_byokfs
tok=$(vault_token byokfs)
spec=vault-transit:transit/byokfs
ctx=00112233445566778899aabbccddeeff
errors_of() { vaultctl_out counters | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["errors"].get(sys.argv[1], 0))' "$1"; }

# ---- TLS and address
printf '%s\n' "$tok" >"$HOME/.vault-token"
export VAULT_ADDR=$KMS_VAULT_URL
kmscall_expect 12 "SSL certificate problem: unable to get local issuer certificate" $spec $ctx roundtrip
VAULT_SKIP_VERIFY=true kmscall_expect 12 "SSL certificate problem" $spec $ctx roundtrip
VAULT_CACERT=$certs/other-ca.pem kmscall_expect 12 "SSL certificate problem" $spec $ctx roundtrip
VAULT_CACERT=$KMS_VAULT_CA kmscall_expect 0 "ok transit/byokfs" $spec $ctx roundtrip
unset VAULT_ADDR
printf '[vault-transit]\naddress = %s\nca_bundle = %s\n' "$KMS_VAULT_URL" "$KMS_VAULT_CA" >"$BYOKFS_CONFIG"
kmscall_expect 0 "ok transit/byokfs" $spec $ctx roundtrip
VAULT_ADDR=http://vault.example.com:8200 kmscall_expect 11 "refusing 'http://vault.example.com:8200'" $spec $ctx roundtrip
kmscall $spec $ctx wrap "$T/v1" >/dev/null || fail "wrap"

# ---- tokens
VAULT_TOKEN=bogus kmscall_expect 11 "permission denied (HTTP 403)" $spec $ctx unwrap "$T/v1"
mv "$HOME/.vault-token" "$T/token"
kmscall_expect 11 "no Vault token" $spec $ctx unwrap "$T/v1"
printf '[vault-transit]\naddress = %s\nca_bundle = %s\ntoken_file = %s\n' "$KMS_VAULT_URL" "$KMS_VAULT_CA" "$T/token" >"$BYOKFS_CONFIG"
kmscall_expect 0 "ok " $spec $ctx unwrap "$T/v1"
VAULT_TOKEN=$tok kmscall_expect 0 "ok " $spec $ctx unwrap "$T/v1"
tok2=$(vault_token byokfs)
vaultctl reset-counters
"$T/kmscall" -n 8 -i 300 $spec $ctx unwrap "$T/v1" >"$T/rot.out" 2>&1 &
rot=$!
sleep 1
printf '%s\n' "$tok2" >"$T/token.new"
mv "$T/token.new" "$T/token"
vaultctl revoke-token token="$tok"
wait "$rot" || fail "calls across a token file rotation: $(cat "$T/rot.out")"
[[ $(errors_of 403) -eq 0 ]] || fail "the revoked token was used after the file changed"
[[ $(counter decrypt vault) -eq 8 ]] || fail "$(counter decrypt vault) decrypt calls, want 8"

# ---- namespaces
vaultctl create-key name=byokfs namespace=team1 derived=true
VAULT_TOKEN=root VAULT_NAMESPACE=team1 kmscall $spec $ctx wrap "$T/ns" >/dev/null || fail "wrap in namespace team1"
VAULT_TOKEN=root VAULT_NAMESPACE=team1 kmscall_expect 0 "ok " $spec $ctx unwrap "$T/ns"
VAULT_TOKEN=root kmscall_expect 11 "message authentication failed (HTTP 400)" $spec $ctx unwrap "$T/ns"
VAULT_TOKEN=root VAULT_NAMESPACE='team1;x' kmscall_expect 11 "bad Vault namespace" $spec $ctx unwrap "$T/ns"

# ---- key versions, rewrap, binding
kmscall_expect 11 "cipher: message authentication failed (HTTP 400)" $spec ffeeddccbbaa99887766554433221100 unwrap "$T/v1"
vaultctl rotate-key name=byokfs
kmscall_expect 0 "ok transit/byokfs" $spec $ctx rewrap "$T/v1" "$T/v2"
[[ $(head -c 9 "$T/v2") == "vault:v2:" ]] || fail "rewrapped blob: $(cat "$T/v2")"
[[ $(head -c 9 "$T/v1") == "vault:v1:" ]] || fail "original blob: $(cat "$T/v1")"
vault_root transit/keys/byokfs/config '{"min_decryption_version":2}'
kmscall_expect 11 "disallowed by policy (too old) (HTTP 400); the key slot holds version 1" $spec $ctx unwrap "$T/v1"
kmscall_expect 0 "ok " $spec $ctx unwrap "$T/v2"
printf 'not-a-vault-blob' >"$T/junk"
kmscall_expect 13 "not a Vault ciphertext" $spec $ctx unwrap "$T/junk"
vaultctl create-key name=plain
vaultctl put-policy '{"name":"plain","policy":{"path":{"transit/encrypt/plain":{"capabilities":["update"]},"transit/decrypt/plain":{"capabilities":["update"]}}}}'
VAULT_TOKEN=$(vault_token plain) kmscall_expect 13 "Vault key transit/plain is not a derived key" vault-transit:transit/plain $ctx roundtrip
kmscall_expect 11 "permission denied (HTTP 403)" vault-transit:transit/other $ctx roundtrip
VAULT_TOKEN=root kmscall_expect 11 "encryption key not found (HTTP 400)" vault-transit:transit/missing $ctx unwrap "$T/v2"
kmscall_expect 13 "bad Vault transit key" vault-transit:byokfs $ctx roundtrip

# ---- statuses
# status, exit code, requests made (3 attempts for transient ones; a 429
# carries Retry-After: 1, which leaves room for 2 in the 1.5 s budget)
while read -r status code want errors; do
  vaultctl fault type=error status="$status" errors:="$errors" op=decrypt
  vaultctl reset-counters
  kmscall_expect "$code" "(HTTP $status)" $spec $ctx unwrap "$T/v2" >/dev/null
  vaultctl clear-faults
  [[ $(counter decrypt vault) -eq $want ]] || fail "HTTP $status: $(counter decrypt vault) requests, want $want"
done <<'TABLE'
403 11 1 ["permission denied"]
404 11 1 []
400 11 1 ["some new refusal"]
400 13 1 ["invalid ciphertext: no prefix"]
429 12 2 ["rate limit quota exceeded"]
500 12 3 ["internal error"]
503 12 3 ["Vault is sealed"]
412 12 3 ["required index state not present"]
307 12 3 []
TABLE
vaultctl seal
kmscall_expect 12 "Vault is sealed (HTTP 503) (3 attempts)" $spec $ctx unwrap "$T/v2"
vaultctl unseal
kmscall_expect 0 "ok " $spec $ctx unwrap "$T/v2"
