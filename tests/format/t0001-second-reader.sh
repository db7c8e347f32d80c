# docs/FORMAT.md is enough to read a volume: tests/format/byokfs_read.py, a
# reader written from it on OpenSSL and hashlib (no libsodium, no byokfs
# code), extracts a volume written through the mount, and the result equals
# the mounted tree. Both ciphers, 4 KiB and 64 KiB blocks, long names.
. "$(dirname "$0")/../lib.sh"
reader=$(dirname "$0")/byokfs_read.py
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || skip "python3-cryptography (Debian) is not installed"

populate() {
  cd "$PLAIN"
  : > empty
  printf a > one
  head -c 4095 /dev/urandom > b4095; head -c 4096 /dev/urandom > b4096; head -c 4097 /dev/urandom > b4097
  head -c 300000 /dev/urandom > big
  mkdir -p "dir one/two/three"
  echo nested > "dir one/two/three/leaf"
  ln -s ../one "dir one/rel-link"
  ln -s /etc/hostname abs-link
  ln one hard
  long=$(printf 'n%.0s' $(seq 1 250))
  echo "long name" > "$long"
  mkdir "d-$long" 2>/dev/null || mkdir "d-${long:0:200}"
  echo "ünïcødé" > "ünïcødé-名前.txt"
  truncate -s 200000 sparse; echo tail >> sparse
  dd if=/dev/urandom of=sparse bs=1 seek=70000 count=10 conv=notrunc status=none
  setfattr -n user.owner -v alice one
  cd - >/dev/null
}

for variant in "aes-256-gcm 4096" "xchacha20-poly1305 4096" "aes-256-gcm 65536"; do
  set -- $variant
  rm -rf "$CIPHER" "$T/out"
  vol_setup --cipher "$1" --block-size "$2"
  populate
  vol_umount
  mkdir -p "$T/out"
  /usr/bin/python3 "$reader" --key "$KEY" --extract "$T/out" "$CIPHER" > "$T/manifest" ||
    fail "reader failed on $variant"
  vol_mount
  diff -r --no-dereference "$PLAIN" "$T/out" || fail "reader's tree differs from the mount ($variant)"
  grep -q "^file .* one user.owner=$(printf alice | sha256sum | cut -c1-16)$" "$T/manifest" ||
    fail "xattr not read back by the reader ($variant)"
  [[ $(grep -c '^file' "$T/manifest") -eq $(find "$PLAIN" -type f | wc -l) ]] || fail "file count"
  vol_umount
done
