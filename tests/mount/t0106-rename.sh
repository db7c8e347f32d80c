#!/usr/bin/env bash
# rename: over an existing file (the old target's data is gone, the source
# name too), across directories, onto itself, onto another hard link of the
# same file (POSIX: a no-op, both names stay); renameat2 RENAME_NOREPLACE
# (EEXIST, nothing changed; works when the target is absent) and
# RENAME_EXCHANGE (files swapped; a file and a directory swapped across
# directories; ENOENT with a missing target); again after a remount.
. "$(dirname "$0")/../lib.sh"
vol_setup
cd "$PLAIN"
echo "content A" >a; echo "content B" >b
mkdir d1 d2

# plain rename over an existing file
mv -f a b
[[ ! -e a ]] || fail "source still exists after rename over b"
assert_eq "$(cat b)" "content A" "target after rename over it"
assert_eq "$(ls | tr '\n' ' ')" "b d1 d2 " "listing after rename over existing file"
# across directories and back, with a new name
mv b d1/b1; mv d1/b1 d2/b2; assert_eq "$(cat d2/b2)" "content A" "file moved across directories"
assert_eq "$(ls d1 | wc -l)" "0" "d1 empty after move"
# onto itself
assert_eq "$(py_errno 'os.rename(a, a)' a=d2/b2)" "OK" "rename onto itself"
assert_eq "$(cat d2/b2)" "content A" "file after rename onto itself"

# onto another hard link of the same file: nothing happens, both names stay
echo "linked" >h1; ln h1 h2
assert_eq "$(py_errno 'os.rename(a, b)' a=h1 b=h2)" "OK" "rename onto own hard link"
assert_eq "$(ls h1 h2 | tr '\n' ' ')" "h1 h2 " "both hard links after rename onto each other"
assert_eq "$(stat -c %h h1)" "2" "link count after rename onto own hard link"
assert_eq "$(ls | grep -c '^h')" "2" "readdir after rename onto own hard link"

# RENAME_NOREPLACE
echo one >n1; echo two >n2
assert_eq "$(py_errno 'renameat2(a, b, RENAME_NOREPLACE)' a=n1 b=n2)" "File exists" "RENAME_NOREPLACE onto an existing file"
assert_eq "$(cat n1):$(cat n2)" "one:two" "files after refused RENAME_NOREPLACE"
assert_eq "$(py_errno 'renameat2(a, b, RENAME_NOREPLACE)' a=n1 b=d1)" "File exists" "RENAME_NOREPLACE onto a dir"
assert_eq "$(py_errno 'renameat2(a, b, RENAME_NOREPLACE)' a=n1 b=d1/n1)" "OK" "RENAME_NOREPLACE to a free name"
assert_eq "$(cat d1/n1)" "one" "file after RENAME_NOREPLACE"
[[ ! -e n1 ]] || fail "source remains after RENAME_NOREPLACE"

# RENAME_EXCHANGE of two files
head -c 9000 /dev/urandom >"$T/x"; head -c 3 /dev/urandom >"$T/y"
cp "$T/x" x; cp "$T/y" y
assert_eq "$(py_errno 'renameat2(a, b, RENAME_EXCHANGE)' a=x b=y)" "OK" "RENAME_EXCHANGE"
cmp x "$T/y" || fail "x does not hold y's content after exchange"
cmp y "$T/x" || fail "y does not hold x's content after exchange"
assert_eq "$(stat -c %s x):$(stat -c %s y)" "3:9000" "sizes after exchange"
# exchange of a file and a directory in different directories
mkdir -p d2/sub; echo "in sub" >d2/sub/f
assert_eq "$(py_errno 'renameat2(a, b, RENAME_EXCHANGE)' a=x b=d2/sub)" "OK" "RENAME_EXCHANGE file<->dir"
assert_eq "$(stat -c %F x):$(stat -c %F d2/sub)" "directory:regular file" "types after exchange"
assert_eq "$(cat x/f)" "in sub" "dir content after exchange"
cmp d2/sub "$T/y" || fail "file content after exchange"
# exchange with a missing name
assert_eq "$(py_errno 'renameat2(a, b, RENAME_EXCHANGE)' a=y b=nothere)" "No such file or directory" "RENAME_EXCHANGE with a missing target"
cmp y "$T/x" || fail "y changed by failed exchange"

cd /
(cd "$PLAIN" && find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2) >"$T/before"
vol_remount
(cd "$PLAIN" && find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2) >"$T/after"
diff "$T/before" "$T/after" || fail "files differ after remount"
assert_eq "$(cd "$PLAIN" && find . | LC_ALL=C sort | tr '\n' ' ')" \
  ". ./d1 ./d1/n1 ./d2 ./d2/b2 ./d2/sub ./h1 ./h2 ./n2 ./x ./x/f ./y " "tree after remount"
