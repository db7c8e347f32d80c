#!/usr/bin/env bash
# Moved ciphertext fails authentication: blocks swapped inside a file,
# reordered, a block taken from another file at the same position, block 0
# exchanged between two files, the final block swapped with an inner one,
# another file's whole header put in front of a file's blocks. Every moved
# block's range reads "Input/output error"; the untouched blocks and files
# read exactly. Restored files read again.
. "$(dirname "$0")/../lib.sh"
vol_setup
head -c $((5 * 4096)) /dev/urandom >"$T/x"; head -c $((5 * 4096)) /dev/urandom >"$T/y"
cp "$T/x" "$PLAIN/x"; cp "$T/y" "$PLAIN/y"
bx=$(backing_of "$PLAIN/x"); by=$(backing_of "$PLAIN/y")
vol_umount
cp "$bx" "$T/x.b"; cp "$by" "$T/y.b"
S=4124

slot() { # file index -> stored block bytes on stdout
  dd if="$1" bs=1 skip="$(blk_pos "$2")" count=$S status=none
}
put() { # file index < bytes
  dd of="$1" bs=1 seek="$(blk_pos "$2")" count=$S conv=notrunc status=none
}
errors=()
check() { # case file bad-blocks... (-- good blocks computed); file is x or y
  local what=$1 f=$2; shift 2
  local i rc out
  for i in 0 1 2 3 4; do
    if [[ " $* " == *" $i "* ]]; then
      rc=0; out=$(dd if="$PLAIN/$f" bs=4096 skip=$i count=1 status=none 2>&1 >/dev/null) || rc=$?
      [[ $rc -ne 0 && $out == *"Input/output error"* ]] || errors+=("$what: $f block $i: exit $rc '$out', want Input/output error")
    else
      cmp -s <(dd if="$PLAIN/$f" bs=4096 skip=$i count=1 status=none) <(dd if="$T/$f" bs=4096 skip=$i count=1 status=none) ||
        errors+=("$what: $f block $i does not read back")
    fi
  done
}
restore() { cp "$T/x.b" "$bx"; cp "$T/y.b" "$by"; }

# (a) blocks 1 and 3 of x swapped
slot "$T/x.b" 1 | put "$bx" 3; slot "$T/x.b" 3 | put "$bx" 1
vol_mount; check "swap 1<->3" x 1 3; check "swap 1<->3" y; vol_umount; restore
# (b) block 2 of y copied into x at the same position
slot "$T/y.b" 2 | put "$bx" 2
vol_mount; check "y's block 2 in x" x 2; check "y's block 2 in x" y; vol_umount; restore
# (c) block 0 exchanged between x and y
slot "$T/y.b" 0 | put "$bx" 0; slot "$T/x.b" 0 | put "$by" 0
vol_mount; check "block 0 exchanged" x 0; check "block 0 exchanged" y 0; vol_umount; restore
# (d) y's final block in x's final position
slot "$T/y.b" 4 | put "$bx" 4
vol_mount; check "y's final block in x" x 4; vol_umount; restore
# (e) the final block and an inner block of x swapped
slot "$T/x.b" 4 | put "$bx" 3; slot "$T/x.b" 3 | put "$bx" 4
vol_mount; check "final<->inner" x 3 4; vol_umount; restore
# (f) all blocks of x rotated by one
for i in 0 1 2 3 4; do slot "$T/x.b" "$i" | put "$bx" $(((i + 1) % 5)); done
vol_mount; check "rotated" x 0 1 2 3 4; vol_umount; restore
# (g) y's header in front of x's blocks
dd if="$T/y.b" of="$bx" bs=104 count=1 conv=notrunc status=none
vol_mount
rc=0; out=$(cat "$PLAIN/x" 2>&1 >/dev/null) || rc=$?
[[ $rc -ne 0 && $out == *"Input/output error"* ]] || errors+=("y's header on x: reading x gave exit $rc '$out'")
check "y's header on x" y
vol_umount; restore

if [[ ${#errors[@]} -gt 0 ]]; then
  printf '%s\n' "${errors[@]}" >&2
  fail "${#errors[@]} checks failed (listed above)"
fi
vol_mount
cmp "$PLAIN/x" "$T/x" && cmp "$PLAIN/y" "$T/y" || fail "restored files do not read back"
