#!/usr/bin/env bash
# No key in a core file. (1) The kernel writes none for a mount: its
# RLIMIT_CORE is 0 and it is not dumpable, so SIGQUIT (whose default action
# dumps core, and which neither libfuse nor the sanitizers catch) leaves no
# core even when started with ulimit -c unlimited in a directory where a
# control process dumps one. (2) A core taken from outside by root with
# gcore while the volume is unlocked, with files open and data flowing,
# holds no key: the process memory does (found by scanning /proc/PID/mem,
# the positive control), but keys live only in memory marked MADV_DONTDUMP.
# Part 2 runs the release build: gcore of a sanitizer process tries to dump
# its terabytes of shadow memory.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/hygiene.sh"
need_keytools
[[ $(id -u) -eq 0 ]] || skip "needs root (gcore, /proc/PID/mem)"
command -v gcore >/dev/null || skip "gcore (package gdb) is not installed"
RELEASE=$BYOKFS_TOP/build/byokfs
[[ -x $RELEASE ]] || fail "missing $RELEASE (make)"
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null
mkdir -p "$PLAIN" "$T/cores"

# ---- 1: no core from the kernel ----
pattern=$(cat /proc/sys/kernel/core_pattern)
if [[ $pattern == \|* ]]; then
  note "part 1 skipped: core_pattern pipes to '$pattern'"
else
  # env --default-signal: a shell's background jobs inherit SIGQUIT ignored
  # when the suite itself runs in the background (no job control)
  (cd "$T/cores" && ulimit -c unlimited && exec env --default-signal=QUIT sleep 60) &
  ctl=$!
  sleep 0.2
  kill -QUIT "$ctl"; wait "$ctl" 2>/dev/null || true
  if [[ -z $(ls -A "$T/cores") ]]; then
    note "part 1 skipped: the kernel dumped no core for a control process (pattern '$pattern')"
  else
    rm -f "$T/cores"/*
    (cd "$T/cores" && ulimit -c unlimited &&
      exec env --default-signal=QUIT "$BYOKFS" mount -f "$CIPHER" "$PLAIN") 2>"$T/log1" &
    pid=$!
    wait_mounted "$PLAIN" "$pid" || fail "not mounted: $(cat "$T/log1")"
    _mounts+=("$PLAIN")
    echo data >"$PLAIN/f"; cat "$PLAIN/f" >/dev/null
    grep -Eq '^Max core file size +0 +0 ' "/proc/$pid/limits" ||
      fail "core size limit of the mount: $(grep core "/proc/$pid/limits")"
    kill -QUIT "$pid"
    gone() { [[ ! -e /proc/$pid || $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]]; }
    for _ in $(seq 100); do gone && break; sleep 0.1; done
    gone || fail "the mount survived SIGQUIT"
    rc=0; wait "$pid" 2>/dev/null || rc=$?
    [[ $rc -eq 131 ]] || fail "the mount exited $rc after SIGQUIT, not killed by it (131): $(cat "$T/log1")"
    fusermount3 -u "$PLAIN" 2>/dev/null || fusermount3 -uz "$PLAIN"
    [[ -z $(ls -A "$T/cores") ]] || fail "the mount left a core file: $(ls "$T/cores")"
    note "part 1: no core file from the mount (a control process left one)"
  fi
fi

# ---- 2: gcore of a live, unlocked mount ----
BYOKFS=$RELEASE
vol_mount
for i in 1 2 3; do head -c 200000 /dev/urandom >"$PLAIN/file$i"; done
echo "the secret" >"$PLAIN/small"
exec 3<"$PLAIN/file1" 4<"$PLAIN/small" 5>>"$PLAIN/file2"
cat <&3 >/dev/null; cat <&4 >/dev/null; echo more >&5
pid=$(pgrep -f "byokfs mount .*$CIPHER" | head -n 1)
[[ -n $pid ]] || fail "no daemon"
fuse_settle "$PLAIN"
snap_headers
/usr/bin/python3 "$KEYS_PY" --key "$KEY" "$CIPHER" "$T"/hdrs/* >"$T/keys"
before=$(/usr/bin/python3 "$MEMSCAN" --pid "$pid" <"$T/keys") ||
  fail "positive control: no key in the live process's memory"
echo "$before" | grep -q "found volume" || fail "volume key not in the live process: $before"
echo "$before" | grep -q "found data" || fail "no data key in the live process: $before"
timeout 120 gcore -o "$T/core" "$pid" >/dev/null 2>&1 3<&- 4<&- 5>&- || fail "gcore failed"
core=$(ls "$T"/core.* | head -n 1)
[[ $(stat -c %s "$core") -gt 1000000 ]] || fail "core file too small: $(stat -c %s "$core")"
if after=$(/usr/bin/python3 "$MEMSCAN" --file "$core" <"$T/keys"); then
  fail "keys in a core file of the unlocked mount: $(echo $after)"
fi
rm -f "$core"
exec 3<&- 4<&- 5>&-
note "part 2: keys in memory ($(echo $before | tr '\n' ' ')), none in its core file"
