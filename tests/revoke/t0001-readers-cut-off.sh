# byokfs revoke with 7 readers streaming through descriptors opened before,
# one reader touching a shared mmap, and an appender: every read started
# after revoke returned fails with EKEYREVOKED, the mmap reader gets SIGBUS,
# no read started after revoke returned gets data; afterwards a file read into
# the page cache before cannot be read, ls and stat fail, new opens and writes
# fail; fusermount3 -u works; after unlock every line the appender was told
# it wrote is intact and nothing else is there.
. "$(dirname "$0")/../lib.sh"
harness=$BYOKFS_TOP/build/tools/revoke-harness
[[ -x $harness ]] || fail "missing $harness (make tools)"
vol_setup
for i in 1 2 3 4 5 6 7 8; do head -c 3000000 /dev/urandom > "$PLAIN/f$i"; done
head -c 200000 /dev/urandom > "$PLAIN/cached"
sha_cached=$(sha "$PLAIN/cached")
cat "$PLAIN/cached" > /dev/null                 # now in the page cache
readers=()
for i in 1 2 3 4 5 6 7; do readers+=(-r "$PLAIN/f$i"); done
out=$("$harness" "${readers[@]}" -m "$PLAIN/f8" -a "$PLAIN/prompts.jsonl" -A "$T/acked" -w 500 \
      -- "$BYOKFS" revoke "$PLAIN") || fail "harness: $out"
note "$out"
python3 - "$out" <<'PY' || fail "harness report"
import json, sys
r = json.loads(sys.argv[1])
assert r["cmd_rc"] == 0, "revoke exited %d" % r["cmd_rc"]
assert r["violations"] == 0 and r["all_cut_off"], r
for rd in r["readers"]:
    want = "SIGBUS" if rd["mmap"] else "EKEYREVOKED"
    assert rd["errno"] == want, "%s ended with %s, want %s" % (rd["file"], rd["errno"], want)
    # it read data while the mount was unlocked: the test measured something
    assert rd["last_ok_start_ms"] > -400, "%s never read before revoke" % rd["file"]
# cut off between two requests of one write(), the appender gets a short
# write instead of an error; either way the bytes are checked below
assert r["appender"]["errno"] in ("EKEYREVOKED", "short write"), r["appender"]
assert r["appender"]["acked"] > 10, "appender wrote too little to check"
PY

expect_errno "Key has been revoked" cat "$PLAIN/cached"
expect_errno "Key has been revoked" ls "$PLAIN"
expect_errno "Key has been revoked" stat "$PLAIN/f1"
expect_errno "Key has been revoked" sh -c "echo x > '$PLAIN/new'"
expect_errno "Key has been revoked" sh -c "echo x >> '$PLAIN/f1'"
expect_errno "Key has been revoked" cat "$PLAIN/does-not-exist"
[[ $("$BYOKFS" status --json "$PLAIN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])') == revoked ]] ||
  fail "status does not say revoked"

"$BYOKFS" unlock "$PLAIN" || fail "unlock"
[[ $(sha "$PLAIN/cached") == "$sha_cached" ]] || fail "cached file wrong after unlock"
read -r acked partial < "$T/acked"
python3 - "$PLAIN/prompts.jsonl" "$acked" "$partial" <<'PY' || fail "appended lines"
import sys
def line(seq):  # exactly what revoke-harness writes
    body = b"line %08d payload-%060d" % (seq, seq * 7919)
    h = 5381
    for c in body:
        h = (h * 33 + c) & 0xFFFFFFFFFFFFFFFF
    return body + b" %08x\n" % (h & 0xFFFFFFFF)
data = open(sys.argv[1], "rb").read()
acked, partial = int(sys.argv[2]), int(sys.argv[3])
want = b"".join(line(i) for i in range(1, acked + 1)) + line(acked + 1)[:partial]
assert data == want, "on disk: %d bytes, acknowledged: %d lines + %d bytes; first difference at %d" % (
    len(data), acked, partial, next((i for i, (a, b) in enumerate(zip(data, want)) if a != b), min(len(data), len(want))))
PY
"$BYOKFS" revoke "$PLAIN"
vol_umount || fail "fusermount3 -u after revoke"
mountpoint -q "$PLAIN" && fail "still mounted"
exit 0
