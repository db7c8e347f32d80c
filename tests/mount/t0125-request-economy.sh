#!/usr/bin/env bash
# The tunings that save FUSE requests (docs/PERFORMANCE.md) still hold, as
# counted in the daemon's request trace (-d): writes and reads of 1 MiB
# (max_write, max_read, readahead), no READ for an unchanged file read
# again (FOPEN_KEEP_CACHE), no FLUSH per close, no GETXATTR before every
# write (KILLPRIV_V2, checked in t0123), no GETATTR per entry of a listing
# (READDIRPLUS). Counts, not timings: each bound is far below what the
# kernel sends without the tuning.
. "$(dirname "$0")/../lib.sh"
[[ $(id -u) -eq 0 ]] || skip "needs root (drop_caches)"
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null
mkdir -p "$PLAIN"
vol_mount_fg "$T/trace" -d

# N = requests of one type the daemon received while a command ran
TRACE=$T/trace
count() { # opcode cmd...
  local op=$1 before after
  shift
  fuse_settle "$PLAIN"
  before=$(grep -ac "opcode: $op " "$TRACE" || true)
  "$@" || fail "$*"
  fuse_settle "$PLAIN"
  sleep 0.2
  after=$(grep -ac "opcode: $op " "$TRACE" || true)
  N=$((after - before))
}
grep -aq "opcode: " "$T/trace" || fail "the -d trace shows no requests: $(tail -n 3 "$T/trace")"

# 8 MiB in 1 MiB writes: 8 WRITE requests (64 at the kernel's default 128 KiB)
count WRITE dd if=/dev/urandom of="$PLAIN/seq" bs=1M count=8 conv=fsync status=none
n=$N
note "WRITE requests for 8 MiB in 1 MiB writes: $n"
[[ $n -ge 8 ]] || fail "only $n WRITE requests for 8 MiB: is the trace complete?"
[[ $n -le 10 ]] || fail "$n WRITE requests for 8 MiB in 1 MiB writes: max_write is not 1 MiB"

# cold read of it: about 1 MiB per READ (the readahead ramps up first)
sync
echo 3 >/proc/sys/vm/drop_caches
count READ sh -c 'cat "$1" >/dev/null' _ "$PLAIN/seq"
n=$N
note "READ requests for a cold 8 MiB read: $n"
[[ $n -ge 1 ]] || fail "no READ request for a cold read: is the trace complete?"
[[ $n -le 20 ]] || fail "$n READ requests for a cold 8 MiB read: reads are not 1 MiB (32 with a 128 KiB max_readahead)"

# read again through new opens: the kernel keeps the pages, no READ
count READ sh -c 'cat "$1" "$1" >/dev/null' _ "$PLAIN/seq"
n=$N
note "READ requests for an unchanged file read again: $n"
[[ $n -eq 0 ]] || fail "$n READ requests for an unchanged file read again: the page cache was not kept"
# ... but a change made through the mount is seen
printf 'changed' | dd of="$PLAIN/seq" bs=1 seek=4096 conv=notrunc status=none
[[ $(dd if="$PLAIN/seq" bs=1 skip=4096 count=7 status=none) == changed ]] || fail "a write was not seen by the next read"

# 100 opens and closes: no FLUSH per close (at most the first, answered ENOSYS)
count FLUSH bash -c 'for i in $(seq 100); do cat "$1" >/dev/null; done' _ "$PLAIN/seq"
n=$N
total=$(grep -ac "opcode: FLUSH " "$TRACE" || true)
note "FLUSH requests for 100 closes: $n (whole trace: $total)"
[[ $total -le 1 ]] || fail "$total FLUSH requests: the kernel sends one per close"

# a listing with attributes: entries and attributes come with READDIRPLUS
mkdir "$PLAIN/d"
for i in $(seq 200); do echo "$i" >"$PLAIN/d/f$i"; done
vol_umount_fg
TRACE=$T/trace.2
vol_mount_fg "$TRACE" -d
count LOOKUP sh -c 'ls -l "$1" >/dev/null' _ "$PLAIN/d"
n=$N
g=$(grep -ac "opcode: GETATTR " "$TRACE" || true)
note "cold ls -l of 200 files: LOOKUP $n, GETATTR in the whole trace $g"
[[ $n -le 20 ]] || fail "$n LOOKUP requests for a cold ls -l of 200 files: READDIRPLUS is not used"
[[ $g -le 20 ]] || fail "$g GETATTR requests for a cold ls -l of 200 files: READDIRPLUS attributes not used"
vol_umount_fg
exit 0
