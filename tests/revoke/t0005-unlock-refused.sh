# After a revocation, unlock asks the provider again: with a different key
# in place of the key file it is refused (exit 4) and the mount stays
# revoked; with the right key back it unlocks. A lease of 0.2 s keeps
# renewing without trouble (status shows renewals), and -o lease below 0.2
# is refused at mount.
. "$(dirname "$0")/../lib.sh"
vol_setup
vol_umount
vol_mount -o lease=0.2
echo data > "$PLAIN/f"
sleep 1.2
n=$(byokfs status --json "$PLAIN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["renewals_ok"])')
[[ $n -ge 4 ]] || fail "only $n renewals in 1.2 s at lease=0.2"
byokfs revoke "$PLAIN"
mv "$KEY" "$T/right.key"
byokfs keygen "$KEY" 2>/dev/null
expect_fail 4 "wrong key" "$BYOKFS" unlock "$PLAIN"
expect_errno "Key has been revoked" cat "$PLAIN/f"
rm "$KEY"; mv "$T/right.key" "$KEY"
byokfs unlock "$PLAIN" || fail "unlock with the right key"
[[ $(cat "$PLAIN/f") == data ]] || fail "read after unlock"
vol_umount
expect_fail 2 "bad mount option 'lease=0.1'" "$BYOKFS" mount -o lease=0.1 "$CIPHER" "$PLAIN"
