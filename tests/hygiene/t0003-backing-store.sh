#!/usr/bin/env bash
# No key in the backing store: two volumes (AES-256-GCM with 4 KiB blocks;
# XChaCha20-Poly1305 with 64 KiB blocks and short long-name threshold) get
# files of many sizes, sparse and empty files, long names (side files),
# symlinks, hard links, FIFOs, user xattrs, renames, truncations and a
# revoke/unlock; then every byte of each backing tree (contents, names,
# symlink targets, xattr names and values, the descriptor) is scanned for
# the master key, the volume key, every derived key and every data key, raw,
# hex or base64 (keyscan.py). Positive control: the same scan finds a data
# key planted as an xattr value in a copy of the tree.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/hygiene.sh"
need_keytools
MARKER="HYGIENE-MARKER-$RANDOM$RANDOM"
byokfs keygen "$KEY" 2>/dev/null

fill() {
  local s
  for s in 0 1 15 16 4095 4096 4097 65535 65536 65537 200000; do
    head -c "$s" /dev/urandom >"$PLAIN/size-$s"
  done
  hyg_workload "$PLAIN/w"
  mkdir -p "$PLAIN/deep/er/still"
  for i in $(seq 30); do
    echo "$MARKER $i" >"$PLAIN/deep/er/still/name-$i-$(head -c $((i * 8)) /dev/zero | tr '\0' x)"
  done
  ln -s "$(printf 'target/%.0s' $(seq 300))" "$PLAIN/longlink"
  for i in $(seq 10); do setfattr -n "user.attr$i" -v "$MARKER value $i" "$PLAIN/size-1"; done
  mv "$PLAIN/size-4096" "$PLAIN/deep/renamed"
  truncate -s 0 "$PLAIN/size-65536"
  echo again >>"$PLAIN/size-65536"
  fuse_settle "$PLAIN"
  snap_headers
  byokfs revoke "$PLAIN" >/dev/null
  byokfs unlock "$PLAIN" >/dev/null
  echo "$MARKER after unlock" >"$PLAIN/after"
  fuse_settle "$PLAIN"
  snap_headers
}

CIPHER=$T/cipher-aes PLAIN=$T/plain-aes
vol_setup --cipher aes-256-gcm
fill
vol_umount
key_list "$T/keys-aes"
CIPHER=$T/cipher-xc PLAIN=$T/plain-xc
rm -rf "$T/hdrs"
vol_setup --cipher xchacha20-poly1305 --block-size 65536 --longname-max 64
fill
vol_umount
key_list "$T/keys-xc"

[[ -n $(find "$T/cipher-xc" -name '.L*.name') ]] || fail "no long-name side file in the xchacha volume"
for v in aes xc; do
  n=$(grep -c '^data ' "$T/keys-$v")
  note "$v volume: $(find "$T/cipher-$v" | wc -l) backing objects, $n data keys"
  [[ $n -ge 30 ]] || fail "too few data keys for the $v volume: $n"
done
cat "$T/keys-aes" "$T/keys-xc" >"$T/keys"
assert_no_keys "$T/keys" "the AES volume's backing store" "$T/cipher-aes"
assert_no_keys "$T/keys" "the XChaCha volume's backing store" "$T/cipher-xc"
# the scan reaches xattrs deep in a tree
cp -a "$T/cipher-xc" "$T/control"
f=$(find "$T/control" -type f ! -name '.byokfs*' | tail -n 1)
setfattr -n user.planted -v "$(grep '^data ' "$T/keys-xc" | tail -n 1 | cut -d' ' -f2)" "$f"
assert_finds_keys "$T/keys" "a backing tree with a planted key" "$T/control"
rm -rf "$T/control"
