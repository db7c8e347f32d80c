# Shared helpers for mounted tests (sourced). Each test gets a private
# directory, a key, a volume and a mount; the EXIT trap always unmounts.
#   . "$(dirname "$0")/../lib.sh"
#   vol_setup            # $KEY, $CIPHER (backing), $PLAIN (mount point)
#   vol_mount [args]     # mounts $CIPHER on $PLAIN (extra args to byokfs mount)
#   vol_umount
#   fail "message"       # prints and exits 1
#   skip "reason"        # exits 77 with the reason as the last line
#   vol_mount_fg LOG [args]   # mounts with -f, the daemon's stderr in LOG
#   vol_remount [args]   # unmount, mount again (drops every cache)
#   track_mount DIR      # a tmpfs/bind mount the EXIT trap unmounts (last)
#   track_dir DIR        # an empty directory outside $T the EXIT trap removes
#   backing_of PATH      # the backing file of a plaintext path (same inode number)
#   flip_byte FILE OFF   # XORs one byte of FILE with 0x01
#   blk_pos I [BS OVH]   # offset of stored block I (default AES-GCM, 4096)
#   assert_eq GOT WANT WHAT, assert_file_size FILE N, sha FILE
#   py_errno FUNC ARGS...  # runs a small python3 os call, prints OK or the strerror
set -euo pipefail

BYOKFS=${BYOKFS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/asan/byokfs}
T=${BYOKFS_TEST_TMP:-$(mktemp -d /tmp/byokfs-t.XXXXXX)}
mkdir -p "$T"
KEY=$T/master.key
CIPHER=$T/cipher
PLAIN=$T/plain
_mounts=()
_extra_mounts=()
_extra_dirs=()
_fg_pid=

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }
note() { echo "# $*"; }

# Tests that act as another user: need_nobody skips unless they can,
# as_nobody runs a command as nobody (uid and gid 65534, no groups).
need_nobody() {
  [[ $(id -u) -eq 0 ]] || skip "needs root to act as another user"
  command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
}
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

