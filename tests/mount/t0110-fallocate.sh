#!/usr/bin/env bash
# fallocate (util-linux): -l on a new file (zeros, exact size) and on a
# smaller file (extends with zeros); -n (keep size) reserves space without changing the
# size or content (the backing file gets the space); -p punches holes
# (aligned and unaligned ranges, the tail): punched ranges read zeros, the
# rest is intact, the size is unchanged; unsupported modes refused cleanly.
# Checked again after a remount.
. "$(dirname "$0")/../lib.sh"
vol_setup
ref=$T/ref; mkdir -p "$ref"
cd "$PLAIN"

# -l on a new file
fallocate -l 1048576 new
assert_file_size new 1048576
cmp new <(head -c 1048576 /dev/zero) || fail "fallocate -l: content is not zeros"
fallocate -l 10000 small   # odd size
assert_file_size small 10000
cmp small <(head -c 10000 /dev/zero) || fail "fallocate -l 10000: not zeros"

# -l on an existing smaller file: extends with zeros, keeps the data
head -c 5000 /dev/urandom >"$ref/ext"; cp "$ref/ext" ext
fallocate -l 20000 ext
cp "$ref/ext" "$ref/ext2"; truncate -s 20000 "$ref/ext2"
assert_file_size ext 20000
cmp ext "$ref/ext2" || fail "fallocate -l on a smaller file"
# -o/-l inside the file: nothing changes
fallocate -o 100 -l 1000 ext
cmp ext "$ref/ext2" || fail "fallocate inside the file changed it"

# -n (--keep-size): size and content unchanged, space reserved in the backing file
head -c 5000 /dev/urandom >"$ref/keep"; cp "$ref/keep" keep
b=$(backing_of keep)
before=$(du -k "$b" | cut -f1)
fallocate -n -l $((10 * 1024 * 1024)) keep
assert_file_size keep 5000
cmp keep "$ref/keep" || fail "fallocate -n changed content"
after=$(du -k "$b" | cut -f1)
[[ $after -ge 10240 ]] || fail "fallocate -n reserved no space in the backing file: ${before}k -> ${after}k"
# and the file still grows normally afterwards
head -c 70000 /dev/urandom >>"$ref/keep"; cat "$ref/keep" >keep
cmp keep "$ref/keep" || fail "write after fallocate -n"

# -p: punch holes
head -c $((5 * 4096 + 1234)) /dev/urandom >"$ref/p"; cp "$ref/p" p
punch_ref() { # offset length
  python3 - "$ref/p" "$1" "$2" <<'PY'
import sys
p, off, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d = bytearray(open(p, "rb").read())
end = min(off + n, len(d))
if off < end:
    d[off:end] = bytes(end - off)
open(p, "wb").write(d)
PY
}
for r in "4096 8192" "100 5000" "16383 3" "20000 100000" "0 1"; do
  set -- $r
  fallocate -p -o "$1" -l "$2" p
  punch_ref "$1" "$2"
  assert_file_size p $((5 * 4096 + 1234))
  cmp p "$ref/p" || fail "after fallocate -p -o $1 -l $2"
done
# ranges around the holes read back exactly with dd
for blk in 0 1 2 3 4 5; do
  cmp <(dd if=p bs=4096 skip=$blk count=1 status=none) <(dd if="$ref/p" bs=4096 skip=$blk count=1 status=none) ||
    fail "block $blk after punching"
done
# writing into a punched hole works
printf 'fill' | dd of=p bs=1 seek=5000 conv=notrunc status=none
printf 'fill' | dd of="$ref/p" bs=1 seek=5000 conv=notrunc status=none
cmp p "$ref/p" || fail "write into a punched hole"

# modes byokfs does not support fail cleanly and change nothing
expect_errno "Operation not supported" fallocate -c -o 4096 -l 4096 p
expect_errno "Operation not supported" fallocate -i -o 4096 -l 4096 p
cmp p "$ref/p" || fail "refused fallocate mode changed the file"

cd /
vol_remount
cmp "$PLAIN/new" <(head -c 1048576 /dev/zero) || fail "new after remount"
cmp "$PLAIN/ext" "$ref/ext2" || fail "ext after remount"
cmp "$PLAIN/keep" "$ref/keep" || fail "keep after remount"
cmp "$PLAIN/p" "$ref/p" || fail "punched file after remount"
