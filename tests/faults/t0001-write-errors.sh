#!/usr/bin/env bash
# Backing-store write errors injected under a live mount (docs/CRASH.md,
# fault injection): ENOSPC on pwrite, on the fallocate that reserves space,
# and after a torn pwrite (the store took part of it); EIO on fsync and on
# open; EIO in the middle of an overwrite. Each error reaches the
# application as that errno; the mount keeps serving other files while it
# lasts; a failed append leaves the file exactly as acknowledged (the
# blocks it merged put back); a block torn by the failed overwrite reads
# EIO, never garbage, and fsck reports exactly it. Once the faults are
# lifted, everything acknowledged reads back, also after a remount. The
# release build holds no fault injection.
. "$(dirname "$0")/../lib.sh"
grep -qa BYOKFS_FAULTS "$BYOKFS" || skip "$BYOKFS has no fault injection (make asan builds it with)"
rel=$(dirname "$BYOKFS")/../byokfs
if [[ -x $rel ]] && grep -qa BYOKFS_FAULTS "$rel"; then fail "the release build $rel holds fault injection"; fi
mkdir -p "$PLAIN" "$T/ref"
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null
: >"$T/faults"
BYOKFS_FAULTS=@$T/faults vol_mount_fg "$T/log"

# pw FILE OFF LEN: writes LEN random bytes at OFF (OFF "end": append) and
# fsyncs; prints OK or the error; on OK the reference copy follows
pw() {
  python3 - "$PLAIN/$1" "$T/ref/$1" "$2" "$3" <<'PY'
import os, sys
p, ref, off, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
data = os.urandom(n)
try:
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if off == "end" else 0), 0o600)
    try:
        w = os.write(fd, data) if off == "end" else os.pwrite(fd, data, int(off))
        assert w == n, "short write"
        os.fsync(fd)
    finally:
        os.close(fd)
except OSError as e:
    print(e.strerror); sys.exit(0)
r = bytearray(open(ref, "rb").read()) if os.path.exists(ref) else bytearray()
o = len(r) if off == "end" else int(off)
r[o:o + n] = data
open(ref, "wb").write(r)
print("OK")
PY
}
fault() { echo "$1" >"$T/faults"; }
lift() { : >"$T/faults"; }
same() { cmp -s "$PLAIN/$1" "$T/ref/$1" || fail "$2: $1 differs from what was acknowledged"; }

assert_eq "$(pw keep 0 100000)" OK "write keep"
assert_eq "$(pw t 0 10000)" OK "write t"
assert_eq "$(pw t2 0 20000)" OK "write t2"
assert_eq "$(pw o 0 5000)" OK "write o"
bt=$(basename "$(backing_of "$PLAIN/t")"); bt2=$(basename "$(backing_of "$PLAIN/t2")")

# ENOSPC from pwrite: the append fails, t is as it was, o keeps working
fault "op=pwrite,path=$bt,errno=ENOSPC"
assert_eq "$(pw t end 50000)" "No space left on device" "append with pwrite failing ENOSPC"
same t "after ENOSPC"
assert_eq "$(pw o end 7000)" OK "write to another file during the fault"
same o "during the fault"
# the store takes 3000 bytes of the run (block 2 of t and beyond), then is
# full (once: overwriting bytes it holds needs no space, putting block 2 back works)
fault "op=pwrite,path=$bt,torn=3000,errno=ENOSPC,count=1"
assert_eq "$(pw t end 50000)" "No space left on device" "append with a torn pwrite, then ENOSPC"
same t "after a torn write and ENOSPC"
# ENOSPC from the fallocate that reserves the growth
fault "op=fallocate,path=$bt,errno=ENOSPC"
assert_eq "$(pw t end 50000)" "No space left on device" "append with fallocate failing ENOSPC"
same t "after fallocate ENOSPC"
# EIO from fsync and fdatasync
fault "op=fsync,path=$bt;op=fdatasync,path=$bt"
assert_eq "$(py_errno 'os.fsync(os.open(p, os.O_RDONLY))' p="$PLAIN/t")" "Input/output error" "fsync"
assert_eq "$(py_errno 'os.fdatasync(os.open(p, os.O_RDONLY))' p="$PLAIN/t")" "Input/output error" "fdatasync"
# EIO from opening the backing file: t fails to open, o does not
fault "op=open,path=$bt"
assert_eq "$(py_errno 'os.open(p, os.O_RDONLY)' p="$PLAIN/t")" "Input/output error" "open"
same o "while t cannot be opened"
# EIO after 1000 bytes of an overwrite of blocks 0-1 of t2: block 0 is torn
# and must read EIO; the rest of t2 is as acknowledged
fault "op=pwrite,path=$bt2,torn=1000,errno=EIO"
assert_eq "$(pw t2 0 8192)" "Input/output error" "overwrite with a torn pwrite, then EIO"
lift
assert_eq "$(py_errno 'os.pread(os.open(p, os.O_RDONLY | os.O_DIRECT), 4096, 0)' p="$PLAIN/t2")" \
  "Input/output error" "reading the torn block 0 of t2"
cmp -s <(tail -c +8193 "$PLAIN/t2") <(tail -c +8193 "$T/ref/t2") || fail "t2 beyond the overwrite differs"

# lifted: writing works again; everything acknowledged is there, also after a remount
assert_eq "$(pw t end 50000)" OK "append after the faults were lifted"
for f in keep t o; do same "$f" "faults lifted"; done
vol_umount_fg
vol_mount
for f in keep t o; do same "$f" "after remount"; done
vol_umount
rc=0; "$BYOKFS" fsck "$CIPHER" >"$T/fsck.out" 2>&1 || rc=$?
[[ $rc -eq 10 ]] || fail "fsck exit $rc, want 10: $(cat "$T/fsck.out")"
assert_eq "$(grep -c '^damaged ' "$T/fsck.out")" 1 "fsck findings: $(cat "$T/fsck.out")"
grep -q "^damaged $bt2: block 0: fails authentication (/t2)\$" "$T/fsck.out" ||
  fail "fsck did not report the torn block 0 of t2: $(cat "$T/fsck.out")"
