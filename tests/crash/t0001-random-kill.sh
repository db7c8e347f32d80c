#!/usr/bin/env bash
# Crash consistency under kill -9 (docs/CRASH.md). A load generator
# (tests/tools/crashload.py) appends, overwrites, truncates (down, up, to
# zero), creates, renames, unlinks and fsyncs files on a mount, journalling
# each operation before it starts and once the mount acknowledged it; the
# daemon is killed with SIGKILL at a random moment, many times over. After
# each crash: fsck (unmounted) lists the damaged blocks; after a remount
# every file opens, every acknowledged write (so every fsync'd one) reads
# back exactly, except in the blocks the one operation in flight was
# writing, which read as before, as after, or fail with EIO; and the
# blocks that fail are exactly those fsck reports, nothing else. The
# checker then deletes damaged files and the next round continues from
# what the mount holds. BYOKFS_CRASH_ROUNDS (default 25) and
# BYOKFS_CRASH_SEED reproduce a run.
. "$(dirname "$0")/../lib.sh"
TOOL=$(cd "$(dirname "$0")/../tools" && pwd)/crashload.py
ROUNDS=${BYOKFS_CRASH_ROUNDS:-25}
SEED=${BYOKFS_CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
note "seed $SEED, $ROUNDS rounds"
mkdir -p "$PLAIN" "$T/model"
: >"$T/journal"
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null

dpid=
start_daemon() {
  "$BYOKFS" mount -f "$CIPHER" "$PLAIN" 2>>"$T/daemon.log" &
  dpid=$!
  wait_mounted "$PLAIN" "$dpid" || fail "not mounted: $(tail -n 5 "$T/daemon.log")"
  _mounts+=("$PLAIN")
}
stop_daemon() {
  fuse_settle "$PLAIN"
  fusermount3 -u "$PLAIN"
  local rc=0
  wait "$dpid" || rc=$?
  [[ $rc -eq 0 ]] || fail "daemon exited $rc after unmount: $(tail -n 5 "$T/daemon.log")"
}

RANDOM=$((SEED % 32768))
damaged_rounds=0
for round in $(seq "$ROUNDS"); do
  start_daemon
  python3 "$TOOL" load "$PLAIN" "$T/model" "$T/journal" "$((SEED + round))" &
  lpid=$!
  # somewhere in 0.1 .. 1.0 s of load
  sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
  kill -9 "$dpid"
  wait "$dpid" 2>/dev/null || true
  wait "$lpid" || fail "round $round: the load generator failed"
  grep -q '"fail"' "$T/journal" || fail "round $round: the load never saw the crash"
  fusermount3 -u "$PLAIN" 2>/dev/null || fusermount3 -uz "$PLAIN"
  rc=0
  "$BYOKFS" fsck "$CIPHER" >"$T/fsck.out" 2>"$T/fsck.err" || rc=$?
  [[ $rc -eq 0 || $rc -eq 10 ]] || fail "round $round: fsck exit $rc: $(cat "$T/fsck.out" "$T/fsck.err")"
  start_daemon
  out=$(python3 "$TOOL" check "$PLAIN" "$T/model" "$T/journal" "$T/fsck.out") ||
    fail "round $round (seed $SEED): $out
fsck: $(cat "$T/fsck.out")"
  note "round $round: $out"
  [[ $rc -eq 0 ]] || damaged_rounds=$((damaged_rounds + 1))
  stop_daemon
done
note "$damaged_rounds of $ROUNDS crashes left damaged blocks"
# the checker deleted every damaged file: the volume is clean
"$BYOKFS" fsck "$CIPHER" >"$T/fsck.out" 2>&1 || fail "fsck after the last round: $(cat "$T/fsck.out")"
