#!/usr/bin/env bash
# Plaintext names that look like byokfs's own backing bookkeeping
# (.byokfs.volume, .byokfs.dirid, .byokfs.volume.tmp, .L<43 chars>,
# .L<43 chars>.name) and other odd names ("...", "-", " ", names with
# newlines, backslashes, 255 bytes) are ordinary names: created as files
# and directories, listed exactly, read back, removed; the real descriptor
# and directory ids are untouched and the volume mounts again.
. "$(dirname "$0")/../lib.sh"
vol_setup
desc_sum=$(sha "$CIPHER/.byokfs.volume"); dirid_sum=$(sha "$CIPHER/.byokfs.dirid")
h43=$(printf 'A%.0s' $(seq 43))
python3 - "$PLAIN" "$h43" <<'PY' || fail "odd names"
import os, sys
d, h43 = sys.argv[1], sys.argv[2]
names = [".byokfs.volume", ".byokfs.dirid", ".byokfs.volume.tmp", ".byokfs.", ".L" + h43, ".L" + h43 + ".name",
         "...", "-", " ", "new\nline", "back\\slash", "x" * 255, ".hidden"]
os.mkdir(os.path.join(d, "sub"))
for sub in ("", "sub"):
    base = os.path.join(d, sub)
    os.makedirs(base, exist_ok=True)
    for i, n in enumerate(names):
        with open(os.path.join(base, n), "wb") as f:
            f.write(b"content of %d" % i)
    os.mkdir(os.path.join(base, "dir-" + str(len(names))))
    os.mkdir(os.path.join(base, ".byokfs.dir"))
    listed = sorted(os.listdir(base))
    want = sorted(names + ["dir-" + str(len(names)), ".byokfs.dir"] + (["sub"] if sub == "" else []))
    assert listed == want, (listed, want)
    for i, n in enumerate(names):
        assert open(os.path.join(base, n), "rb").read() == b"content of %d" % i, n
PY
assert_eq "$(sha "$CIPHER/.byokfs.volume")" "$desc_sum" "descriptor after creating look-alike names"
assert_eq "$(sha "$CIPHER/.byokfs.dirid")" "$dirid_sum" "root dir id after creating look-alike names"
vol_remount
python3 - "$PLAIN" "$h43" <<'PY' || fail "odd names after remount"
import os, sys, shutil
d, h43 = sys.argv[1], sys.argv[2]
for sub in ("", "sub"):
    base = os.path.join(d, sub)
    assert open(os.path.join(base, ".byokfs.volume"), "rb").read() == b"content of 0"
    assert open(os.path.join(base, ".L" + h43 + ".name"), "rb").read() == b"content of 5"
    assert len(os.listdir(base)) == 15 + (1 if sub == "" else 0), os.listdir(base)
shutil.rmtree(os.path.join(d, "sub"))
for n in os.listdir(d):
    p = os.path.join(d, n)
    shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)
assert os.listdir(d) == []
PY
assert_eq "$(ls -A "$CIPHER" | tr '\n' ' ')" ".byokfs.dirid .byokfs.volume " "backing root after removing everything"
assert_eq "$(sha "$CIPHER/.byokfs.volume")" "$desc_sum" "descriptor at the end"
vol_remount
echo fine >"$PLAIN/after"; assert_eq "$(cat "$PLAIN/after")" "fine" "volume usable at the end"
