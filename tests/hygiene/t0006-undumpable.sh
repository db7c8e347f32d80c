#!/usr/bin/env bash
# The mount process is undumpable, seen from outside: a mount run by an
# unprivileged user (created here, owning its key file and backing
# directory; the mount goes through fusermount3) has its /proc/PID files
# (status, mem, environ, maps, fd...; not the world-readable directory
# itself) owned by root, which is what the kernel does for a non-dumpable
# process;
# the same user can neither ptrace it (PTRACE_ATTACH fails with EPERM) nor
# read its /proc/PID/mem or environ. Positive control: a plain process of
# that user is owned by it and can be attached and read. The mount works
# for its user meanwhile.
# Where /dev/fuse is root-only (a container), the user gets a private copy
# of the device node bind-mounted over /dev/fuse in a private mount
# namespace, so nothing changes for the rest of the machine.
. "$(dirname "$0")/../lib.sh"
[[ $(id -u) -eq 0 ]] || skip "needs root (creates a user)"
for c in useradd userdel setpriv unshare nsenter; do
  command -v "$c" >/dev/null || skip "$c is not installed"
done
NAME=byokfs-hyg
created=
if ! id "$NAME" >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin "$NAME" 2>/dev/null ||
    id "$NAME" >/dev/null 2>&1 || fail "cannot create user $NAME"
  created=1
fi
uid=$(id -u "$NAME") gid=$(id -g "$NAME")
UD=$(mktemp -d /tmp/byokfs-hyg-user.XXXXXX)
chmod 711 "$UD"
mkdir -p "$UD/home" "$UD/san"
chown "$uid:$gid" "$UD/home" "$UD/san"
chmod 700 "$UD/home"
H=$UD/home
pids=()

hyg_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  rm -rf "$UD"
  rmdir "/tmp/byokfs-$uid" 2>/dev/null || true
  # remove the user only if no other run of this test still uses it
  if [[ -n $created ]] && ! pgrep -u "$uid" >/dev/null; then userdel "$NAME" 2>/dev/null || true; fi
  _cleanup
}
trap hyg_cleanup EXIT

# the sanitizer logs of the user's processes go where it may write; LSan
# cannot stop the threads of a process it may not ptrace: no leak check
export ASAN_OPTIONS="log_path=$UD/san/asan:detect_leaks=0:abort_on_error=1"
export UBSAN_OPTIONS="log_path=$UD/san/ubsan:print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="log_path=$UD/san/tsan:${TSAN_OPTIONS#log_path=*:}"
as_user() { setpriv --reuid="$uid" --regid="$gid" --clear-groups env HOME="$H" "$@"; }

as_user "$BYOKFS" keygen "$H/key" 2>/dev/null
as_user "$BYOKFS" init --key "local:$H/key" "$H/cipher" >/dev/null
as_user mkdir "$H/plain"

if as_user test -r /dev/fuse -a -w /dev/fuse; then
  (cd / && exec setpriv --reuid="$uid" --regid="$gid" --clear-groups env HOME="$H" \
    "$BYOKFS" mount -f -v "$H/cipher" "$H/plain") 2>"$UD/log" &
else
  note "/dev/fuse is root-only here: the user gets a private device node"
  mknod -m 600 "$UD/fuse" c 10 229
  chown "$uid:$gid" "$UD/fuse"
  (cd / && exec unshare -m --propagation private -- /bin/sh -c \
    'mount --bind "$0" /dev/fuse && exec setpriv --reuid="$1" --regid="$2" --clear-groups env HOME="$3" "$4" mount -f -v "$3/cipher" "$3/plain"' \
    "$UD/fuse" "$uid" "$gid" "$H" "$BYOKFS") 2>"$UD/log" &
fi
pid=$!
pids+=("$pid")
for _ in $(seq 200); do
  grep -q "mounted '" "$UD/log" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || fail "the user's mount died: $(cat "$UD/log")"
  sleep 0.05
done
grep -q "mounted '" "$UD/log" || fail "the user's mount did not come up: $(cat "$UD/log")"
assert_eq "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" "$uid" "the mount's real uid"
# the mount serves its user
as_in_ns() { nsenter -t "$pid" -m -- setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"; }
as_in_ns sh -c "echo hello >'$H/plain/f' && cat '$H/plain/f'" >"$UD/out" 2>&1 ||
  fail "the user cannot use its mount: $(cat "$UD/out")"
assert_eq "$(cat "$UD/out")" hello "read through the user's mount"

# a control process of the same user
(cd / && exec setpriv --reuid="$uid" --regid="$gid" --clear-groups sleep 60) &
ctl=$!
pids+=("$ctl")
sleep 0.2

# (not /proc/PID itself: world-readable directories keep the euid, so ps works)
for f in /status /mem /environ /maps /fd /cmdline /stat; do
  assert_eq "$(stat -c %u "/proc/$pid$f")" 0 "owner of /proc/PID$f of the mount"
  assert_eq "$(stat -c %u "/proc/$ctl$f")" "$uid" "owner of /proc/PID$f of a plain process (control)"
done

probe() { # pid: what the user can do to it
  as_user /usr/bin/python3 - "$1" <<'PY'
import ctypes, os, sys
pid = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
res = []
if libc.ptrace(16, pid, None, None) == 0:          # PTRACE_ATTACH
    os.waitpid(pid, 0)
    libc.ptrace(17, pid, None, None)               # PTRACE_DETACH
    res.append("attach=ok")
else:
    res.append("attach=" + os.strerror(ctypes.get_errno()))
for f in ("mem", "environ"):
    try:
        open("/proc/%d/%s" % (pid, f), "rb").close()   # access is checked at open
        res.append(f + "=ok")
    except OSError as e:
        res.append("%s=%s" % (f, e.strerror))
print(" ".join(res))
PY
}
got=$(probe "$ctl")
assert_eq "$got" "attach=ok mem=ok environ=ok" "what the user can do to its own plain process (control)"
got=$(probe "$pid")
assert_eq "$got" "attach=Operation not permitted mem=Permission denied environ=Permission denied" \
  "what the user can do to its mount process"
grep -q '^TracerPid:[[:space:]]*0$' "/proc/$pid/status" || fail "the mount is being traced"
note "mount pid $pid (uid $uid): /proc files owned by root; $got"

kill "$pid"
wait "$pid" || fail "the user's mount exited $? on SIGTERM: $(cat "$UD/log")"
if compgen -G "$UD/san/*" >/dev/null; then
  cat "$UD"/san/* >&2
  fail "sanitizer report from the user's mount"
fi
