# The control socket serves only the mount's owner and root: another user
# gets a clear refusal (exit 9) from status, revoke and unlock, and the
# mount is not revoked by them. Commands for a path that is no byokfs mount
# say so (exit 8). --help works for each command.
. "$(dirname "$0")/../lib.sh"
need_nobody
vol_setup
echo data > "$PLAIN/f"
chmod 755 "$T"
for cmd in status revoke unlock; do
  out=$(as_nobody "$BYOKFS" $cmd "$PLAIN" 2>&1) && fail "$cmd as nobody succeeded: $out"
  rc=0; as_nobody "$BYOKFS" $cmd "$PLAIN" >/dev/null 2>&1 || rc=$?
  [[ $rc -eq 9 ]] || fail "$cmd as nobody: exit $rc, want 9: $out"
  [[ $out == *"permission denied"*"owner"*"root"* ]] || fail "$cmd as nobody: unclear refusal: $out"
  [[ $(printf '%s\n' "$out" | wc -l) -eq 1 ]] || fail "not one line: $out"
done
[[ $(cat "$PLAIN/f") == data ]] || fail "mount was affected by a refused command"
byokfs status "$PLAIN" | grep -q '^state *unlocked$' || fail "root's status"

expect_fail 8 "no byokfs mount" "$BYOKFS" status "$T"
expect_fail 8 "no byokfs mount" "$BYOKFS" revoke /nonexistent/mnt
for cmd in status revoke unlock; do
  "$BYOKFS" $cmd --help | grep -q "^usage: byokfs $cmd" || fail "$cmd --help"
done
rc=0; out=$("$BYOKFS" revoke 2>&1) || rc=$?
[[ $rc -eq 2 && $out == "usage: byokfs revoke MOUNTPOINT"* ]] || fail "revoke without a mount point: $rc $out"