_cleanup() {
  local m
  cd / # a test that ends inside its mount must not keep it busy
  for m in "${_mounts[@]}"; do
    # findmnt also sees the mount of a daemon that died (ENOTCONN), which
    # mountpoint does not
    if findmnt -M "$m" >/dev/null 2>&1 || mountpoint -q "$m" 2>/dev/null; then
      fuse_settle "$m"
      fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null || true
    fi
  done
  # let the daemons exit so sanitizer reports (leaks) are written
  local i
  for i in $(seq 50); do
    pgrep -f "byokfs mount .*$T" >/dev/null || break
    sleep 0.1
  done
  # tmpfs and bind mounts under the test's directory, innermost first
  for ((i = ${#_extra_mounts[@]} - 1; i >= 0; i--)); do
    m=${_extra_mounts[i]}
    if mountpoint -q "$m" 2>/dev/null; then
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    fi
  done
  for m in "${_extra_dirs[@]}"; do rmdir "$m" 2>/dev/null || true; done
}
trap _cleanup EXIT

# Runs byokfs; prints its stderr on failure.
byokfs() { "$BYOKFS" "$@"; }

vol_setup() {
  mkdir -p "$PLAIN"
  [[ -f $KEY ]] || byokfs keygen "$KEY" 2>/dev/null
  byokfs init --key "local:$KEY" "$@" "$CIPHER" >/dev/null
  vol_mount
}

vol_mount() { # [extra args]
  byokfs mount "$@" "$CIPHER" "$PLAIN"
  mountpoint -q "$PLAIN" || fail "not mounted after byokfs mount"
  _mounts+=("$PLAIN")
}

mount_at() { # backing mountpoint [extra args]
  local b=$1 m=$2; shift 2
  mkdir -p "$m"
  byokfs mount "$@" "$b" "$m"
  mountpoint -q "$m" || fail "$m not mounted"
  _mounts+=("$m")
}

# Waits until the kernel has no request of the mount on $1 in flight
# (fusectl's "waiting" count), so that the RELEASE of a file closed just
# before is served before an unmount: the kernel drops queued requests
# when the mount goes away. Tests that probe unmounting during I/O on
# purpose call fusermount3 directly.
fuse_settle() { # mountpoint
  local d w i
  [[ -d /sys/fs/fuse/connections ]] || return 0
  if [[ -z $(ls -A /sys/fs/fuse/connections 2>/dev/null) && $(id -u) -eq 0 ]]; then
    mount -t fusectl fusectl /sys/fs/fuse/connections 2>/dev/null || return 0
  fi
  d=$(mountpoint -d "$1" 2>/dev/null) || return 0
  w=/sys/fs/fuse/connections/${d#*:}/waiting
  [[ -r $w ]] || return 0
  for i in $(seq 200); do
    [[ $(cat "$w" 2>/dev/null || echo 0) -eq 0 ]] && return 0
    sleep 0.025
  done
}

vol_umount() { # [mountpoint]
  local m=${1:-$PLAIN}
  fuse_settle "$m"
  fusermount3 -u "$m"
  local i
  for i in $(seq 100); do
    pgrep -f "byokfs mount .* $m\$" >/dev/null || return 0
    sleep 0.05
  done
}

# Asserts that a command fails with an exit code and a message on stderr.
expect_fail() { # code pattern command...
  local code=$1 pat=$2; shift 2
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  [[ $rc -eq $code ]] || fail "expected exit $code from '$*', got $rc: $out"
  [[ $out == *"$pat"* ]] || fail "expected '$pat' in the error of '$*', got: $out"
  [[ $(printf '%s\n' "$out" | wc -l) -eq 1 ]] || fail "error is not one line: $out"
}

# Asserts that a command fails with errno text (e.g. "Input/output error").
expect_errno() { # text command...
  local pat=$1; shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  [[ $rc -ne 0 ]] || fail "expected '$*' to fail with '$pat', it succeeded"
  [[ $out == *"$pat"* ]] || fail "expected '$pat' from '$*', got: $out"
}

# The backing path of a plaintext file (same inode number is not kept, so
# find it by content size/name order is impossible): use the newest file.
newest_backing_file() {
  find "$CIPHER" -type f ! -name '.byokfs*' ! -name '*.name' -printf '%T@ %p\n' |
    sort -n | tail -n 1 | cut -d' ' -f2-
}

# ---- helpers added for the mounted integration tests ----

# Registers a non-FUSE mount (tmpfs, bind) for the EXIT trap.
track_mount() { _extra_mounts+=("$1"); }
# Registers an (empty by then) directory outside $T for the EXIT trap.
track_dir() { _extra_dirs+=("$1"); }

# Waits until $1 is a mount point; 1 if it did not happen (or pid $2 died).
wait_mounted() { # mountpoint [pid]
  local i
  for i in $(seq 300); do
    mountpoint -q "$1" && return 0
    if [[ -n ${2:-} ]] && ! kill -0 "$2" 2>/dev/null; then return 1; fi
    sleep 0.05
  done
  return 1
}

# Mounts $CIPHER on $PLAIN with -f, the daemon in the background of this
# shell with its stderr (the log) in LOG. $_fg_pid is the daemon.
vol_mount_fg() { # log [extra args]
  local log=$1; shift
  "$BYOKFS" mount -f "$@" "$CIPHER" "$PLAIN" 2>"$log" &
  _fg_pid=$!
  wait_mounted "$PLAIN" "$_fg_pid" || fail "not mounted after byokfs mount -f: $(cat "$log")"
  _mounts+=("$PLAIN")
}

# Unmounts a -f daemon started by vol_mount_fg and checks it exited 0.
vol_umount_fg() {
  local rc=0
  fuse_settle "$PLAIN"
  fusermount3 -u "$PLAIN"
  wait "$_fg_pid" || rc=$?
  _fg_pid=
  [[ $rc -eq 0 ]] || fail "foreground daemon exited $rc after unmount"
}

vol_remount() { # [extra args]
  vol_umount
  vol_mount "$@"
}

# The backing object of a plaintext path: byokfs reports the backing inode
# number as st_ino, so the backing file is the one with that inode.
backing_of() { # plaintext path
  local ino f
  ino=$(stat -c %i "$1") || fail "stat $1"
  f=$(find "$CIPHER" -xdev -inum "$ino" | head -n 1)
  [[ -n $f ]] || fail "no backing object with inode $ino for $1"
  printf '%s\n' "$f"
}

flip_byte() { # file offset
  python3 - "$1" "$2" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
off = int(sys.argv[2])
b = os.pread(fd, 1, off)
assert len(b) == 1, "offset beyond end of file"
os.pwrite(fd, bytes([b[0] ^ 1]), off)
os.close(fd)
PY
}

blk_pos() { # index [block_size overhead]
  local bs=${2:-4096} ovh=${3:-28}
  echo $((104 + $1 * (bs + ovh)))
}

sha() { sha256sum <"$1" | cut -d' ' -f1; }

assert_eq() { # got want what
  [[ "$1" == "$2" ]] || fail "$3: got '$1', want '$2'"
}

assert_file_size() { # file size
  local s
  s=$(stat -c %s "$1") || fail "stat $1"
  [[ $s -eq $2 ]] || fail "size of $1: got $s, want $2"
}

# Runs one python3 os-module call; prints "OK" (and the result when it is
# not None) or the strerror text of the OSError it raised.
#   py_errno 'os.rename(a, b)' a=X b=Y   (names passed as keyword strings)
py_errno() { # expression [name=value...]
  python3 - "$@" <<'PY'
import os, sys, ctypes, errno
expr = sys.argv[1]
env = dict(a.split("=", 1) for a in sys.argv[2:])
libc = ctypes.CDLL(None, use_errno=True)
def renameat2(old, new, flags):
    libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    r = libc.renameat2(-100, os.fsencode(old), -100, os.fsencode(new), flags)
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
env.update(os=os, renameat2=renameat2, RENAME_NOREPLACE=1, RENAME_EXCHANGE=2)
try:
    r = eval(expr, env)
    print("OK" if r is None else "OK %s" % r)
except OSError as e:
    print(e.strerror)
PY
}

# Expected backing size of a plaintext size (header, full blocks, the final
# block; an empty file stores one empty final block).
backing_size() { # plain_size block_size overhead
  local s=$1 bs=$2 o=$3 last
  if [[ $s -eq 0 ]]; then echo $((104 + o)); return; fi
  last=$(((s - 1) / bs))
  echo $((104 + last * (bs + o) + (s - last * bs) + o))
}

# Writes files of the given sizes (random content) through the mount twice:
# one cp (large writes) and one dd with 777-byte writes (partial blocks,
# read-modify-write); checks content, plaintext and backing sizes, header
# fields, then again after a remount. Needs $PLAIN mounted.
sizes_roundtrip() { # block_size overhead cipher_number sizes...
  local bs=$1 o=$2 cnum=$3; shift 3
  local s f b hdr shift=0
  while (((1 << shift) < bs)); do shift=$((shift + 1)); done
  mkdir -p "$T/ref"
  for s in "$@"; do
    head -c "$s" /dev/urandom >"$T/ref/$s"
    cp "$T/ref/$s" "$PLAIN/cp-$s"
    dd if="$T/ref/$s" of="$PLAIN/dd-$s" bs=777 status=none
  done
  for pass in "fresh" "after remount"; do
    [[ $pass == fresh ]] || vol_remount
    for s in "$@"; do
      for f in cp dd; do
        assert_file_size "$PLAIN/$f-$s" "$s"
        cmp "$PLAIN/$f-$s" "$T/ref/$s" || fail "$pass: $f-$s differs"
        b=$(backing_of "$PLAIN/$f-$s")
        assert_file_size "$b" "$(backing_size "$s" "$bs" "$o")"
        # magic "BYKF", version 1, the cipher, log2 of the block size
        hdr=$(head -c 7 "$b" | od -An -tx1 | tr -d ' \n')
        assert_eq "$hdr" "42594b4601$(printf '%02x%02x' "$cnum" "$shift")" "$pass: header of $f-$s"
      done
    done
  done
  # reading in odd-sized pieces gives the same bytes
  for s in "$@"; do
    cmp <(dd if="$PLAIN/cp-$s" bs=3001 status=none) "$T/ref/$s" || fail "$s read with 3001-byte reads"
  done
}
