#!/usr/bin/env bash
# Hard links: link counts, one inode number, the same content; a write via
# one name (and via an open fd of it) is read via the other; links across
# directories; unlinking one keeps the other; ln onto an existing name and
# ln of a directory refused; again after a remount.
. "$(dirname "$0")/../lib.sh"
vol_setup
cd "$PLAIN"
mkdir dir
head -c 10000 /dev/urandom >"$T/orig"
cp "$T/orig" a
ln a b
ln a dir/c
assert_eq "$(stat -c %h a):$(stat -c %h b):$(stat -c %h dir/c)" "3:3:3" "link counts"
assert_eq "$(stat -c %i b)" "$(stat -c %i a)" "inode number of b"
assert_eq "$(stat -c %i dir/c)" "$(stat -c %i a)" "inode number of dir/c"
cmp b "$T/orig" || fail "content via b"
cmp dir/c "$T/orig" || fail "content via dir/c"

# a write via one name is read via the others
printf 'PATCH' | dd of=a bs=1 seek=4094 conv=notrunc status=none
python3 - "$T/orig" <<'PY'
import sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read()); d[4094:4099] = b"PATCH"
open(p, "wb").write(d)
PY
cmp b "$T/orig" || fail "write via a not seen via b"
cmp dir/c "$T/orig" || fail "write via a not seen via dir/c"
echo "appended via c" >>dir/c
cat "$T/orig" >"$T/orig2"; echo "appended via c" >>"$T/orig2"
cmp a "$T/orig2" || fail "append via dir/c not seen via a"
assert_eq "$(stat -c %s a)" "$(stat -c %s "$T/orig2")" "size via a after append via c"
# both names open at once
python3 - "$PLAIN/a" "$PLAIN/b" <<'PY' || fail "concurrent handles on two names"
import os, sys
fa = os.open(sys.argv[1], os.O_RDWR); fb = os.open(sys.argv[2], os.O_RDWR)
os.pwrite(fa, b"via-a", 100)
assert os.pread(fb, 5, 100) == b"via-a"
os.pwrite(fb, b"via-b", 20000)
assert os.pread(fa, 5, 20000) == b"via-b"
assert os.fstat(fa).st_size == 20005 == os.fstat(fb).st_size
os.ftruncate(fb, 200)
assert os.fstat(fa).st_size == 200
os.close(fa); os.close(fb)
PY
assert_eq "$(stat -c %s a):$(stat -c %s b):$(stat -c %s dir/c)" "200:200:200" "sizes after truncate via b"
cp a "$T/now"

# refusals
expect_errno "File exists" ln a b
expect_errno "Operation not permitted" python3 -c 'import os; os.link("dir", "dirlink")'
# unlink one name: the others keep the data, link count drops
rm a
assert_eq "$(stat -c %h b)" "2" "link count after rm a"
cmp b "$T/now" || fail "b after rm a"
cd /
vol_remount
cd "$PLAIN"
assert_eq "$(stat -c %h b):$(stat -c %h dir/c)" "2:2" "link counts after remount"
assert_eq "$(stat -c %i b)" "$(stat -c %i dir/c)" "inode numbers after remount"
cmp b "$T/now" || fail "b after remount"
cmp dir/c "$T/now" || fail "dir/c after remount"
echo "after remount" >>b
assert_eq "$(tail -c 14 dir/c)" "after remount" "write via b seen via dir/c after remount"
rm b
assert_eq "$(stat -c %h dir/c)" "1" "link count of the last name"
