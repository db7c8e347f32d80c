#!/usr/bin/env bash
# Truncated backing files fail authentication: a 5-block file cut at a
# block boundary (104 + 2*4124: reading the tail fails, block 0 still
# reads), with its final block dropped, cut inside a block, cut to the bare
# header, cut inside the header; a 10000-byte file and an empty file cut
# after their last full block / header. Reading what was lost gives
# "Input/output error", never a silently shorter file; appending to a cut
# file fails the same way; other files read.
. "$(dirname "$0")/../lib.sh"
vol_setup
head -c $((5 * 4096)) /dev/urandom >"$T/five"; head -c 10000 /dev/urandom >"$T/partial"
cp "$T/five" "$PLAIN/five"; cp "$T/partial" "$PLAIN/partial"; : >"$PLAIN/empty"; echo ok >"$PLAIN/other"
b5=$(backing_of "$PLAIN/five"); bp=$(backing_of "$PLAIN/partial"); be=$(backing_of "$PLAIN/empty")
assert_file_size "$be" 132
vol_umount
cp "$b5" "$T/five.b"; cp "$bp" "$T/partial.b"; cp "$be" "$T/empty.b"
errors=()
eio() { # what command...: expects Input/output error
  local what=$1 rc=0 out; shift
  out=$("$@" 2>&1 >/dev/null) || rc=$?
  [[ $rc -ne 0 && $out == *"Input/output error"* ]] || errors+=("$what: exit $rc '$out', want Input/output error")
}
readall() { python3 -c 'import sys; sys.stdout.buffer.write(open(sys.argv[1], "rb").read())' "$1"; }
case_() { # what backing-file cut-size plaintext-name [readable block 0: yes|no]
  local what=$1 b=$2 cut=$3 name=$4 b0=${5:-no}
  truncate -s "$cut" "$b"
  vol_mount
  eio "$what: cat" cat "$PLAIN/$name"
  eio "$what: read of everything (python)" readall "$PLAIN/$name"
  eio "$what: the tail" dd if="$PLAIN/$name" bs=4096 skip=1 status=none
  if [[ $b0 == yes ]]; then
    cmp -s <(dd if="$PLAIN/$name" bs=4096 count=1 status=none) <(head -c 4096 "$T/$name") ||
      errors+=("$what: block 0 does not read back")
  fi
  [[ $(cat "$PLAIN/other") == ok ]] || errors+=("$what: other file does not read")
  # appending must not paper over the cut (a new final block after a gap)
  eio "$what: append" python3 -c 'import os,sys; fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND); os.write(fd, b"more")' "$PLAIN/$name"
  vol_umount
  cp "$T/five.b" "$b5"; cp "$T/partial.b" "$bp"; cp "$T/empty.b" "$be"
}
case_ "cut at 104+2*4124" "$b5" $((104 + 2 * 4124)) five yes
case_ "final block dropped" "$b5" $((104 + 4 * 4124)) five yes
case_ "cut inside block 2" "$b5" $((104 + 2 * 4124 + 1000)) five yes
case_ "cut to the header" "$b5" 104 five
case_ "cut inside the header" "$b5" 50 five
case_ "partial last block dropped" "$bp" $((104 + 2 * 4124)) partial yes
# an empty file is a header plus one empty final block: without it, not empty
truncate -s 104 "$be"
vol_mount
eio "empty file cut to the header: cat" cat "$PLAIN/empty"
vol_umount
cp "$T/empty.b" "$be"

if [[ ${#errors[@]} -gt 0 ]]; then
  printf '%s\n' "${errors[@]}" >&2
  fail "${#errors[@]} truncations not detected (listed above)"
fi
vol_mount
cmp "$PLAIN/five" "$T/five" && cmp "$PLAIN/partial" "$T/partial" || fail "restored files do not read back"
assert_file_size "$PLAIN/empty" 0
