# aws-kms: no provider call on the data path. Over 30 s of appends, creates,
# reads (page cache dropped), stats and listings at lease=10, the AWS KMS
# test server counts exactly as many Decrypt requests as the mount made
# renewals, and no Encrypt: zero KMS calls per read, write, open or create.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
kms_setup
start_aws --tls -- --quiet
aws_env
mkdir -p "$PLAIN"
byokfs init --key aws-kms:alias/byokfs "$CIPHER" >/dev/null
vol_mount_fg "$T/daemon.log" -o lease=10
calls_per_io kmsctl Decrypt aws Encrypt
vol_umount_fg
