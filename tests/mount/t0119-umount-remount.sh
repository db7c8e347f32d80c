#!/usr/bin/env bash
# Unmount right after I/O, mount again at once (a service restart): 400
# cycles of mount, create and write a file, close it, fusermount3 -u, and
# an immediate byokfs mount on the same mount point. Every mount succeeds,
# every file written in an earlier cycle reads back, and no daemon leaks
# the handles of files closed just before the unmount (the runner fails
# the test on any sanitizer report, leaks included).
. "$(dirname "$0")/../lib.sh"
mkdir -p "$PLAIN"
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null
byokfs mount "$CIPHER" "$PLAIN" || fail "first mount"
_mounts+=("$PLAIN")
errors=()
for i in $(seq 400); do
  head -c $((i % 20 * 1000 + 1)) /dev/urandom >"$T/f$i"
  cp "$T/f$i" "$PLAIN/f$i"
  cmp -s "$PLAIN/f$((i > 1 ? i - 1 : 1))" "$T/f$((i > 1 ? i - 1 : 1))" || errors+=("cycle $i: previous file does not read back")
  fusermount3 -u "$PLAIN" || fail "cycle $i: fusermount3 -u failed"
  rc=0; out=$("$BYOKFS" mount "$CIPHER" "$PLAIN" 2>&1) || rc=$?
  if [[ $rc -ne 0 ]]; then
    errors+=("cycle $i: mount right after unmount: exit $rc: $out")
    # let the old daemon finish, then go on
    for _ in $(seq 100); do pgrep -f "byokfs mount .*$T" >/dev/null || break; sleep 0.05; done
    byokfs mount "$CIPHER" "$PLAIN" || fail "cycle $i: mount failed even after the old daemon exited"
  fi
  mountpoint -q "$PLAIN" || fail "cycle $i: not mounted"
done
for i in $(seq 400); do cmp -s "$PLAIN/f$i" "$T/f$i" || errors+=("f$i does not read back at the end"); done
if [[ ${#errors[@]} -gt 0 ]]; then
  printf '%s\n' "${errors[@]}" >&2
  fail "${#errors[@]} problems (listed above)"
fi
