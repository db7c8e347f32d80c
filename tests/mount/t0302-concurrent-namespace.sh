#!/usr/bin/env bash
# Concurrent namespace and data operations: 4 processes, 1,500 seeded
# random operations each (create, append, overwrite at offsets, truncate,
# rename within and across three shared directories, hard link, unlink,
# mkdir, rmdir, readdir), each on its own names in shared directories, each
# keeping a model of what it did. Afterwards (and after a remount) the tree
# holds exactly the union of the models: every name, every content, every
# hard-link pair; nothing lost or duplicated.
. "$(dirname "$0")/../lib.sh"
vol_setup
mkdir "$PLAIN/d0" "$PLAIN/d1" "$PLAIN/d2"
cat >"$T/worker.py" <<'PY'
import os, sys, random, json
root, wid, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(1000 + wid)
files = {}   # relative path -> object id
objs = {}    # object id -> bytearray
dirs = ["d0", "d1", "d2"]
mine = []    # own subdirectories
seq = 0
def newname():
    global seq
    seq += 1
    return "%s/w%d-%05d%s" % (rnd.choice(dirs + mine), wid, seq, "-" + "x" * rnd.randrange(0, 120) if rnd.random() < 0.2 else "")
P = lambda r: os.path.join(root, r)
for step in range(n):
    op = rnd.random()
    if op < 0.2 or not files:
        r = newname(); o = len(objs)
        data = rnd.randbytes(rnd.choice([0, 1, 100, 4096, 5000, 9000]))
        with open(P(r), "wb") as f:
            f.write(data)
        files[r] = o; objs[o] = bytearray(data)
    elif op < 0.35:
        r = rnd.choice(sorted(files)); o = files[r]
        data = rnd.randbytes(rnd.randrange(1, 6000))
        fd = os.open(P(r), os.O_WRONLY | os.O_APPEND); os.write(fd, data); os.close(fd)
        objs[o] += data
    elif op < 0.45:
        r = rnd.choice(sorted(files)); o = files[r]
        off = rnd.randrange(0, len(objs[o]) + 5000); data = rnd.randbytes(rnd.randrange(1, 5000))
        fd = os.open(P(r), os.O_WRONLY); os.pwrite(fd, data, off); os.close(fd)
        b = objs[o]
        if off > len(b): b += bytes(off - len(b))
        b[off:off + len(data)] = data
    elif op < 0.5:
        r = rnd.choice(sorted(files)); o = files[r]; size = rnd.randrange(0, 12000)
        os.truncate(P(r), size)
        b = objs[o]
        if size < len(b): del b[size:]
        else: b += bytes(size - len(b))
    elif op < 0.68:
        r = rnd.choice(sorted(files)); nr = newname()
        os.rename(P(r), P(nr)); files[nr] = files.pop(r)
    elif op < 0.75:
        r = rnd.choice(sorted(files)); nr = newname()
        os.link(P(r), P(nr)); files[nr] = files[r]
    elif op < 0.88:
        r = rnd.choice(sorted(files)); os.unlink(P(r)); del files[r]
    elif op < 0.93:
        d = "%s/sub-w%d-%05d" % (rnd.choice(dirs), wid, step)
        os.mkdir(P(d)); mine.append(d)
    elif op < 0.96 and mine:
        d = rnd.choice(mine)
        if not any(f.startswith(d + "/") for f in files) and not any(m.startswith(d + "/") for m in mine):
            os.rmdir(P(d)); mine.remove(d)
    else:
        d = rnd.choice(dirs + mine)
        mine_there = sorted(x for x in os.listdir(P(d)) if x.startswith("w%d-" % wid))
        want = sorted(f.split("/")[-1] for f in files if f.rsplit("/", 1)[0] == d)
        assert mine_there == want, "step %d: listing of %s: %d names, model %d" % (step, d, len(mine_there), len(want))
json.dump({"files": {r: objs[o].hex() for r, o in files.items()},
           "links": sorted(sorted(r for r, o2 in files.items() if o2 == o) for o in set(files.values()) if list(files.values()).count(o) > 1),
           "dirs": mine}, open(sys.argv[4], "w"))
PY
cat >"$T/verify.py" <<'PY'
import os, sys, json, glob, collections
root = sys.argv[1]
files, links, dirs = {}, [], set(["d0", "d1", "d2"])
for m in glob.glob(sys.argv[2] + "/model.*"):
    j = json.load(open(m)); files.update(j["files"]); links += j["links"]; dirs.update(j["dirs"])
got_files, got_dirs, inodes = {}, set(), collections.defaultdict(list)
for dp, dns, fns in os.walk(root):
    for d in dns: got_dirs.add(os.path.relpath(os.path.join(dp, d), root))
    for f in fns:
        r = os.path.relpath(os.path.join(dp, f), root)
        got_files[r] = open(os.path.join(dp, f), "rb").read().hex()
        inodes[os.stat(os.path.join(dp, f)).st_ino].append(r)
assert got_dirs == dirs, ("dirs", sorted(got_dirs ^ dirs)[:10])
missing = sorted(set(files) - set(got_files)); extra = sorted(set(got_files) - set(files))
assert not missing and not extra, ("missing", missing[:5], "extra", extra[:5])
bad = [r for r in files if files[r] != got_files[r]]
assert not bad, ("content differs", bad[:5])
got_links = sorted(sorted(v) for v in inodes.values() if len(v) > 1)
assert got_links == sorted(links), ("hard links", got_links[:3], sorted(links)[:3])
print("%d files, %d dirs, %d link groups" % (len(files), len(dirs), len(links)))
PY
pids=()
for w in 0 1 2 3; do
  timeout 120 python3 "$T/worker.py" "$PLAIN" "$w" 1500 "$T/model.$w" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a worker failed"; done
python3 "$T/verify.py" "$PLAIN" "$T" || fail "tree differs from the workers' models"
vol_remount
python3 "$T/verify.py" "$PLAIN" "$T" || fail "tree differs from the workers' models after remount"
