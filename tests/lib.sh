# Shared helpers for mounted tests (sourced). Each test gets a private
# directory, a key, a volume and a mount; the EXIT trap always unmounts.
#   . "$(dirname "$0")/../lib.sh"
#   vol_setup            # $KEY, $CIPHER (backing), $PLAIN (mount point)
#   vol_mount [args]     # mounts $CIPHER on $PLAIN (extra args to byokfs mount)
#   vol_umount
#   fail "message"       # prints and exits 1
#   skip "reason"        # exits 77 with the reason as the last line
set -euo pipefail

BYOKFS=${BYOKFS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/asan/byokfs}
T=${BYOKFS_TEST_TMP:-$(mktemp -d /tmp/byokfs-t.XXXXXX)}
mkdir -p "$T"
KEY=$T/master.key
CIPHER=$T/cipher
PLAIN=$T/plain
_mounts=()

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }
note() { echo "# $*"; }

_cleanup() {
  local m
  for m in "${_mounts[@]}"; do
    if mountpoint -q "$m" 2>/dev/null; then
      fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null || true
    fi
  done
  # let the daemons exit so sanitizer reports (leaks) are written
  local i
  for i in $(seq 50); do
    pgrep -f "byokfs mount .*$T" >/dev/null || break
    sleep 0.1
  done
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

vol_umount() { # [mountpoint]
  local m=${1:-$PLAIN}
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
