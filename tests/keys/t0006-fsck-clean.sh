#!/usr/bin/env bash
# byokfs fsck on a clean volume (directories, files of 0, 1, 4096, 4097,
# 100000 bytes, a 1 MiB sparse file, a long name, a hard link, a symlink,
# a FIFO, xattrs): exit 0, exactly a header line and
# "clean: checked 3 directories, 7 files (287 blocks), 1 symlink, 1 other"
# (the hard link counted once), nothing on stderr, and the backing store
# untouched; the same while mounted. With BYOKFS_PROGRESS_EVERY=0 and
# stderr not a terminal, plain progress lines go to stderr ending at 7/7
# files, and stdout is unchanged; on a terminal (script(1)) a bar is
# drawn and cleared before the summary. Could not run: no descriptor, not a
# volume or no such directory (3), a tampered or corrupt descriptor (3), a
# wrong or missing key (4), bad usage (2); --help prints the usage, and
# byokfs help lists keyslot, rotate and fsck.
. "$(dirname "$0")/../lib.sh"
mkdir -p "$PLAIN"
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" --longname-max 64 "$CIPHER" >/dev/null
vol_mount
mkdir -p "$PLAIN/d/e"
printf a >"$PLAIN/a"; : >"$PLAIN/empty"
head -c 4096 /dev/urandom >"$PLAIN/d/b4096"; head -c 4097 /dev/urandom >"$PLAIN/d/b4097"
head -c 100000 /dev/urandom >"$PLAIN/d/e/big"
truncate -s 1048576 "$PLAIN/sparse"
long=$(printf 'n%.0s' $(seq 150)); printf x >"$PLAIN/$long"
ln "$PLAIN/a" "$PLAIN/d/hard"
ln -s a "$PLAIN/lnk"; mkfifo "$PLAIN/fifo"
setfattr -n user.one -v 1 "$PLAIN/a"; setfattr -n user.two -v 22 "$PLAIN/d"
vol_umount
[[ -n $(find "$CIPHER" -name '.L*.name') ]] || fail "no long-name side file in the backing store"
id=$(sed -n 's/^id = //p' "$CIPHER/.byokfs.volume")
cipher=$(sed -n 's/^cipher = //p' "$CIPHER/.byokfs.volume")
real=$(realpath "$CIPHER")
header="checking volume $id in '$real': $cipher, 4096-byte blocks, 1 key slot"
summary="clean: checked 3 directories, 7 files (287 blocks), 1 symlink, 1 other"
snap() { (cd "$CIPHER" && find . -printf '%p %i %s %T@ %m\n' | LC_ALL=C sort
         find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2; getfattr -R -d -m - . 2>/dev/null || true); }
snap >"$T/before"
run() { rc=0; out=$("$BYOKFS" "$@" 2>"$T/err") || rc=$?; err=$(cat "$T/err"); }

run fsck "$CIPHER"
assert_eq "$rc" 0 "fsck exit ($err)"
assert_eq "$out" "$header
$summary" "fsck output"
[[ -z $err ]] || fail "fsck stderr: $err"
snap >"$T/after"
diff "$T/before" "$T/after" || fail "fsck changed the backing store"

BYOKFS_PROGRESS_EVERY=0 run fsck "$CIPHER"
assert_eq "$rc" 0 "fsck with progress: exit"
assert_eq "$out" "$header
$summary" "fsck with progress: stdout"
[[ $(tail -n 1 <<<"$err") =~ ^byokfs:\ fsck:\ 7/7\ files,\ [0-9]+\ files/s,\ [0-9]+:[0-9]{2}\ left$ ]] ||
  fail "progress lines: $err"
(( $(wc -l <<<"$err") >= 7 )) || fail "fewer than 7 progress lines: $err"

# on a terminal: a bar redrawn in place, cleared before the results
if command -v script >/dev/null; then
  tty=$(BYOKFS_PROGRESS_EVERY=0 script -qec "'$BYOKFS' fsck '$CIPHER'" /dev/null)
  [[ $tty == *$'\r\e[Kfsck [##############################] 7/7 files, '*' files/s, 0:00 left'* ]] ||
    fail "no progress bar on a terminal: $(printf '%q' "$tty")"
  [[ $tty == *$'\r\e[K'"$summary"* ]] || fail "the bar is not cleared before the summary: $(printf '%q' "$tty")"
fi

vol_mount
run fsck "$CIPHER"
[[ $rc -eq 0 && $out == "$header
$summary" ]] || fail "fsck while mounted: $rc $out $err"
vol_umount

# could not run
for args in "" "$CIPHER extra" "--bogus $CIPHER"; do
  run fsck $args
  [[ $rc -eq 2 && -z $out && $err == *"usage: byokfs fsck"* ]] || fail "fsck $args: exit $rc, '$out' '$err'"
done
run fsck --help
[[ $rc -eq 0 && $out == "usage: byokfs fsck"* && -z $err ]] || fail "fsck --help"
mkdir "$T/empty-dir"
expect_fail 3 "is not a byokfs volume" byokfs fsck "$T/empty-dir"
expect_fail 3 "cannot open backing directory" byokfs fsck "$T/no-such-dir"
byokfs keygen "$T/other.key" 2>/dev/null
expect_fail 4 "does not open this volume (wrong key)" byokfs fsck --key "local:$T/other.key" "$CIPHER"
mv "$KEY" "$T/moved.key"
expect_fail 4 "missing" byokfs fsck "$CIPHER"
mv "$T/moved.key" "$KEY"
D=$CIPHER/.byokfs.volume
cp "$D" "$T/desc"
sed -i 's/^created = ./created = 1/' "$D"
! cmp -s "$D" "$T/desc" || fail "the edit changed nothing"
expect_fail 3 "volume descriptor of '$real' failed authentication: it was modified" byokfs fsck "$CIPHER"
head -c 100 "$T/desc" >"$D"
expect_fail 3 "corrupt volume descriptor" byokfs fsck "$CIPHER"
rm "$D"
expect_fail 3 "is not a byokfs volume" byokfs fsck "$CIPHER"
cp "$T/desc" "$D"
run fsck "$CIPHER"
assert_eq "$rc" 0 "fsck with the descriptor back"
help=$("$BYOKFS" help)
for c in keyslot rotate fsck; do
  grep -Eq "^  $c +[a-z]" <<<"$help" || fail "byokfs help does not list $c: $help"
done
