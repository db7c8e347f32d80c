#!/usr/bin/env bash
# symlink + readlink: relative, absolute, dangling, to a directory, and a
# ~2000-byte target; lstat size is the target length; the target text is
# never in the backing store (grep -r of the backing dir, and the backing
# links' own targets via find -printf %l); again after a remount.
. "$(dirname "$0")/../lib.sh"
vol_setup
cd "$PLAIN"
mkdir -p dir/sub
echo "target content" >dir/sub/file
long=$(python3 -c 'print("/".join("LONGSYMLINKMARKERq%03d" % i for i in range(90)))')
[[ ${#long} -ge 1900 && ${#long} -le 2100 ]] || fail "long target is ${#long} bytes"

ln -s dir/sub/file RELMARKERzq1rel              # relative, to a file
ln -s "$PLAIN/dir/sub" ABSMARKERzq2abs           # absolute, to a directory
ln -s ../nowhere-DANGLINGMARKERzq3 dir/dangling  # dangling, in a subdirectory
ln -s "$long" longlink
ln -s 'spaces and ünïcødé UTF8MARKERzq4 →' utf8link

check_links() { # when
  assert_eq "$(readlink RELMARKERzq1rel)" "dir/sub/file" "$1: relative target"
  assert_eq "$(cat RELMARKERzq1rel)" "target content" "$1: read through relative link"
  assert_eq "$(readlink ABSMARKERzq2abs)" "$PLAIN/dir/sub" "$1: absolute target"
  assert_eq "$(cat ABSMARKERzq2abs/file)" "target content" "$1: read through absolute link to dir"
  assert_eq "$(readlink dir/dangling)" "../nowhere-DANGLINGMARKERzq3" "$1: dangling target"
  expect_errno "No such file or directory" cat dir/dangling
  assert_eq "$(readlink longlink)" "$long" "$1: long target"
  assert_eq "$(readlink utf8link)" 'spaces and ünïcødé UTF8MARKERzq4 →' "$1: UTF-8 target"
  assert_eq "$(stat -c %s RELMARKERzq1rel)" "12" "$1: lstat size of relative link"
  assert_eq "$(stat -c %s longlink)" "${#long}" "$1: lstat size of long link"
  assert_eq "$(stat -c %s utf8link)" "$(printf '%s' 'spaces and ünïcødé UTF8MARKERzq4 →' | wc -c)" "$1: lstat size of UTF-8 link"
  assert_eq "$(stat -c %F longlink)" "symbolic link" "$1: type"
  assert_eq "$(find . -type l | wc -l)" "5" "$1: number of symlinks"
}
check_links "fresh"
expect_errno "File exists" ln -s x RELMARKERzq1rel

cd /
vol_umount
# nothing of any target (nor the link names) in the backing store
for m in RELMARKERzq1 ABSMARKERzq2 DANGLINGMARKERzq3 LONGSYMLINKMARKER UTF8MARKERzq4 "$PLAIN/dir" "dir/sub/file"; do
  if grep -raF -- "$m" "$CIPHER" >/dev/null; then fail "'$m' found in backing file contents"; fi
  if find "$CIPHER" -type l -printf '%l\n' | grep -qF -- "$m"; then fail "'$m' found in a backing symlink target"; fi
  if find "$CIPHER" -printf '%f\n' | grep -qF -- "$m"; then fail "'$m' found in a backing name"; fi
done
assert_eq "$(find "$CIPHER" -type l | wc -l)" "5" "backing symlinks"
vol_mount
cd "$PLAIN"
check_links "after remount"
# remove and recreate a link with another target
rm longlink; ln -s short longlink
assert_eq "$(readlink longlink)" "short" "recreated link"
