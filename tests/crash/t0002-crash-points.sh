#!/usr/bin/env bash
# Crash consistency at chosen points (docs/CRASH.md): the fault-injection
# build kills the daemon at a given pwrite on a file's backing file, after
# writing the first K bytes of it (a torn write), for each way the block
# layer writes: an append after a partial and after a full final block, an
# overwrite, a write of several 1 MiB pieces, truncation down, up and to
# zero, and the first write to a 0-byte file (what a crash during
# truncation to zero leaves). After each crash the same checks as t0001:
# every file opens, everything acknowledged reads back exactly except the
# blocks the operation in flight was writing (old, new, or EIO), and fsck
# reports exactly the blocks that read EIO.
. "$(dirname "$0")/../lib.sh"
grep -qa BYOKFS_FAULTS "$BYOKFS" || skip "$BYOKFS has no fault injection (make asan builds it with)"
TOOL=$(cd "$(dirname "$0")/../tools" && pwd)/crashload.py
mkdir -p "$PLAIN" "$T/model"
: >"$T/journal"
: >"$T/faults"
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null
ovh=28; [[ $(sed -n 's/^cipher = //p' "$CIPHER/.byokfs.volume") == aes-256-gcm ]] || ovh=40

dpid=
start_daemon() {
  BYOKFS_FAULTS=@$T/faults "$BYOKFS" mount -f "$CIPHER" "$PLAIN" 2>>"$T/daemon.log" &
  dpid=$!
  wait_mounted "$PLAIN" "$dpid" || fail "not mounted: $(tail -n 5 "$T/daemon.log")"
  _mounts+=("$PLAIN")
}
op() { python3 "$TOOL" op "$PLAIN" "$T/journal" "$1"; }
w() { echo "{\"op\": \"write\", \"file\": \"f0\", \"off\": $1, \"len\": $2, \"seed\": $3}"; }
tr() { echo "{\"op\": \"truncate\", \"file\": \"f0\", \"size\": $1}"; }

damaged=0
# crash_at NAME AFTER TORN CRASH-OP SETUP-OP...: f0 is set up, then the
# daemon dies at the (AFTER+1)th pwrite on f0's backing file, TORN bytes in
crash_at() {
  local name=$1 after=$2 torn=$3 crash=$4 s b rc out; shift 4
  start_daemon
  op '{"op": "create", "file": "f0"}' || fail "$name: create"
  op '{"op": "create", "file": "other"}' && op "$(w 0 9000 7 | sed 's/f0/other/')" || fail "$name: other"
  for s in "$@"; do op "$s" || fail "$name: setup $s"; done
  b=$(backing_of "$PLAIN/f0")
  if [[ -n ${ZERO:-} ]]; then
    # what a crash between truncation to zero and the header leaves
    fuse_settle "$PLAIN"; fusermount3 -u "$PLAIN"; wait "$dpid" || fail "$name: daemon exit $?"
    truncate -s 0 "$b"
    start_daemon
  fi
  b=$(basename "$b")
  echo "op=pwrite,path=$b,after=$after,torn=$torn,crash=1" >"$T/faults"
  rc=0; op "$crash" || rc=$?
  [[ $rc -eq 3 ]] || fail "$name: the operation did not fail (exit $rc): the fault did not fire"
  rc=0; wait "$dpid" || rc=$?
  [[ $rc -eq 137 ]] || fail "$name: the daemon exited $rc, not killed by the fault"
  : >"$T/faults"
  fusermount3 -u "$PLAIN" 2>/dev/null || fusermount3 -uz "$PLAIN"
  rc=0
  "$BYOKFS" fsck "$CIPHER" >"$T/fsck.out" 2>&1 || rc=$?
  [[ $rc -eq 0 || $rc -eq 10 ]] || fail "$name: fsck exit $rc: $(cat "$T/fsck.out")"
  [[ $rc -eq 0 ]] || damaged=$((damaged + 1))
  if [[ -n ${INTACT:-} ]] && grep -q ": block $INTACT: " "$T/fsck.out"; then
    fail "$name: block $INTACT was damaged: $(cat "$T/fsck.out")"
  fi
  start_daemon
  out=$(python3 "$TOOL" check "$PLAIN" "$T/model" "$T/journal" "$T/fsck.out") ||
    fail "$name: $out
fsck: $(cat "$T/fsck.out")"
  note "$name (pwrite $after, $torn bytes): $out"
  rm -f "$PLAIN"/* "$T/model"/*
  fuse_settle "$PLAIN"
  fusermount3 -u "$PLAIN"
  wait "$dpid" || fail "$name: daemon exit $? after unmount"
}

slot=$((4096 + ovh))
# the first page boundary after the start of block I: a tear the kernel makes
page_tear() { local p=$((104 + $1 * slot)); echo $(((p / 4096 + 1) * 4096 - p)); }

# append after a partial final block (10000 bytes: block 2 holds 1808): one
# run from block 2, which stops being final
for torn in 0 10 "$(page_tear 2)" 5000; do
  crash_at "append after partial block" 0 "$torn" "$(w 10000 10000 2)" "$(w 0 10000 1)"
done
# append after a full final block (8192 bytes): the new blocks first, then
# block 1 loses its final flag by a pwrite of its own; a crash in the first
# leaves block 1 as it was
for torn in 0 "$(page_tear 2)" 4200; do
  INTACT=1 crash_at "append after full block" 0 "$torn" "$(w 8192 8192 2)" "$(w 0 8192 1)"
done
crash_at "append after full block, old final block" 1 "$(page_tear 1)" "$(w 8192 8192 2)" "$(w 0 8192 1)"
# overwrite inside the file: partial first and last blocks
for torn in 0 100 "$(page_tear 0)" 9000; do
  crash_at "overwrite" 0 "$torn" "$(w 3000 10000 2)" "$(w 0 40000 1)"
done
# a 2.5 MiB write in three 1 MiB pieces (pwrites: 0..255; 256..511, 255;
# 512..639, 511): the third piece torn
crash_at "large write, third piece" 3 5000 "$(w 0 2621440 2)" "$(w 0 100 1)"
# truncation down to a partial block (cut, then the new final block)
crash_at "truncate down" 0 0 "$(tr 10000)" "$(w 0 40000 1)"
crash_at "truncate down, torn" 0 20 "$(tr 10000)" "$(w 0 40000 1)"
# truncation up: the new final block first, then the old one
crash_at "truncate up, new final block" 0 0 "$(tr 30000)" "$(w 0 10000 1)"
crash_at "truncate up, old final block" 1 30 "$(tr 30000)" "$(w 0 10000 1)"
# truncation to zero: cut, then header and empty final block
crash_at "truncate to zero" 0 0 "$(tr 0)" "$(w 0 10000 1)"
# the first write to a 0-byte file: header and empty final block, then the
# blocks (a header with nothing behind it would not open)
for torn in 0 3000; do
  ZERO=1 crash_at "write to a 0-byte file" 1 "$torn" "$(w 0 6000 2)" "$(w 0 10000 1)" "$(tr 0)"
done
[[ $damaged -gt 0 ]] || fail "no crash left a damaged block: the checks of EIO against fsck never ran"
note "$damaged crashes left damaged blocks"
