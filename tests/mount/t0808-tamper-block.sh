#!/usr/bin/env bash
# A tampered block in a 5-block file (one flipped byte in the nonce, the
# ciphertext or the tag of block 2, or of the final block 4): reading that
# block's range fails with "Input/output error" (whole-file read, the block
# alone, a read straddling into it), the other blocks' ranges read exactly
# (dd skip/count), other files read, a partial write into the bad block
# fails with EIO instead of re-encrypting garbage, and the daemon log
# names the backing file. The restored file reads again.
. "$(dirname "$0")/../lib.sh"
vol_setup
head -c $((5 * 4096)) /dev/urandom >"$T/ref"
cp "$T/ref" "$PLAIN/five"
echo "bystander" >"$PLAIN/other"
b=$(backing_of "$PLAIN/five")
assert_file_size "$b" $((104 + 5 * 4124))
vol_umount
cp "$b" "$T/five.backing"
errors=()
err() { errors+=("$*"); }
blk() { dd if="$PLAIN/five" bs=4096 skip="$1" count=1 status=none; }
for spec in "2 3 nonce" "2 2000 ciphertext" "2 4119 tag" "4 12 final-block-ciphertext" "0 4123 first-block-tag"; do
  set -- $spec
  bad=$1 what="block $1 $3"
  flip_byte "$b" $(($(blk_pos "$bad") + $2))
  log=$T/log.$1.$2
  vol_mount_fg "$log"
  rc=0; out=$(blk "$bad" 2>&1 >/dev/null) || rc=$?
  [[ $rc -ne 0 && $out == *"Input/output error"* ]] || err "$what: reading the block gave exit $rc '$out'"
  for i in 0 1 2 3 4; do
    [[ $i -eq $bad ]] && continue
    cmp -s <(blk "$i") <(dd if="$T/ref" bs=4096 skip="$i" count=1 status=none) || err "$what: block $i does not read back"
  done
  rc=0; out=$(cat "$PLAIN/five" 2>&1 >/dev/null) || rc=$?
  [[ $rc -ne 0 && $out == *"Input/output error"* ]] || err "$what: reading the whole file gave exit $rc '$out'"
  # a small read straddling the previous block and the bad one: EIO, or
  # (the previous page being cached) a short read of the good bytes only
  if [[ $bad -gt 0 ]]; then
    out=$(python3 - "$PLAIN/five" "$T/ref" $((bad * 4096 - 5)) <<'PY' 2>&1
import errno, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY); off = int(sys.argv[3])
ref = open(sys.argv[2], "rb").read()
try:
    got = os.pread(fd, 10, off)
except OSError as e:
    print("EIO" if e.errno == errno.EIO else "errno %d" % e.errno); sys.exit()
if len(got) <= 5 and got == ref[off:off + len(got)]:
    print("short read of %d good bytes" % len(got))
else:
    print("returned %d bytes reaching into the bad block" % len(got))
PY
)
    [[ $out == EIO || $out == "short read of "*" good bytes" ]] || err "$what: straddling read: $out"
  fi
  [[ $(cat "$PLAIN/other") == bystander ]] || err "$what: other file does not read"
  # a partial write into the bad block must fail, not re-encrypt garbage
  rc=0; out=$(printf 'WXYZ' | dd of="$PLAIN/five" bs=1 seek=$((bad * 4096 + 8)) conv=notrunc status=none 2>&1) || rc=$?
  [[ $rc -ne 0 && $out == *"Input/output error"* ]] || err "$what: partial write into the bad block gave exit $rc '$out'"
  rc=0; out=$(blk "$bad" 2>&1 >/dev/null) || rc=$?
  [[ $rc -ne 0 ]] || err "$what: the bad block reads after a partial write into it"
  vol_umount_fg
  grep -qF -- "$b" "$log" || err "$what: the log does not name the backing file: $(cat "$log")"
  cp "$T/five.backing" "$b"
done
if [[ ${#errors[@]} -gt 0 ]]; then
  printf '%s\n' "${errors[@]}" >&2
  fail "${#errors[@]} block tampering checks failed (listed above)"
fi
vol_mount
cmp "$PLAIN/five" "$T/ref" || fail "restored file does not read back"
