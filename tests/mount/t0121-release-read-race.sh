# Regression: the kernel may send RELEASE the moment it has the reply to
# the last READ of a file, so the thread that served the read must not
# touch the file's state after replying (it unlocked a lock inside memory
# release had freed). ASan cannot see that write (pthread_rwlock_unlock is
# in uninstrumented libc) and its allocator quarantine hides the damage, so
# this test runs the release build, where glibc's heap checks abort the
# daemon within a few hundred files: many small files read cold, after a
# remount, by the multi-threaded daemon. Every byte must come back.
. "$(dirname "$0")/../lib.sh"
BYOKFS=$BYOKFS_TOP/build/byokfs
[[ -x $BYOKFS ]] || fail "missing $BYOKFS (make)"
vol_setup
for d in $(seq 0 19); do
  mkdir "$PLAIN/d$d"
  for f in $(seq 0 99); do
    head -c 4096 /dev/urandom >"$PLAIN/d$d/f$f"
  done
done
( cd "$PLAIN" && find . -type f -print0 | sort -z | xargs -0 cat | sha256sum ) >"$T/want"
for round in 1 2 3; do
  vol_umount
  sync
  echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  vol_mount
  got=$(cd "$PLAIN" && find . -type f -print0 | sort -z | xargs -0 cat 2>"$T/err" | sha256sum)
  [[ $got == "$(cat "$T/want")" ]] ||
    fail "round $round: contents differ after a cold read ($(grep -c . "$T/err") errors, first: $(head -n 1 "$T/err"))"
  pgrep -f "byokfs mount .*$CIPHER" >/dev/null || fail "round $round: the daemon died"
done
note "2000 files read cold 3 times by the release build"
