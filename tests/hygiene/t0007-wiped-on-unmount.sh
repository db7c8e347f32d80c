#!/usr/bin/env bash
# Keys are wiped on unmount. With BYOKFS_TEST_STOP_BEFORE_EXIT set, the
# mount stops itself (SIGSTOP) right after its exit path has wiped and
# released everything; its memory is scanned then (/proc/PID/mem, every
# readable mapping) for the master key, the volume key, every derived key
# and every data key the mount held, before it is let go (SIGCONT). Three
# ways out: a clean unmount in the foreground, a background daemon
# unmounted, and a connection aborted while a file is still open (the
# kernel never sends that file's RELEASE: the exit path must wipe its data
# key itself). Before each unmount the same scan finds the keys (positive
# control). Run for the test's build and for the release build.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/hygiene.sh"
need_keytools
[[ $(id -u) -eq 0 ]] || skip "needs root (/proc/PID/mem, fusectl)"
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null
mkdir -p "$PLAIN"
export BYOKFS_TEST_STOP_BEFORE_EXIT=1

wait_stopped() { # pid
  local i s
  for i in $(seq 600); do
    s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || fail "pid $1 exited without stopping (the test hook did not run)"
    [[ $s == T ]] && return 0
    sleep 0.05
  done
  fail "pid $1 did not stop after unmount (state $s)"
}

work() { # dir: files written, read, some left open on fds 3 and 4
  mkdir -p "$1"
  head -c 300000 /dev/urandom >"$1/big"
  echo "small $RANDOM" >"$1/small"
  for i in $(seq 5); do echo "line $i" >>"$1/log"; done
  exec 3<"$1/big" 4<"$1/small"
  cat <&3 >/dev/null; cat <&4 >/dev/null
  fuse_settle "$PLAIN"
  snap_headers
  key_list "$T/keys"
}

positive() { # pid label
  local hits
  hits=$(/usr/bin/python3 "$MEMSCAN" --pid "$1" <"$T/keys") ||
    fail "$2: positive control: no key in the mount's memory before unmount"
  echo "$hits" | grep -q "found volume" || fail "$2: volume key not in memory before unmount: $hits"
  echo "$hits" | grep -q "found data" || fail "$2: no data key in memory before unmount: $hits"
}

after() { # pid label
  local hits
  if hits=$(/usr/bin/python3 "$MEMSCAN" --pid "$1" <"$T/keys"); then
    kill -CONT "$1"
    fail "$2: key material in the mount's memory after unmount: $(echo $hits)"
  fi
  note "$2: no key in memory after the exit path"
}

for bin in "$BYOKFS" "$BYOKFS_TOP/build/byokfs"; do
  [[ -x $bin ]] || fail "missing $bin"
  b=$(basename "$(dirname "$bin")")
  [[ $bin == "$BYOKFS_TOP/build/byokfs" ]] && b=release

  # 1: clean unmount of a foreground mount
  "$bin" mount -f "$CIPHER" "$PLAIN" 2>"$T/log" &
  pid=$!
  wait_mounted "$PLAIN" "$pid" || fail "not mounted: $(cat "$T/log")"
  _mounts+=("$PLAIN")
  work "$PLAIN/$b-1"
  positive "$pid" "$b, unmount"
  exec 3<&- 4<&-
  fuse_settle "$PLAIN"
  fusermount3 -u "$PLAIN"
  wait_stopped "$pid"
  after "$pid" "$b, unmount"
  kill -CONT "$pid"
  wait "$pid" || fail "$b: the mount exited $? after unmount: $(cat "$T/log")"

  # 2: a background daemon
  "$bin" mount "$CIPHER" "$PLAIN" 2>"$T/log" || fail "mount: $(cat "$T/log")"
  pid=$(pgrep -f "byokfs mount $CIPHER $PLAIN\$" | head -n 1)
  [[ -n $pid ]] || fail "no daemon"
  work "$PLAIN/$b-2"
  positive "$pid" "$b, daemon"
  exec 3<&- 4<&-
  fuse_settle "$PLAIN"
  fusermount3 -u "$PLAIN"
  wait_stopped "$pid"
  after "$pid" "$b, daemon"
  kill -CONT "$pid"

  # 3: the connection is aborted while a file is open
  "$bin" mount -f "$CIPHER" "$PLAIN" 2>"$T/log" &
  pid=$!
  wait_mounted "$PLAIN" "$pid" || fail "not mounted: $(cat "$T/log")"
  work "$PLAIN/$b-3"
  positive "$pid" "$b, abort"
  conn=$(mountpoint -d "$PLAIN" | cut -d: -f2)
  [[ -w /sys/fs/fuse/connections/$conn/abort ]] ||
    mount -t fusectl fusectl /sys/fs/fuse/connections 2>/dev/null || true
  [[ -w /sys/fs/fuse/connections/$conn/abort ]] || skip "no fusectl: cannot abort a connection"
  echo 1 >"/sys/fs/fuse/connections/$conn/abort"
  wait_stopped "$pid"
  after "$pid" "$b, abort"
  kill -CONT "$pid"
  wait "$pid" || true # an aborted connection is an error exit
  exec 3<&- 4<&-
  fusermount3 -u "$PLAIN" 2>/dev/null || fusermount3 -uz "$PLAIN"
  rm -rf "$T/hdrs"
done
