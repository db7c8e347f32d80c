#!/usr/bin/env bash
# A full backing disk (the volume on a 4 MiB tmpfs): a writer appending in
# mixed chunk sizes gets "No space left on device"; files written and
# fsync'd before are intact (sha256); the file being appended keeps exactly
# the bytes write() acknowledged (size and content); creating files and
# directories on the full disk fails cleanly; after freeing space writes
# work again; all of it also after a remount. The tmpfs is always unmounted.
. "$(dirname "$0")/../lib.sh"
[[ $(id -u) -eq 0 ]] || skip "mounting a tmpfs needs root"
SMALL=$T/small; mkdir -p "$SMALL"
mount -t tmpfs -o size=4m tmpfs "$SMALL" || skip "cannot mount a tmpfs"
track_mount "$SMALL"
CIPHER=$SMALL/vol
mkdir -p "$PLAIN"
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null
vol_mount_fg "$T/log"

head -c $((600 * 1024)) /dev/urandom >"$T/keep1"; head -c $((300 * 1024 + 5)) /dev/urandom >"$T/keep2"
for f in keep1 keep2; do
  python3 - "$T/$f" "$PLAIN/$f" <<'PY'
import os, sys
data = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT, 0o600)
os.write(fd, data); os.fsync(fd); os.close(fd)
PY
done
sum1=$(sha "$T/keep1"); sum2=$(sha "$T/keep2")

cat >"$T/append.py" <<'PY'
import os, random, sys
path, out = sys.argv[1], sys.argv[2]
rnd = random.Random(1234)
stream = rnd.randbytes(8 * 1024 * 1024)
sizes = [10007, 4096, 65549, 1, 777, 200000]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
acked, i, err = 0, 0, None
while acked < len(stream) - 300000:
    n = sizes[i % len(sizes)]; i += 1
    try:
        w = os.write(fd, stream[acked:acked + n])
    except OSError as e:
        err = e.strerror
        break
    acked += w
os.close(fd)
open(out, "wb").write(stream[:acked])
print("%d %s" % (acked, err))
PY
res=$(python3 "$T/append.py" "$PLAIN/growing" "$T/acked") || fail "appender crashed"
acked=${res%% *}; why=${res#* }
[[ $why == "No space left on device" ]] || fail "appender stopped with '$why' after $acked bytes, want No space left on device"
[[ $acked -gt $((1024 * 1024)) ]] || fail "only $acked bytes written before the disk was full"

check() { # when
  [[ $(sha "$PLAIN/keep1") == "$sum1" ]] || fail "$1: keep1 damaged"
  [[ $(sha "$PLAIN/keep2") == "$sum2" ]] || fail "$1: keep2 damaged"
  assert_file_size "$PLAIN/growing" "$acked"
  cmp "$PLAIN/growing" "$T/acked" || fail "$1: the appended file does not hold exactly the acknowledged bytes"
}
check "disk full"
# more writes on the full disk fail cleanly and change nothing
rc=0; out=$(head -c 300000 /dev/urandom 2>/dev/null | dd of="$PLAIN/growing" oflag=append conv=notrunc bs=300000 status=none 2>&1) || rc=$?
[[ $rc -ne 0 && $out == *"No space left on device"* ]] || fail "append on a full disk: exit $rc '$out'"
rc=0; out=$(head -c 200000 /dev/urandom | dd of="$PLAIN/newfile" bs=200000 status=none 2>&1) || rc=$?
[[ $rc -ne 0 && $out == *"No space left on device"* ]] || fail "new file on a full disk: exit $rc '$out'"
# the one write() failed as a whole: the new file holds nothing
[[ ! -e $PLAIN/newfile ]] || assert_file_size "$PLAIN/newfile" 0
# a directory needs its id file: on the full disk mkdir fails and leaves nothing
ls -A "$PLAIN" | LC_ALL=C sort >"$T/names-before"
rc=0; out=$(mkdir "$PLAIN/newdir" 2>&1) || rc=$?
if [[ $rc -eq 0 ]]; then
  # the id fitted after all: the directory must then be fully usable
  echo x >"$PLAIN/newdir/f" 2>/dev/null; ls "$PLAIN/newdir" >/dev/null || fail "mkdir on a full disk made an unusable directory"
  rm -rf "$PLAIN/newdir"
else
  [[ $out == *"No space left on device"* ]] || fail "mkdir on a full disk: exit $rc '$out'"
fi
ls -A "$PLAIN" | LC_ALL=C sort >"$T/names-after"
diff "$T/names-before" "$T/names-after" >/dev/null || fail "refused operations left entries: $(diff "$T/names-before" "$T/names-after")"
[[ $(find "$CIPHER" -mindepth 1 -type d | wc -l) -eq 0 ]] || fail "a half-made backing directory remains"
check "after more refused writes"
vol_umount_fg
vol_mount_fg "$T/log2"
check "after remount"
# free space: writing works again
rm "$PLAIN/keep2"
head -c 100000 /dev/urandom >"$T/after"
cp "$T/after" "$PLAIN/after-free" || fail "write after freeing space"
cmp "$PLAIN/after-free" "$T/after" || fail "file written after freeing space"
[[ $(sha "$PLAIN/keep1") == "$sum1" ]] || fail "keep1 damaged at the end"
cmp "$PLAIN/growing" "$T/acked" || fail "appended file damaged at the end"
vol_umount_fg
