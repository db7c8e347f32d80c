#!/usr/bin/env bash
# FUSE_HANDLE_KILLPRIV_V2 (fs/killpriv.c): the kernel stops asking for
# security.capability before every write, and byokfs itself drops the
# set-user-ID and set-group-ID bits where the kernel would have: a write,
# a truncate, an O_TRUNC open and a fallocate by a user without
# CAP_FSETID, and a chown.
# Root (CAP_FSETID) keeps them on write. A set-group-ID file without group
# execute (a mandatory-locking marker, not a privilege) keeps its bit.
. "$(dirname "$0")/../lib.sh"
need_nobody
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null
# the daemon's request trace (-d) shows the GETXATTR requests
MP=$(mktemp -d /tmp/byokfs-killpriv.XXXXXX); chmod 755 "$MP"; track_dir "$MP"
"$BYOKFS" mount -d -o allow_other "$CIPHER" "$MP" 2>"$T/trace" &
_fg_pid=$!
wait_mounted "$MP" "$_fg_pid" || fail "not mounted: $(tail -n 5 "$T/trace")"
_mounts+=("$MP")
chmod 755 "$MP"
grep -q "kill-privileges layer" "$T/trace" && fail "the kill-privileges layer was not installed: $(grep kill-privileges "$T/trace")"

mkf() { # name mode
  echo data >"$MP/$1"; chmod "$2" "$MP/$1"
}
mode() { stat -c %a "$MP/$1"; }
backing_mode() { stat -c %a "$(backing_of "$MP/$1")"; }

# a write by another user drops both bits (group execute set)
mkf w 6777
as_nobody sh -c "echo more >>'$MP/w'" || fail "nobody cannot append to a 6777 file"
assert_eq "$(mode w)" "777" "mode after another user's write"
assert_eq "$(backing_mode w)" "777" "backing mode after another user's write"
# ... and only set-user-ID when group execute is off
mkf wg 6766
as_nobody sh -c "echo more >>'$MP/wg'"
assert_eq "$(mode wg)" "2766" "mode of a g+s g-x file after another user's write"
# root keeps them (CAP_FSETID)
mkf r 6755
echo more >>"$MP/r"
assert_eq "$(mode r)" "6755" "mode after root's write"
# truncate by another user
mkf t 6777
as_nobody truncate -s 1 "$MP/t"
assert_eq "$(mode t)" "777" "mode after another user's truncate"
# O_TRUNC open by another user
mkf o 6777
as_nobody sh -c ": >'$MP/o'"
assert_eq "$(mode o)" "777" "mode after another user's O_TRUNC open"
assert_eq "$(stat -c %s "$MP/o")" "0" "size after O_TRUNC"
# fallocate by another user (FALLOCATE carries no kill flag)
mkf f 6777
as_nobody fallocate -l 8192 "$MP/f" || fail "nobody cannot fallocate a 6777 file"
assert_eq "$(mode f)" "777" "mode after another user's fallocate"
assert_eq "$(stat -c %s "$MP/f")" "8192" "size after fallocate"
# chown (even by root) drops them
mkf c 6755
chown 65534 "$MP/c"
assert_eq "$(mode c)" "755" "mode after chown"
# contents survived all of it
assert_eq "$(cat "$MP/w")" "$(printf 'data\nmore')" "contents of w"
assert_eq "$(cat "$MP/r")" "$(printf 'data\nmore')" "contents of r"

# 200 small writes to one file: without the flag each is preceded by a
# GETXATTR of security.capability; with it only attribute refreshes are
sync
before=$(grep -c "opcode: GETXATTR" "$T/trace" || true)
python3 - "$MP/log" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for i in range(200):
    os.write(fd, b"x" * 100 + b"\n")
os.close(fd)
EOF
sleep 0.2
after=$(grep -c "opcode: GETXATTR" "$T/trace" || true)
writes=$(grep -c "opcode: WRITE" "$T/trace" || true)
note "GETXATTR requests during 200 appends: $((after - before)) (WRITE requests in the whole trace: $writes)"
[[ $writes -ge 200 ]] || fail "the trace shows $writes WRITE requests: is -d tracing requests?"
[[ $((after - before)) -lt 20 ]] || fail "$((after - before)) GETXATTR requests for 200 writes: the kernel still asks before every write"
vol_umount "$MP"
wait "$_fg_pid" || fail "daemon exited $?"
_fg_pid=
