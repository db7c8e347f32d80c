#!/usr/bin/env bash
# A tampered file header: one flipped byte anywhere in the 104-byte header
# (magic, version, cipher, block size, reserved bytes, key epoch, file id,
# wrap nonce, wrapped key, its tag): reading that file fails with
# "Input/output error", other files still read exactly, the daemon (-f)
# logs exactly one line naming that backing file and none naming the
# others, and it exits 0 on unmount. The restored header reads again.
. "$(dirname "$0")/../lib.sh"
vol_setup
head -c 10000 /dev/urandom >"$T/victim"; head -c 5000 /dev/urandom >"$T/other1"; echo "small" >"$T/other2"
cp "$T/victim" "$PLAIN/victim"; cp "$T/other1" "$PLAIN/other1"; mkdir "$PLAIN/d"; cp "$T/other2" "$PLAIN/d/other2"
bv=$(backing_of "$PLAIN/victim"); bo1=$(backing_of "$PLAIN/other1"); bo2=$(backing_of "$PLAIN/d/other2")
vol_umount
cp "$bv" "$T/victim.backing"
errors=()
for off in 0 3 4 5 6 7 8 11 12 15 16 24 31 32 47 55 56 80 103; do
  flip_byte "$bv" "$off"
  log=$T/log.$off
  vol_mount_fg "$log"
  rc=0; out=$(cat "$PLAIN/victim" 2>&1 >/dev/null) || rc=$?
  [[ $rc -ne 0 && $out == *"Input/output error"* ]] ||
    errors+=("byte $off: reading the file gave exit $rc '$out', want Input/output error")
  cmp -s "$PLAIN/other1" "$T/other1" || errors+=("byte $off: other1 does not read back")
  cmp -s "$PLAIN/d/other2" "$T/other2" || errors+=("byte $off: d/other2 does not read back")
  vol_umount_fg
  n=$(grep -cF -- "$bv" "$log" || true)
  [[ $n -eq 1 ]] || errors+=("byte $off: $n log lines name the backing file, want 1: $(cat "$log")")
  ! grep -qF -e "$bo1" -e "$bo2" "$log" || errors+=("byte $off: the log names an untouched file: $(cat "$log")")
  cp "$T/victim.backing" "$bv"
done
if [[ ${#errors[@]} -gt 0 ]]; then
  printf '%s\n' "${errors[@]}" >&2
  fail "${#errors[@]} header tamperings not caught as required (listed above)"
fi
vol_mount
cmp "$PLAIN/victim" "$T/victim" || fail "restored file does not read back"
