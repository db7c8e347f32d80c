#!/usr/bin/env bash
# byokfs init refuses targets that exist (exit 7, one "byokfs: " line) and
# leaves them untouched: a non-empty directory, a directory holding only a
# hidden file, a regular file, an existing volume. Bad options exit 2 and
# create nothing.
. "$(dirname "$0")/../lib.sh"
byokfs keygen "$KEY" 2>/dev/null
snap() { (cd "$1" && find . -printf '%p %y %m %s %T@\n' | LC_ALL=C sort; find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2); }

mkdir -p "$T/full/sub"; echo "precious data" >"$T/full/file"; echo x >"$T/full/sub/y"
snap "$T/full" >"$T/before"
expect_fail 7 "is not empty" byokfs init --key "local:$KEY" "$T/full"
snap "$T/full" >"$T/after"
diff "$T/before" "$T/after" || fail "init changed a non-empty directory"
[[ ! -e $T/full/.byokfs.volume && ! -e $T/full/.byokfs.dirid ]] || fail "init left bookkeeping in a non-empty dir"

mkdir "$T/hidden"; echo h >"$T/hidden/.dotfile"
expect_fail 7 "is not empty" byokfs init --key "local:$KEY" "$T/hidden"
assert_eq "$(ls -A "$T/hidden")" ".dotfile" "dir with a hidden file after refused init"

echo "a file" >"$T/afile"
expect_fail 7 "not a directory" byokfs init --key "local:$KEY" "$T/afile"
assert_eq "$(cat "$T/afile")" "a file" "file after refused init"

byokfs init --key "local:$KEY" "$T/vol" >/dev/null
snap "$T/vol" >"$T/vbefore"
expect_fail 7 "is not empty" byokfs init --key "local:$KEY" "$T/vol"
snap "$T/vol" >"$T/vafter"
diff "$T/vbefore" "$T/vafter" || fail "init over an existing volume changed it"

# bad options: usage errors, nothing created
expect_fail 2 "block-size" byokfs init --key "local:$KEY" --block-size 3000 "$T/new1"
expect_fail 2 "block-size" byokfs init --key "local:$KEY" --block-size 131072 "$T/new1"
expect_fail 2 "longname-max" byokfs init --key "local:$KEY" --longname-max 63 "$T/new1"
expect_fail 2 "cipher" byokfs init --key "local:$KEY" --cipher rot13 "$T/new1"
out=$(byokfs init "$T/new1" 2>&1) && fail "init without --key succeeded"
[[ ! -e $T/new1 ]] || fail "a refused init created the directory"
# an empty existing directory and a new one are fine
mkdir "$T/empty"
byokfs init --key "local:$KEY" "$T/empty" >/dev/null || fail "init on an empty dir"
byokfs init --key "local:$KEY" "$T/new2" >/dev/null || fail "init on a new dir"
assert_eq "$(ls -A "$T/new2" | tr '\n' ' ')" ".byokfs.dirid .byokfs.volume " "new volume"
