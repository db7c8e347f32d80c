#!/usr/bin/env bash
# Mount options: without allow_other another user cannot enter the mount
# ("Permission denied"), with it the usual permission checks apply;
# entry_timeout=0,attr_timeout=0 on a second mount of the same volume sees
# creations, writes, renames and unlinks made through the first at once;
# threads=1 serves concurrent clients (appenders and readers) correctly.
. "$(dirname "$0")/../lib.sh"
need_nobody
mkdir -p "$PLAIN"
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null

# --- allow_other ---
# (another user must be able to reach the mount point: the test's own
# directory is private, so use one of its own under /tmp)
AO=$(mktemp -d /tmp/byokfs-allow-other.XXXXXX); chmod 755 "$AO"; track_dir "$AO"
mount_at "$CIPHER" "$AO"
chmod 755 "$AO"; echo "public" >"$AO/pub"; chmod 644 "$AO/pub"
expect_errno "Permission denied" as_nobody cat "$AO/pub"
vol_umount "$AO"
mount_at "$CIPHER" "$AO" -o allow_other
[[ ,$(findmnt -n -o OPTIONS "$AO"), == *,allow_other,* ]] || fail "allow_other not in the mount options"
assert_eq "$(as_nobody cat "$AO/pub")" "public" "other user reads a 0644 file with allow_other"
echo secret >"$AO/priv"; chmod 600 "$AO/priv"
expect_errno "Permission denied" as_nobody cat "$AO/priv"
expect_errno "Permission denied" as_nobody touch "$AO/new-by-nobody"
vol_umount "$AO"

# --- entry_timeout=0,attr_timeout=0 on a second mount ---
vol_mount
P2=$T/plain2
mount_at "$CIPHER" "$P2" -o entry_timeout=0,attr_timeout=0
echo one >"$PLAIN/shared"
assert_eq "$(cat "$P2/shared")" "one" "second mount sees a new file"
echo "two two" >"$PLAIN/shared"
assert_eq "$(stat -c %s "$P2/shared"):$(cat "$P2/shared")" "8:two two" "second mount sees new content and size"
head -c 100000 /dev/urandom >>"$PLAIN/shared"
assert_eq "$(stat -c %s "$P2/shared")" "100008" "second mount sees the appended size"
cmp "$PLAIN/shared" "$P2/shared" || fail "second mount reads different bytes"
mv "$PLAIN/shared" "$PLAIN/renamed"
[[ ! -e $P2/shared && -f $P2/renamed ]] || fail "second mount does not see the rename"
rm "$PLAIN/renamed"
[[ ! -e $P2/renamed ]] || fail "second mount still sees an unlinked file"
mkdir "$P2/fromtwo"; echo x >"$P2/fromtwo/y"
assert_eq "$(cat "$PLAIN/fromtwo/y")" "x" "first mount sees the second's files"
vol_umount "$P2"
vol_umount

# --- threads=1 under concurrent load ---
vol_mount -o threads=1
head -c 3000000 /dev/urandom >"$T/big"; cp "$T/big" "$PLAIN/big"
pids=()
for w in 0 1 2 3; do
  timeout 120 python3 - "$PLAIN/log" "$w" <<'PY' &
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
for i in range(2000):
    os.write(fd, b"w%s %05d\n" % (sys.argv[2].encode(), i))
PY
  pids+=($!)
done
for r in 1 2; do ( for i in 1 2 3 4 5; do timeout 60 cmp -s "$PLAIN/big" "$T/big" || exit 1; done ) & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || fail "a client failed (or hung) with threads=1"; done
assert_eq "$(wc -l <"$PLAIN/log")" "8000" "lines appended with threads=1"
for w in 0 1 2 3; do
  assert_eq "$(grep -c "^w$w " "$PLAIN/log")" "2000" "lines of writer $w"
  grep "^w$w " "$PLAIN/log" | cut -d' ' -f2 | sort -c -n || fail "writer $w out of order"
done
vol_umount
vol_mount -o threads=256
echo ok >"$PLAIN/t256"; assert_eq "$(cat "$PLAIN/t256")" "ok" "threads=256"
