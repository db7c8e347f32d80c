#!/usr/bin/env bash
# No plaintext in the backing store: after writing distinctive markers
# through the mount as file content (at block starts, across block
# boundaries, in tiny files, repeated 1 MiB long), file names, long names,
# directory names, symlink targets, xattr names and values, none of the
# markers is found (as text, hex, UTF-16, or base64 at any alignment) by a
# binary grep -r of the backing dir, its names, symlink targets and xattrs,
# neither while mounted nor after unmount. Identical plaintext never gives
# identical ciphertext: identical files, identical blocks inside a file and
# a rewrite of the same data all store different bytes.
. "$(dirname "$0")/../lib.sh"
vol_setup
cd "$PLAIN"
M=(CONTENTMARKERa1 BOUNDARYMARKERb2 TINYMARKERc3 REPEATMARKERd4 FILENAMEMARKERe5 DIRNAMEMARKERf6
   LONGNAMEMARKERg7 LINKTARGETMARKERh8 XATTRNAMEMARKERi9 XATTRVALUEMARKERj0 SUBDIRMARKERk1)
# content
{ echo "CONTENTMARKERa1 at the start"; head -c 4000 /dev/zero; echo "CONTENTMARKERa1 again"; } >plainfile
python3 -c '
import sys
d = bytearray(b"." * 20000)
d[4090:4090 + 16] = b"BOUNDARYMARKERb2"       # across the first block boundary
d[8192:8192 + 16] = b"BOUNDARYMARKERb2"       # at a block start
open(sys.argv[1], "wb").write(bytes(d))' boundary
printf 'TINYMARKERc3' >tiny
python3 -c 'import sys; open(sys.argv[1], "wb").write(b"REPEATMARKERd4--" * 65536)' repeated
# names
echo x >"FILENAMEMARKERe5.txt"
mkdir -p "DIRNAMEMARKERf6/SUBDIRMARKERk1"
echo y >"DIRNAMEMARKERf6/SUBDIRMARKERk1/inner"
echo z >"LONGNAMEMARKERg7-$(printf 'q%.0s' $(seq 230))"
# symlink targets
ln -s "LINKTARGETMARKERh8/some/where" link1
ln -s "/abs/LINKTARGETMARKERh8" "DIRNAMEMARKERf6/link2"
# xattrs
if command -v setfattr >/dev/null; then
  setfattr -n user.XATTRNAMEMARKERi9 -v XATTRVALUEMARKERj0 plainfile
  setfattr -n user.other -v XATTRVALUEMARKERj0XATTRVALUEMARKERj0 "DIRNAMEMARKERf6"
fi
cd /

variants() { # marker -> the marker in the encodings a careless store might use
  python3 - "$1" <<'PY'
import base64, sys
m = sys.argv[1].encode()
out = {m.decode(), m.hex(), m.hex().upper(), m.decode().lower()}
out.add(m.decode().encode("utf-16-le").decode("latin-1"))
for k in range(3):          # base64 / base64url of the marker at each alignment
    for enc in (base64.b64encode, base64.urlsafe_b64encode):
        s = enc(b"\0" * k + m).decode()
        out.add(s[(4 * k + 2) // 3 + 2:-4] if len(s) > 12 else s)
for v in sorted(out):
    if len(v) >= 8:
        print(v)
PY
}
scan() { # when
  find "$CIPHER" -printf '%f\n' >"$T/names"
  find "$CIPHER" -type l -printf '%l\n' >"$T/targets"
  getfattr -R -d -m - --absolute-names -e text "$CIPHER" >"$T/xattrs" 2>/dev/null || true
  getfattr -R -d -m - --absolute-names -e hex "$CIPHER" >>"$T/xattrs" 2>/dev/null || true
  local m v
  for m in "${M[@]}"; do
    while IFS= read -r v; do
      if grep -raqF -- "$v" "$CIPHER"; then fail "$1: '$v' (from $m) found in backing file contents: $(grep -ralF -- "$v" "$CIPHER" | head -n 3)"; fi
      ! grep -aqF -- "$v" "$T/names" || fail "$1: '$v' (from $m) found in a backing name"
      ! grep -aqF -- "$v" "$T/targets" || fail "$1: '$v' (from $m) found in a backing symlink target"
      ! grep -aqiF -- "$v" "$T/xattrs" || fail "$1: '$v' (from $m) found in backing xattrs"
    done < <(variants "$m")
  done
}
scan "mounted"
# the markers are really there through the mount (the scan is not vacuous)
grep -qF CONTENTMARKERa1 "$PLAIN/plainfile" && ls "$PLAIN" | grep -qF FILENAMEMARKERe5 ||
  fail "markers not readable through the mount"

# identical plaintext, different ciphertext
cp "$PLAIN/repeated" "$PLAIN/repeated2"
b1=$(backing_of "$PLAIN/repeated"); b2=$(backing_of "$PLAIN/repeated2")
python3 - "$b1" "$b2" <<'PY' || fail "repeated plaintext shows in the ciphertext"
import sys
slot = 4096 + 28
blocks = []
for p in sys.argv[1:]:
    d = open(p, "rb").read()
    assert len(d) == 104 + 256 * slot, len(d)
    blocks += [d[104 + i * slot:104 + (i + 1) * slot] for i in range(256)]
    # no 16-byte ciphertext chunk repeats inside a file
    chunks = [d[i:i + 16] for i in range(104, len(d) - 16, 16)]
    assert len(set(chunks)) > 0.99 * len(chunks), "repeating 16-byte chunks"
assert len(set(blocks)) == len(blocks), "identical stored blocks for identical plaintext blocks"
h1, h2 = open(sys.argv[1], "rb").read(104), open(sys.argv[2], "rb").read(104)
assert h1[16:32] != h2[16:32], "two files share a file id"
assert h1[56:] != h2[56:], "two files share a wrapped data key"
PY
b=$(backing_of "$PLAIN/tiny")
before=$(sha "$b")
printf 'TINYMARKERc3' | dd of="$PLAIN/tiny" conv=notrunc status=none
[[ $(sha "$b") != "$before" ]] || fail "rewriting the same data stored the same ciphertext (nonce reuse)"
assert_eq "$(cat "$PLAIN/tiny")" "TINYMARKERc3" "tiny after rewrite"
vol_umount
scan "unmounted"
