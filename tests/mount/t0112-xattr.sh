#!/usr/bin/env bash
# user.* extended attributes (setfattr/getfattr from attr, python os.*xattr):
# set, get, list, replace, remove, a 2000-byte value (4000 bytes: t0114),
# binary and empty values,
# XATTR_CREATE/XATTR_REPLACE, on files and directories; neither names nor
# values appear in the backing store (getfattr -d -m - on the backing
# objects, grep -r); trusted.*/security.* refused; again after a remount.
. "$(dirname "$0")/../lib.sh"
command -v setfattr >/dev/null && command -v getfattr >/dev/null || skip "setfattr/getfattr (package attr) not installed"
vol_setup
cd "$PLAIN"
echo data >f; mkdir d
big=$(python3 -c 'print("XATTRBIGVALUEMARKER" + "".join(chr(65 + i % 26) for i in range(1981)), end="")')
assert_eq "${#big}" "2000" "big value length"

setfattr -n user.XATTRNAMEMARKERone -v "XATTRVALUEMARKERone" f
setfattr -n user.second -v "$big" f
setfattr -n user.onDir -v "DIRXATTRVALUEMARKER" d
python3 - "$PLAIN/f" <<'PY' || fail "python xattr checks"
import os, sys, errno
p = sys.argv[1]
os.setxattr(p, "user.binary", b"\x00\x01\xffBINMARK\x00")
os.setxattr(p, "user.empty", b"")
assert os.getxattr(p, "user.binary") == b"\x00\x01\xffBINMARK\x00"
assert os.getxattr(p, "user.empty") == b""
try:
    os.setxattr(p, "user.binary", b"x", os.XATTR_CREATE)
    raise SystemExit("XATTR_CREATE over an existing attribute succeeded")
except OSError as e:
    assert e.errno == errno.EEXIST, e
try:
    os.setxattr(p, "user.absent", b"x", os.XATTR_REPLACE)
    raise SystemExit("XATTR_REPLACE of a missing attribute succeeded")
except OSError as e:
    assert e.errno == errno.ENODATA, e
try:
    os.getxattr(p, "user.absent")
    raise SystemExit("getxattr of a missing attribute succeeded")
except OSError as e:
    assert e.errno == errno.ENODATA, e
PY

check_attrs() { # when
  assert_eq "$(getfattr --only-values -n user.XATTRNAMEMARKERone f)" "XATTRVALUEMARKERone" "$1: get"
  assert_eq "$(getfattr --only-values -n user.second f)" "$big" "$1: 2000-byte value"
  assert_eq "$(getfattr --only-values -n user.onDir d)" "DIRXATTRVALUEMARKER" "$1: dir attribute"
  assert_eq "$(getfattr --absolute-names -m - f | grep -v '^#' | grep . | LC_ALL=C sort | tr '\n' ' ')" \
    "user.XATTRNAMEMARKERone user.binary user.empty user.second " "$1: list"
  python3 -c 'import os,sys; assert os.getxattr(sys.argv[1], "user.binary") == b"\x00\x01\xffBINMARK\x00"' f ||
    fail "$1: binary value"
}
check_attrs "fresh"
# replace and remove
setfattr -n user.XATTRNAMEMARKERone -v "replaced" f
assert_eq "$(getfattr --only-values -n user.XATTRNAMEMARKERone f)" "replaced" "replaced value"
setfattr -n user.XATTRNAMEMARKERone -v "XATTRVALUEMARKERone" f
setfattr -n user.gone -v x f
setfattr -x user.gone f
expect_errno "No such attribute" getfattr -n user.gone f
expect_errno "No such attribute" setfattr -x user.gone f
# other namespaces are refused
expect_errno "Operation not supported" setfattr -n trusted.t -v x f
expect_errno "Operation not supported" setfattr -n security.s -v x f
expect_errno "No such attribute" getfattr -n trusted.t f
check_attrs "after changes"

cd /
vol_umount
# nothing readable in the backing store: names, values
bf=$(find "$CIPHER" -maxdepth 1 -type f ! -name '.byokfs*' | head -n 1)
getfattr -d -m - --absolute-names -e text -R "$CIPHER" >"$T/backing-xattrs" 2>&1 || true
getfattr -d -m - --absolute-names -e hex -R "$CIPHER" >>"$T/backing-xattrs" 2>&1 || true
for m in XATTRNAMEMARKER XATTRVALUEMARKER XATTRBIGVALUEMARKER DIRXATTRVALUEMARKER BINMARK second onDir binary; do
  ! grep -qF "$m" "$T/backing-xattrs" || fail "'$m' readable in the backing xattrs"
  ! grep -raqF "$m" "$CIPHER" || fail "'$m' in a backing file"
done
# the marker in hex, in case a value were stored raw
hexm=$(printf 'XATTRVALUEMARKERone' | od -An -tx1 | tr -d ' \n')
! grep -qi "$hexm" "$T/backing-xattrs" || fail "value stored in clear (hex)"
assert_eq "$(grep -c '^user\.b\.' <(getfattr -d -m - --absolute-names "$bf" 2>/dev/null))" "4" "backing user.b.* attributes of the file"
vol_mount
cd "$PLAIN"
check_attrs "after remount"
