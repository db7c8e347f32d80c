# Directory listings are cached by the kernel across opens (cache_readdir,
# keep_cache). The cache must follow changes: made on this mount at once,
# made by a second mount of the same backing directory (another host)
# within attr_timeout; and after revoke no cached listing is served.
. "$(dirname "$0")/../lib.sh"
vol_setup
mkdir "$PLAIN/d"
touch "$PLAIN/d/a" "$PLAIN/d/b"
mount_at "$CIPHER" "$T/m2" -o attr_timeout=0.5,entry_timeout=0.5
[[ $(ls "$T/m2/d" | tr '\n' ' ') == "a b " ]] || fail "second mount lists: $(ls "$T/m2/d")"
ls "$T/m2/d" >/dev/null                                  # now cached
touch "$T/m2/d/local"
[[ $(ls "$T/m2/d" | tr '\n' ' ') == "a b local " ]] || fail "own create not listed: $(ls "$T/m2/d")"
touch "$PLAIN/d/c"; rm "$PLAIN/d/a"
ok=0
for i in $(seq 40); do
  sleep 0.1
  [[ $(ls "$T/m2/d" | tr '\n' ' ') == "b c local " ]] && { ok=1; break; }
done
[[ $ok == 1 ]] || fail "other mount's changes not listed after 4 s: $(ls "$T/m2/d" | tr '\n' ' ')"
note "other mount's create and unlink listed after $((i * 100)) ms (attr_timeout 0.5 s)"
exec 3<"$T/m2/d"                                          # a handle opened before the revoke
byokfs revoke "$T/m2"
expect_errno "Key has been revoked" ls "$T/m2/d"
python3 -c 'import os; print(os.listdir(3))' 2>"$T/err" && fail "listing through a handle opened before the revoke succeeded"
grep -q "revoked" "$T/err" || fail "listing through an old handle after revoke: $(tail -n 1 "$T/err")"
exec 3<&-
