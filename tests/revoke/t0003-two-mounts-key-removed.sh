# Two mounts of one backing directory (two hosts sharing storage), lease=1:
# removing the key file cuts both off within lease + 100 ms. First the key
# file is deleted (each mount's inotify watch sees it), then, after unlock,
# the key's directory is hidden under an empty bind mount, which no inotify
# watch sees: only the lease renewals (every lease/2) can notice.
. "$(dirname "$0")/../lib.sh"
harness=$BYOKFS_TOP/build/tools/revoke-harness
[[ $(id -u) -eq 0 ]] || skip "needs root for the bind mount"
mkdir -p "$T/keys" "$T/empty" "$T/plain2"
KEY=$T/keys/master.key
vol_setup
mount_at "$CIPHER" "$T/plain2" -o lease=1
vol_umount
vol_mount -o lease=1
for i in 1 2 3; do head -c 1000000 /dev/urandom > "$PLAIN/f$i"; done

check() { # json max_ms what
  python3 - "$1" "$2" "$3" <<'PY' || fail "$3: $1"
import json, sys
r = json.loads(sys.argv[1]); limit = float(sys.argv[2])
assert r["all_cut_off"] and r["violations"] == 0, "not all cut off"
assert all(x["errno"] == "EKEYREVOKED" for x in r["readers"]), "wrong errors"
assert r["cutoff_ms"] <= limit, "cut off after %.1f ms > %.0f ms" % (r["cutoff_ms"], limit)
print("%s: both mounts cut off %.1f ms after the key went" % (sys.argv[3], r["cutoff_ms"]))
PY
}
readers=(-r "$PLAIN/f1" -r "$PLAIN/f2" -r "$T/plain2/f3" -r "$T/plain2/f1")

cp -p "$KEY" "$T/key.saved"
out=$("$harness" -e "${readers[@]}" -w 300 -- rm -f "$KEY") || fail "harness (rm): $out"
check "$out" 1100 "key file deleted"
install -m 0600 "$T/key.saved" "$KEY"
byokfs unlock "$PLAIN" && byokfs unlock "$T/plain2" || fail "unlock after restoring the key"
cmp -s "$PLAIN/f1" "$T/plain2/f1" || fail "mounts disagree after unlock"

out=$("$harness" -e "${readers[@]}" -w 300 -- mount --bind "$T/empty" "$T/keys") ||
  { umount "$T/keys" 2>/dev/null; fail "harness (hidden key): $out"; }
umount "$T/keys"
check "$out" 1100 "key hidden from inotify"
for m in "$PLAIN" "$T/plain2"; do
  st=$(byokfs status --json "$m" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], d["last_error"])')
  [[ $st == "revoked key file"*"is missing" ]] || fail "status of $m: $st"
done
byokfs unlock "$PLAIN" && byokfs unlock "$T/plain2" || fail "unlock after the bind mount went"
[[ $(cat "$PLAIN/f2" | wc -c) -eq 1000000 ]] || fail "read after unlock"
