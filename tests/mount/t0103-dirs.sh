#!/usr/bin/env bash
# mkdir, rmdir (empty, non-empty: "Directory not empty", of a file), mkdir
# over an existing name, deep trees, fsyncdir, renaming a directory into
# another directory (its contents stay readable) and over an empty / a
# non-empty directory; the backing tree keeps exactly one directory per
# plaintext directory; everything again after a remount.
. "$(dirname "$0")/../lib.sh"
vol_setup
cd "$PLAIN"

umask 022
mkdir a
assert_eq "$(stat -c '%F %a' a)" "directory 755" "mkdir"
mkdir -m 0700 priv
assert_eq "$(stat -c %a priv)" "700" "mkdir -m 0700"
expect_errno "File exists" mkdir a
echo x >file
expect_errno "File exists" mkdir file
expect_errno "Not a directory" rmdir file
expect_errno "No such file or directory" rmdir nothere
mkdir -p deep/1/2/3/4/5/6/7/8/9
echo "deep content" >deep/1/2/3/4/5/6/7/8/9/leaf
assert_eq "$(cat deep/1/2/3/4/5/6/7/8/9/leaf)" "deep content" "deep file"

# rmdir: empty works, non-empty refuses and keeps everything
mkdir empty
rmdir empty
[[ ! -e empty ]] || fail "rmdir left the directory"
mkdir full; echo keep >full/f
expect_errno "Directory not empty" rmdir full
assert_eq "$(cat full/f)" "keep" "content of a dir whose rmdir failed"
mkdir full2; mkdir full2/sub
expect_errno "Directory not empty" rmdir full2
[[ -d full2/sub ]] || fail "subdir gone after failed rmdir"
# the failed rmdirs must leave the directories usable (names still decrypt)
echo more >full/g; assert_eq "$(ls full | tr '\n' ' ')" "f g " "listing of dir after failed rmdir"
rm full2/sub -r; rmdir full2

# fsyncdir on a directory fd
python3 - "$PLAIN/a" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
os.fsync(fd)
os.fdatasync(fd)
os.close(fd)
PY

# rename a directory (with content) into another directory
mkdir -p src/inner; echo "inner text" >src/inner/file; echo top >src/top
ln -s inner/file src/link
mkdir dst
mv src dst/
[[ ! -e src ]] || fail "src still there after mv"
assert_eq "$(cat dst/src/inner/file)" "inner text" "file in moved dir"
assert_eq "$(cat dst/src/top)" "top" "file in moved dir"
assert_eq "$(cat dst/src/link)" "inner text" "symlink in moved dir"
assert_eq "$(ls dst/src | tr '\n' ' ')" "inner link top " "listing of moved dir"
# and rename it again with a new name, up two levels
mv dst/src renamed
assert_eq "$(cat renamed/inner/file)" "inner text" "file in renamed dir"

# rename a directory over an empty directory
mkdir target_empty
mv -T renamed target_empty
[[ ! -e renamed ]] || fail "source remains after rename over empty dir"
assert_eq "$(cat target_empty/inner/file)" "inner text" "content after rename over empty dir"
assert_eq "$(ls target_empty | tr '\n' ' ')" "inner link top " "listing after rename over empty dir"
# over a non-empty directory: refused, both intact
mkdir -p other/x
expect_errno "Directory not empty" python3 -c 'import os,sys; os.rename(sys.argv[1], sys.argv[2])' target_empty other
assert_eq "$(cat target_empty/top)" "top" "source after failed rename over non-empty dir"
[[ -d other/x ]] || fail "target content after failed rename"
# a file over a directory and a directory over a file: refused
expect_errno "Is a directory" python3 -c 'import os,sys; os.rename(sys.argv[1], sys.argv[2])' file other/x
expect_errno "Not a directory" python3 -c 'import os,sys; os.rename(sys.argv[1], sys.argv[2])' other/x file
[[ -d other/x && $(cat file) == x ]] || fail "objects changed by refused renames"
mkdir still_empty
expect_errno "Is a directory" python3 -c 'import os,sys; os.rename(sys.argv[1], sys.argv[2])' file still_empty
# the refused rename must leave the empty dir usable (its id restored)
echo inside >still_empty/f
assert_eq "$(cat still_empty/f)" "inside" "empty dir after refused rename over it"
# a directory into its own subdirectory: refused
expect_errno "Invalid argument" python3 -c 'import os,sys; os.rename(sys.argv[1], sys.argv[2])' target_empty target_empty/inner/x

# one backing directory per plaintext directory, nothing else
cd /
pd=$(find "$PLAIN" -type d | wc -l)
bd=$(find "$CIPHER" -type d | wc -l)
assert_eq "$bd" "$pd" "backing directories vs plaintext directories"
(cd "$PLAIN" && find . | LC_ALL=C sort) >"$T/before"
vol_remount
(cd "$PLAIN" && find . | LC_ALL=C sort) >"$T/after"
diff "$T/before" "$T/after" || fail "tree differs after remount"
assert_eq "$(cat "$PLAIN/deep/1/2/3/4/5/6/7/8/9/leaf")" "deep content" "deep file after remount"
assert_eq "$(cat "$PLAIN/target_empty/inner/file")" "inner text" "moved dir after remount"
assert_eq "$(cat "$PLAIN/still_empty/f")" "inside" "dir after refused rename, after remount"
rmdir "$PLAIN/a" "$PLAIN/priv"
[[ $(find "$CIPHER" -type d | wc -l) -eq $((bd - 2)) ]] || fail "rmdir left backing directories"
