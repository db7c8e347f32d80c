# A volume can be made, mounted, written, read, unmounted and mounted again,
# and the backing directory holds no plaintext content or name.
. "$(dirname "$0")/../lib.sh"
vol_setup
echo "hello byokfs secret-content-42" > "$PLAIN/secret-name-42.txt"
mkdir "$PLAIN/dir-secret-43"
echo nested > "$PLAIN/dir-secret-43/inner"
[[ $(cat "$PLAIN/secret-name-42.txt") == "hello byokfs secret-content-42" ]] || fail "read back"
vol_umount
! grep -rq "secret-content-42" "$CIPHER" || fail "plaintext content in backing store"
! find "$CIPHER" | grep -q "secret" || fail "plaintext name in backing store"
vol_mount
[[ $(cat "$PLAIN/secret-name-42.txt") == "hello byokfs secret-content-42" ]] || fail "read after remount"
[[ $(cat "$PLAIN/dir-secret-43/inner") == nested ]] || fail "nested read after remount"
[[ $(ls "$PLAIN" | sort | tr '\n' ' ') == "dir-secret-43 secret-name-42.txt " ]] || fail "listing: $(ls "$PLAIN")"
