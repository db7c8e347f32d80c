# vault-transit: no provider call on the data path. Over 30 s of appends,
# creates, reads (page cache dropped), stats and listings at lease=10, the
# Vault test server counts exactly as many transit/decrypt requests as the
# mount made renewals, and no encrypt: zero Vault calls per read, write,
# open or create.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
kms_setup
start_vault --tls -- --quiet
export ADMINCTL_CACERT=$KMS_VAULT_CA
vaultctl create-key name=byokfs derived=true
vault_policy_byokfs
vault_env "$(vault_token byokfs)"
mkdir -p "$PLAIN"
byokfs init --key vault-transit:transit/byokfs "$CIPHER" >/dev/null
vol_mount_fg "$T/daemon.log" -o lease=10
calls_per_io vaultctl decrypt vault encrypt
vol_umount_fg
