#!/usr/bin/env bash
# Special files: mkfifo works (a writer and a reader pass 1 MiB through the
# FIFO intact), a unix socket can be bound and used, device nodes are
# refused ("Operation not permitted"); the FIFO is still a FIFO after a remount.
. "$(dirname "$0")/../lib.sh"
vol_setup
head -c 1048576 /dev/urandom >"$T/data"
mkfifo -m 0620 "$PLAIN/fifo"
assert_eq "$(stat -c '%F %a' "$PLAIN/fifo")" "fifo 620" "mkfifo"
( cat "$T/data" >"$PLAIN/fifo" ) &
writer=$!
timeout 30 cat "$PLAIN/fifo" >"$T/got" || fail "reading the FIFO failed"
wait "$writer" || fail "writer failed"
cmp "$T/data" "$T/got" || fail "data through the FIFO differs"

python3 - "$PLAIN/sock" <<'PY' || fail "unix socket in the mount"
import os, socket, stat, sys
p = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(p); srv.listen(1)
assert stat.S_ISSOCK(os.lstat(p).st_mode)
cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
cli.connect(p)
conn, _ = srv.accept()
cli.sendall(b"ping through byokfs")
assert conn.recv(100) == b"ping through byokfs"
PY
expect_errno "Operation not permitted" mknod "$PLAIN/null" c 1 3
expect_errno "Operation not permitted" mknod "$PLAIN/blk" b 7 0
[[ ! -e $PLAIN/null && ! -e $PLAIN/blk ]] || fail "device node left behind"
vol_remount
assert_eq "$(stat -c '%F %a' "$PLAIN/fifo")" "fifo 620" "fifo after remount"
assert_eq "$(stat -c %F "$PLAIN/sock")" "socket" "socket after remount"
( printf 'again' >"$PLAIN/fifo" ) &
assert_eq "$(timeout 30 cat "$PLAIN/fifo")" "again" "FIFO after remount"
wait
