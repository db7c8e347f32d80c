#!/usr/bin/env bash
# An unwritable backing directory (a read-only bind mount of the volume):
# the volume mounts, everything reads exactly, and every change through the
# mount (create, append, overwrite, truncate, mkdir, rmdir, unlink, rename,
# link, symlink, mkfifo, chmod, chown, utimens, setxattr) fails with
# "Read-only file system"; nothing changes in the backing store, the daemon
# keeps serving and exits 0 on unmount. Same with byokfs mount -o ro on a
# writable backing directory.
. "$(dirname "$0")/../lib.sh"
[[ $(id -u) -eq 0 ]] || skip "bind mounts need root"
vol_setup
head -c 30000 /dev/urandom >"$T/data"
cp "$T/data" "$PLAIN/file"; mkdir -p "$PLAIN/dir/sub"; echo inner >"$PLAIN/dir/f"; ln -s file "$PLAIN/link"
mkdir "$PLAIN/emptydir"
vol_umount
snap() { (cd "$1" && find . -printf '%p %y %m %s %T@\n' | LC_ALL=C sort; find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2); }
snap "$CIPHER" >"$T/before"
RO=$T/ro; mkdir -p "$RO"
mount --bind "$CIPHER" "$RO"; track_mount "$RO"
mount -o remount,bind,ro "$RO" || skip "cannot remount the bind mount read-only"
touch "$RO/x" 2>/dev/null && fail "the bind mount is writable"

errors=()
erofs() { # what command...
  local what=$1 rc=0 out; shift
  out=$("$@" 2>&1) || rc=$?
  [[ $rc -ne 0 && $out == *"Read-only file system"* ]] || errors+=("$what: exit $rc '$out'")
}
writes() { # label
  local p=$1
  erofs "$p create" sh -c "echo new >'$PLAIN/newfile'"
  erofs "$p append" sh -c "echo more >>'$PLAIN/file'"
  erofs "$p overwrite" dd if=/dev/zero of="$PLAIN/file" bs=100 count=1 conv=notrunc status=none
  erofs "$p O_TRUNC" sh -c ": >'$PLAIN/file'"
  erofs "$p truncate" truncate -s 10 "$PLAIN/file"
  erofs "$p mkdir" mkdir "$PLAIN/newdir"
  erofs "$p rmdir" rmdir "$PLAIN/emptydir"
  erofs "$p unlink" rm -f "$PLAIN/dir/f"
  erofs "$p rename" mv "$PLAIN/file" "$PLAIN/file2"
  erofs "$p link" ln "$PLAIN/file" "$PLAIN/hard"
  erofs "$p symlink" ln -s file "$PLAIN/link2"
  erofs "$p mkfifo" mkfifo "$PLAIN/fifo"
  erofs "$p chmod" chmod 600 "$PLAIN/file"
  erofs "$p chown" chown 1:1 "$PLAIN/file"
  erofs "$p utimens" touch -d 2001-01-01 "$PLAIN/file"
  if command -v setfattr >/dev/null; then erofs "$p setxattr" setfattr -n user.a -v b "$PLAIN/file"; fi
}
reads() { # label
  cmp -s "$PLAIN/file" "$T/data" || errors+=("$1: file does not read back")
  [[ $(cat "$PLAIN/dir/f") == inner && $(readlink "$PLAIN/link") == file ]] || errors+=("$1: dir/f or link")
  [[ $(ls "$PLAIN" | tr '\n' ' ') == "dir emptydir file link " ]] || errors+=("$1: listing: $(ls "$PLAIN")")
}

# 1: read-only backing store
CIPHER=$RO
vol_mount_fg "$T/log.ro"
reads "ro backing"
writes "ro backing"
reads "ro backing, after the refused writes"
vol_umount_fg
CIPHER=$T/cipher
snap "$CIPHER" >"$T/after"
diff "$T/before" "$T/after" >/dev/null || errors+=("the backing store changed: $(diff "$T/before" "$T/after" | head -c 400)")

# 2: -o ro on a writable backing store
vol_mount_fg "$T/log.oro" -o ro
reads "-o ro"
writes "-o ro"
reads "-o ro, after the refused writes"
vol_umount_fg
snap "$CIPHER" >"$T/after2"
diff "$T/before" "$T/after2" >/dev/null || errors+=("-o ro: the backing store changed")

if [[ ${#errors[@]} -gt 0 ]]; then
  printf '%s\n' "${errors[@]}" >&2
  fail "${#errors[@]} checks failed (listed above)"
fi
