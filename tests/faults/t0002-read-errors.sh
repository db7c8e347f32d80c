#!/usr/bin/env bash
# Backing-store read errors injected under a live mount (docs/CRASH.md,
# fault injection): EIO on the header read fails the open; EIO on one data
# read fails that read with EIO and delivers nothing (no zeros, no partial
# plaintext) while every other read of the file returns its exact bytes;
# a store failing every read of a file fails all of them while another
# file reads fine; once lifted, everything reads back intact.
. "$(dirname "$0")/../lib.sh"
grep -qa BYOKFS_FAULTS "$BYOKFS" || skip "$BYOKFS has no fault injection (make asan builds it with)"
mkdir -p "$PLAIN"
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null
vol_mount
head -c 300000 /dev/urandom >"$T/r"; head -c 50000 /dev/urandom >"$T/o"
cp "$T/r" "$PLAIN/r"; cp "$T/o" "$PLAIN/o"
br=$(basename "$(backing_of "$PLAIN/r")")
vol_umount
: >"$T/faults"
BYOKFS_FAULTS=@$T/faults vol_mount_fg "$T/log"
fault() { echo "$1" >"$T/faults"; }

# reads r in 64 KiB pieces with O_DIRECT (each a read of the mount): prints
# one word per piece, "ok" (exactly the reference bytes), "EIO" or "BAD"
pieces() {
  python3 - "$PLAIN/r" "$T/r" <<'PY'
import errno, mmap, os, sys
ref = open(sys.argv[2], "rb").read()
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 65536)
out = []
for off in range(0, len(ref), 65536):
    try:
        n = os.preadv(fd, [buf], off)
        out.append("ok" if bytes(buf[:n]) == ref[off:off + n] else "BAD")
    except OSError as e:
        out.append("EIO" if e.errno == errno.EIO else e.strerror)
print(" ".join(out))
PY
}

# the header read (the first pread on r) fails: the open fails, o opens
fault "op=pread,path=$br,count=1"
assert_eq "$(py_errno 'os.open(p, os.O_RDONLY)' p="$PLAIN/r")" "Input/output error" "open with the header read failing"
cmp -s "$PLAIN/o" "$T/o" || fail "o while r's reads fail"
# the fourth pread (the header read at open is the first) fails once: that
# piece fails, every other is exact
fault "op=pread,path=$br,after=3,count=1"
assert_eq "$(pieces)" "ok ok EIO ok ok" "pieces with the fourth pread failing"
# every read of r fails: nothing comes back, o reads fine
exec 3<"$PLAIN/r" # opened (header read) before the fault
fault "op=pread,path=$br"
assert_eq "$(py_errno 'os.pread(3, 4096, 8192)')" "Input/output error" "read with every pread failing"
rc=0; n=$(dd if="$PLAIN/r" bs=65536 iflag=direct status=none 2>/dev/null | wc -c) || rc=$?
assert_eq "$n" 0 "bytes delivered while every read fails"
cmp -s "$PLAIN/o" "$T/o" || fail "o while every read of r fails"
exec 3<&-
# lifted
: >"$T/faults"
assert_eq "$(pieces)" "ok ok ok ok ok" "pieces once lifted"
cmp "$PLAIN/r" "$T/r" || fail "r once lifted"
vol_umount_fg
