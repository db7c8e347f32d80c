#!/usr/bin/env bash
# Atomic replace (write a temp file, fsync, rename over the live name), as
# editors, git and package managers do: one writer replaces a file 300
# times with versions of random sizes while 3 readers keep opening and
# reading it; every read sees one complete version (its self-checksum and
# length match), never a mix, an empty or a partial file. The last version
# is the one on disk after a remount.
. "$(dirname "$0")/../lib.sh"
vol_setup
cat >"$T/io.py" <<'PY'
import os, sys, random, hashlib, time
role, d = sys.argv[1], sys.argv[2]
live = os.path.join(d, "live")
def make(v, rnd):
    body = rnd.randbytes(rnd.choice([1, 100, 4095, 4096, 4097, 70000, 200000]))
    head = b"v%06d %08d " % (v, len(body))
    return head + hashlib.sha256(head + body).hexdigest().encode() + b"\n" + body
def check(data):
    head, rest = data.split(b" ", 2)[:2], data.split(b" ", 2)[2]
    n = int(head[1]); digest, body = rest[:64], rest[65:]
    assert len(body) == n, "length %d, header says %d" % (len(body), n)
    assert hashlib.sha256(head[0] + b" " + head[1] + b" " + body).hexdigest().encode() == digest, "checksum"
    return int(head[0][1:])
if role == "writer":
    rnd = random.Random(3)
    for v in range(300):
        tmp = os.path.join(d, ".tmp-%d" % v)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, make(v, rnd)); os.fsync(fd); os.close(fd)
        os.rename(tmp, live)
    open(os.path.join(d, "done"), "w").close()
else:
    seen, reads = -1, 0
    while True:
        finished = os.path.exists(os.path.join(d, "done"))
        try:
            data = open(live, "rb").read()
        except FileNotFoundError:
            assert seen == -1, "live name vanished after version %d" % seen
            continue
        v = check(data)
        assert v >= seen, "went back from version %d to %d" % (seen, v)
        seen, reads = v, reads + 1
        if finished and v == 299:
            break
    print(reads)
PY
timeout 120 python3 "$T/io.py" writer "$PLAIN" &
wpid=$!
rpids=()
for r in 1 2 3; do timeout 120 python3 "$T/io.py" reader "$PLAIN" >"$T/reads.$r" & rpids+=($!); done
wait "$wpid" || fail "writer failed"
for p in "${rpids[@]}"; do wait "$p" || fail "a reader saw an incomplete or mixed version"; done
for r in 1 2 3; do [[ $(cat "$T/reads.$r") -ge 10 ]] || fail "reader $r read only $(cat "$T/reads.$r") times"; done
assert_eq "$(ls -A "$PLAIN" | tr '\n' ' ')" "done live " "names left"
head -c 7 "$PLAIN/live" >"$T/v"; assert_eq "$(cat "$T/v")" "v000299" "last version"
cp "$PLAIN/live" "$T/last"
vol_remount
cmp "$PLAIN/live" "$T/last" || fail "last version after remount"
