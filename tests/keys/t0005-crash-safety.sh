#!/usr/bin/env bash
# Descriptor updates are atomic (temporary file, fsync, rename, fsync of
# the directory), checked with strace fault injection: a failed write,
# fsync or rename of the temporary file makes keyslot add / rotate exit 1
# ("it is unchanged") with the descriptor byte for byte as before, no
# temporary file left, and only the old key opening the volume. A rotate
# killed (-9) just before its rename leaves the old descriptor (the next
# run succeeds); killed after the rename, before the directory fsync,
# leaves the new one. Then 12 rotations between two keys, each killed at
# a random moment (every file syscall slowed down by 10 ms): afterwards
# the descriptor names exactly one of the keys, that key opens the volume
# and the other does not, fsck is clean and the data reads.
. "$(dirname "$0")/../lib.sh"
command -v strace >/dev/null || skip "strace is not installed"
# LeakSanitizer cannot run under ptrace
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
K1=$T/k1.key K2=$T/k2.key K3=$T/k3.key
for k in "$K1" "$K2" "$K3"; do byokfs keygen "$k" 2>/dev/null; done
KEY=$K1
vol_setup
head -c 50000 /dev/urandom >"$T/data"; cp "$T/data" "$PLAIN/data"
vol_umount
D=$CIPHER/.byokfs.volume
cp "$D" "$T/desc.orig"

opens() { # key: 0 if fsck --key opens the volume (and finds it clean)
  "$BYOKFS" fsck --key "local:$1" "$CIPHER" >"$T/fsck.out" 2>&1
}
unchanged() { # what
  cmp -s "$D" "$T/desc.orig" || fail "$1: the descriptor changed"
  [[ ! -e $D.tmp ]] || fail "$1: $D.tmp left behind"
  opens "$K1" || fail "$1: key 1 no longer opens the volume: $(cat "$T/fsck.out")"
  ! opens "$K2" || fail "$1: key 2 opens the volume"
}
inject() { # syscall-spec command...: expects exit 1 "(it is unchanged)"
  local spec=$1 rc=0 out; shift
  out=$(strace -f -o /dev/null -e trace="${spec%%:*}" -e inject="$spec" "$BYOKFS" "$@" 2>&1) || rc=$?
  [[ $rc -eq 1 && $out == *"cannot write the volume descriptor"*"(it is unchanged)"* ]] ||
    fail "inject $spec into $*: exit $rc: $out"
}
inject write:error=ENOSPC:when=1 keyslot add "$CIPHER" --key "local:$K2"
unchanged "write failed"
inject fsync:error=EIO:when=1 keyslot add "$CIPHER" --key "local:$K2"
unchanged "fsync failed"
inject rename:error=EIO rotate "$CIPHER" --key "local:$K2"
unchanged "rename failed"
byokfs keyslot add "$CIPHER" --key "local:$K3" --name extra >/dev/null
cp "$D" "$T/desc.orig"
inject rename:error=EXDEV keyslot remove "$CIPHER" extra
unchanged "rename failed, remove"
byokfs keyslot remove "$CIPHER" extra >/dev/null 2>&1
cp "$D" "$T/desc.orig"

killed() { # spec command...: runs under strace with a 3 s delay at spec, kills byokfs -9 after 1 s
  local spec=$1 sp pid; shift
  strace -f -o /dev/null -e trace="${spec%%:*}" -e inject="$spec:delay_enter=3000000" "$BYOKFS" "$@" >/dev/null 2>&1 &
  sp=$!
  sleep 1
  pid=$(pgrep -P "$sp" || true)
  [[ -n $pid ]] || fail "no byokfs under strace ($spec)"
  kill -9 "$pid" || fail "byokfs under strace ended before the kill ($spec)"
  wait "$sp" 2>/dev/null || true
}
killed rename rotate "$CIPHER" --key "local:$K2"
cmp -s "$D" "$T/desc.orig" || fail "killed before rename: the descriptor changed"
opens "$K1" && ! opens "$K2" || fail "killed before rename: wrong key opens"
byokfs rotate "$CIPHER" --key "local:$K2" >/dev/null || fail "rotate after a killed one"
[[ ! -e $D.tmp ]] || fail "$D.tmp left after a successful rotate"
opens "$K2" && ! opens "$K1" || fail "after the second rotate: wrong key opens"
cp "$D" "$T/desc.k2"
killed fsync:when=2 rotate "$CIPHER" --key "local:$K1"
! cmp -s "$D" "$T/desc.k2" || fail "killed after rename: the descriptor did not change"
opens "$K1" && ! opens "$K2" || fail "killed after rename: wrong key opens"

# random moments
cur=$K1 other=$K2 changed=0
for i in $(seq 12); do
  sys=openat,read,write,fsync,fdatasync,rename,close,flock
  strace -f -o /dev/null -e trace=$sys -e inject=$sys:delay_enter=10000 \
    "$BYOKFS" rotate "$CIPHER" --key "local:$other" >/dev/null 2>&1 &
  sp=$!
  # a run takes about 1.1 s here, the rename near its end: half the kills
  # anywhere, half near the end
  if ((i % 2)); then ms=$((200 + RANDOM % 1000)); else ms=$((850 + RANDOM % 300)); fi
  sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
  pid=$(pgrep -P "$sp" || true)
  # (it may have finished already)
  if [[ -n $pid ]]; then kill -9 "$pid" 2>/dev/null || true; fi
  wait "$sp" 2>/dev/null || true
  named=$(byokfs keyslot list "$CIPHER" | cut -f3)
  [[ $named == "$K1" || $named == "$K2" ]] || fail "round $i: the descriptor names '$named'"
  [[ $named == "$other" ]] && changed=$((changed + 1))
  if [[ $named == "$K1" ]]; then cur=$K1 other=$K2; else cur=$K2 other=$K1; fi
  opens "$cur" || fail "round $i: the named key $cur does not open: $(cat "$T/fsck.out")"
  grep -q "^clean: " "$T/fsck.out" || fail "round $i: fsck: $(cat "$T/fsck.out")"
  ! opens "$other" || fail "round $i: the other key opens too"
done
note "$changed of 12 killed rotations had replaced the descriptor"
vol_mount --key "local:$cur"
cmp "$PLAIN/data" "$T/data" || fail "data after the killed rotations"
