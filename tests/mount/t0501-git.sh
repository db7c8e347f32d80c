#!/usr/bin/env bash
# A real workload: git init, add and commit 3,000 files in nested
# directories over three commits (with a rename, a delete and an edit),
# git gc (packs, mmap'd index and packs); git fsck --full is clean, git
# log and git status are exactly right, a checkout of the first commit
# restores its tree, all again after a remount.
. "$(dirname "$0")/../lib.sh"
command -v git >/dev/null || skip "git not installed"
vol_setup
export HOME=$T GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=Tester GIT_AUTHOR_EMAIL=t@example.com \
  GIT_COMMITTER_NAME=Tester GIT_COMMITTER_EMAIL=t@example.com GIT_AUTHOR_DATE='2024-01-02T03:04:05Z' \
  GIT_COMMITTER_DATE='2024-01-02T03:04:05Z'
repo=$PLAIN/repo
git init -q -b main "$repo"
python3 - "$repo" <<'PY'
import os, sys
r = sys.argv[1]
for i in range(3000):
    d = os.path.join(r, "src", "m%02d" % (i % 30), "p%d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%04d.txt" % i), "w") as f:
        f.write("file %d\n" % i + "line of content %d\n" % (i * 7919 % 1000) * (i % 40))
PY
cd "$repo"
git add -A
git commit -q -m "first: 3000 files"
git mv src/m00/p0/f0000.txt renamed.txt
git rm -q src/m01/p1/f0001.txt
echo "edited" >>src/m02/p2/f0002.txt
git commit -q -am "second: rename, delete, edit"
for i in $(seq 1 20); do echo "$i" >"extra-$i"; done
git add -A; git commit -q -m "third: 20 more"
git gc -q
check_repo() { # when
  cd "$repo"
  out=$(git fsck --full --strict 2>&1) || fail "$1: git fsck failed: $out"
  [[ -z $out ]] || fail "$1: git fsck reports: $out"
  assert_eq "$(git log --format='%s' | tr '\n' '|')" "third: 20 more|second: rename, delete, edit|first: 3000 files|" "$1: git log"
  assert_eq "$(git status --porcelain | wc -l)" "0" "$1: git status"
  assert_eq "$(git ls-files | wc -l)" "3019" "$1: files in the index"
  assert_eq "$(git rev-list --count HEAD)" "3" "$1: commits"
  assert_eq "$(git show HEAD~1 --name-status --format= | LC_ALL=C sort | tr '\n' '|')" \
    "$(printf 'D\tsrc/m01/p1/f0001.txt|M\tsrc/m02/p2/f0002.txt|R100\tsrc/m00/p0/f0000.txt\trenamed.txt|')" "$1: second commit"
  # the content git stored equals what is in the work tree
  git diff --quiet HEAD || fail "$1: work tree differs from HEAD"
  cd /
}
check_repo "fresh"
first_tree=$(cd "$repo" && git rev-parse HEAD~2^{tree})
vol_remount
check_repo "after remount"
cd "$repo"
git checkout -q HEAD~2
assert_eq "$(git write-tree)" "$first_tree" "tree of first commit after checkout"
[[ -f src/m01/p1/f0001.txt && ! -e renamed.txt ]] || fail "checkout of first commit"
git checkout -q main
git diff --quiet HEAD || fail "work tree differs after checkout back"
cd /
