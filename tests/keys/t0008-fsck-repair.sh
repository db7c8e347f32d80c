#!/usr/bin/env bash
# byokfs fsck --repair does only what loses nothing that still read, and
# says so on one line each: a torn final block is dropped and the block
# before it re-encrypted as final; so is a final block that fails
# authentication; a file cut at a block boundary gets its last block
# re-encrypted as final; a file cut after its header becomes empty; an
# orphaned long-name side file is removed. A file whose block in front of
# the damaged end does not read either is left alone ("unrepaired"), and
# so is a damaged inner block: exit 10. Without that file, a second
# --repair finds nothing to do and fsck is clean (exit 0); every byte that
# read before reads the same through a mount, and untouched files are
# byte for byte unchanged in the backing store. --repair is refused while
# the volume is mounted (exit 1), changing nothing.
. "$(dirname "$0")/../lib.sh"
vol_setup
ovh=28; [[ $(sed -n 's/^cipher = //p' "$CIPHER/.byokfs.volume") == aes-256-gcm ]] || ovh=40
slot=$((4096 + ovh))
mkdir -p "$T/ref"
head -c 20000 /dev/urandom >"$T/ref/torn"     # blocks 0-4, the last 3616 bytes
head -c 10000 /dev/urandom >"$T/ref/badfinal" # blocks 0-2
head -c 12288 /dev/urandom >"$T/ref/cut"      # blocks 0-2, all full
head -c 5000 /dev/urandom >"$T/ref/hdronly"
head -c 12000 /dev/urandom >"$T/ref/twobad"
head -c 16000 /dev/urandom >"$T/ref/inner"
head -c 30000 /dev/urandom >"$T/ref/good"
mkdir "$PLAIN/d"
for f in torn badfinal cut hdronly twobad inner good; do cp "$T/ref/$f" "$PLAIN/d/$f"; done
declare -A B
for f in torn badfinal cut hdronly twobad inner good; do B[$f]=$(backing_of "$PLAIN/d/$f"); done
vol_umount
dir=$(dirname "${B[torn]}"); rel=${dir#$CIPHER/}
truncate -s $((104 + 4 * slot + 10)) "${B[torn]}"
flip_byte "${B[badfinal]}" $(( $(blk_pos 2 4096 $ovh) + 5 ))
truncate -s $((104 + 2 * slot)) "${B[cut]}"
truncate -s 104 "${B[hdronly]}"
flip_byte "${B[twobad]}" $(( $(blk_pos 1 4096 $ovh) + 5 ))
flip_byte "${B[twobad]}" $(( $(blk_pos 2 4096 $ovh) + 5 ))
flip_byte "${B[inner]}" $(( $(blk_pos 1 4096 $ovh) + 5 ))
orphan=.L$(printf 'Z%.0s' $(seq 43)).name; echo junk >"$dir/$orphan"
sha256sum "${B[good]}" "${B[inner]}" >"$T/untouched"
cp "$CIPHER/.byokfs.volume" "$T/desc"
r() { echo "${1#$CIPHER/}"; }

# refused while mounted
vol_mount
snap() { (cd "$CIPHER" && find . -printf '%p %s %T@\n' | LC_ALL=C sort; find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2); }
snap >"$T/before"
expect_fail 1 "refusing to repair '$(realpath "$CIPHER")' while it is mounted" byokfs fsck --repair "$CIPHER"
snap >"$T/after"
diff "$T/before" "$T/after" || fail "a refused repair changed the backing store"
vol_umount

expected=$(cat <<EOT
damaged $(r "${B[torn]}"): block 4: torn final block (10 bytes, less than nonce and tag) (/d/torn)
repaired $(r "${B[torn]}"): dropped block 4, block 3 re-encrypted as the final block: 16384 bytes remain (/d/torn)
damaged $(r "${B[badfinal]}"): block 2: final block fails authentication (/d/badfinal)
repaired $(r "${B[badfinal]}"): dropped block 2, block 1 re-encrypted as the final block: 8192 bytes remain (/d/badfinal)
damaged $(r "${B[cut]}"): block 1: not marked final: the blocks after it are missing (cut at a block boundary) (/d/cut)
repaired $(r "${B[cut]}"): block 1 re-encrypted as the final block: 8192 bytes remain (/d/cut)
damaged $(r "${B[hdronly]}"): no final block: the file was cut after its header (/d/hdronly)
repaired $(r "${B[hdronly]}"): wrote an empty final block: the file is empty now (/d/hdronly)
damaged $(r "${B[twobad]}"): block 1: fails authentication (/d/twobad)
damaged $(r "${B[twobad]}"): block 2: final block fails authentication (/d/twobad)
unrepaired $(r "${B[twobad]}"): block 1 in front of the damaged end does not read either (/d/twobad)
damaged $(r "${B[inner]}"): block 1: fails authentication (/d/inner)
orphan $rel/$orphan: long-name side file without its entry
repaired $rel/$orphan: removed the orphaned side file
EOT
)
rc=0; "$BYOKFS" fsck --repair "$CIPHER" >"$T/out" 2>"$T/err" || rc=$?
assert_eq "$rc" 10 "fsck --repair exit ($(cat "$T/err"))"
# per file the order is fixed (finding, then its repair); files come in backing-name order
key() { awk '{ k = $2; sub(/:$/, "", k); print k "\t" NR "\t" $0 }' | LC_ALL=C sort -t$'\t' -k1,1 -k2,2n | cut -f3-; }
diff <(sed '1d;$d' "$T/out" | key) <(key <<<"$expected") || fail "repair report differs (above)"
assert_eq "$(tail -n 1 "$T/out")" \
  "damaged: 8 problems in 6 files, 5 repaired; checked 2 directories, 7 files (24 blocks), 0 symlinks, 0 others" "summary"
[[ ! -e $dir/$orphan ]] || fail "the orphan is still there"
sha256sum -c --quiet "$T/untouched" || fail "repair touched a file it should not have"
cmp -s "$CIPHER/.byokfs.volume" "$T/desc" || fail "repair changed the descriptor"
assert_file_size "${B[torn]}" $((104 + 4 * slot))
assert_file_size "${B[badfinal]}" $((104 + 2 * slot))
assert_file_size "${B[cut]}" $((104 + 2 * slot))
assert_file_size "${B[hdronly]}" $((104 + ovh))

# without the unrepairable files: nothing left to do
rm "${B[twobad]}" "${B[inner]}"
rc=0; out=$("$BYOKFS" fsck --repair "$CIPHER" 2>&1) || rc=$?
assert_eq "$rc" 0 "second --repair: $out"
assert_eq "$(tail -n 1 <<<"$out")" "clean: checked 2 directories, 5 files (17 blocks), 0 symlinks, 0 others" "second --repair"
rc=0; out=$("$BYOKFS" fsck "$CIPHER" 2>&1) || rc=$?
assert_eq "$rc" 0 "fsck after repair: $out"

vol_mount
cmp "$PLAIN/d/torn" <(head -c 16384 "$T/ref/torn") || fail "torn: the readable bytes changed"
cmp "$PLAIN/d/badfinal" <(head -c 8192 "$T/ref/badfinal") || fail "badfinal: the readable bytes changed"
cmp "$PLAIN/d/cut" <(head -c 8192 "$T/ref/cut") || fail "cut: the readable bytes changed"
assert_file_size "$PLAIN/d/hdronly" 0
cmp "$PLAIN/d/good" "$T/ref/good" || fail "good file changed"
echo more >>"$PLAIN/d/torn" || fail "append to a repaired file"
cmp "$PLAIN/d/torn" <(head -c 16384 "$T/ref/torn"; echo more) || fail "torn after append"
