#!/usr/bin/env python3
"""Load generator and checker for the crash tests (tests/crash/).

  crashload.py load DIR MODEL JOURNAL SEED [OPS]
      Runs random operations on the files in DIR (a byokfs mount) until one
      fails (the daemon was killed) or OPS operations are done. MODEL is a
      directory holding the expected content of every file (what the mount
      acknowledged so far). Every operation is journalled to JOURNAL before
      it starts ("begin") and after the mount acknowledged it ("end"); an
      operation that fails is journalled as "fail": its outcome is unknown.
      Operations: overwrite, append, truncate (down, up, to zero), create,
      rename (onto an existing name too), unlink, fsync.

  crashload.py op DIR JOURNAL JSON
      Runs the one operation JSON (as journalled: {"op": "write", "file":
      "f0", "off": 0, "len": 10, "seed": 1}, ...), journalled; exit 3 if it
      failed.

  crashload.py check DIR MODEL JOURNAL FSCK_OUTPUT
      After a crash and a remount: replays the acknowledged operations of
      JOURNAL on MODEL, then checks the mount against it:
        - every file opens (an open that fails is an error);
        - every block of every file not touched by the operation in flight
          reads exactly its acknowledged content; the size is exact;
        - the file of the operation in flight has a size between its old
          and new size, and each of its blocks reads as the old or the new
          content, or fails with EIO; only the blocks that operation writes
          may fail (the blocks of its range, the old final block when the
          file grows, the new final block when it shrinks);
        - the blocks that read EIO are exactly the blocks fsck reported
          damaged (a torn or empty final block K is the end of the file:
          the mount fails a read of the last block, K - 1), and fsck
          reports nothing else.
      Then MODEL becomes what the mount holds: damaged files are deleted
      (through the mount), the operation in flight resolved. Prints a
      summary line; exits 1 with the reasons on a violation.

Data written is derived from a seed journalled with the operation, so the
journal is small and the checker can rebuild it.
"""
import errno
import json
import mmap
import os
import random
import re
import sys

B = 4096  # plaintext block size of the test volumes
MAX_FILES = 8
MAX_SIZE = 320 * 1024


def data_for(seed, n):
    return random.Random(seed).randbytes(n)


def load_model(model):
    m = {}
    for name in os.listdir(model):
        with open(os.path.join(model, name), "rb") as f:
            m[name] = bytearray(f.read())
    return m


def save_model(model, m):
    for name in os.listdir(model):
        if name not in m:
            os.unlink(os.path.join(model, name))
    for name, content in m.items():
        with open(os.path.join(model, name), "wb") as f:
            f.write(content)


def apply(m, op):
    """Applies an acknowledged operation to the model m (name -> bytearray)."""
    k = op["op"]
    if k == "write":
        c = m[op["file"]]
        off, d = op["off"], data_for(op["seed"], op["len"])
        if off > len(c):
            c.extend(b"\0" * (off - len(c)))
        c[off:off + len(d)] = d
    elif k == "truncate":
        c = m[op["file"]]
        n = op["size"]
        if n < len(c):
            del c[n:]
        else:
            c.extend(b"\0" * (n - len(c)))
    elif k == "create":
        m[op["file"]] = bytearray()
    elif k == "rename":
        m[op["to"]] = m.pop(op["file"])
    elif k == "unlink":
        del m[op["file"]]


def touched_blocks(old_len, op):
    """The blocks of op's file that op (re)writes: they may fail after a crash."""
    k = op["op"]
    t = set()
    if k == "write":
        off, n = op["off"], op["len"]
        t.update(range(off // B, (off + n - 1) // B + 1))
        if off + n > old_len:
            t.add(max(old_len - 1, 0) // B)  # the old final block stops being final
    elif k == "truncate":
        n = op["size"]
        if 0 < n < old_len:
            t.add((n - 1) // B)  # the new final block, re-encrypted
        elif n > old_len:
            t.add(max(old_len - 1, 0) // B)  # the old final block stops being final
            t.add((n - 1) // B)  # the new final block (the blocks between are holes)
        # n == 0: the file is cut to 0 bytes, then gets a new header: old or empty
    return t


# ---------------------------------------------------------------- load

def load(d, model, journal, seed, maxops):
    rnd = random.Random(seed)
    m = load_model(model)
    jf = open(journal, "a")

    def log(rec):
        jf.write(json.dumps(rec) + "\n")
        jf.flush()

    done = 0
    while maxops == 0 or done < maxops:
        names = sorted(m)
        r = rnd.random()
        op = None
        if not names or (r < 0.08 and len(names) < MAX_FILES):
            free = [f"f{i}" for i in range(MAX_FILES) if f"f{i}" not in m]
            op = {"op": "create", "file": rnd.choice(free)}
        elif r < 0.35:
            f = rnd.choice(names)
            n = rnd.choice([1, 100, 777, 4096, 5000, 20000, 65536])
            n = min(n, max(1, MAX_SIZE - len(m[f]))) if len(m[f]) < MAX_SIZE else 0
            if n:
                op = {"op": "write", "file": f, "off": len(m[f]), "len": n, "append": 1}
        elif r < 0.6:
            f = rnd.choice(names)
            off = rnd.randrange(0, len(m[f]) + 1)
            n = rnd.choice([1, 300, 4096, 8192, 10000, 40000])
            if off + n <= MAX_SIZE:
                op = {"op": "write", "file": f, "off": off, "len": n}
        elif r < 0.75:
            f = rnd.choice(names)
            c = rnd.random()
            size = 0 if c < 0.15 else rnd.randrange(0, len(m[f]) + 1) if c < 0.7 else \
                min(MAX_SIZE, len(m[f]) + rnd.randrange(1, 30000))
            op = {"op": "truncate", "file": f, "size": size}
        elif r < 0.85:
            f = rnd.choice(names)
            to = rnd.choice([f"f{i}" for i in range(MAX_FILES)])
            if to != f:
                op = {"op": "rename", "file": f, "to": to}
        elif r < 0.9 and len(names) > 2:
            op = {"op": "unlink", "file": rnd.choice(names)}
        else:
            op = {"op": "fsync", "file": rnd.choice(names)}
        if op is None:
            continue
        if op["op"] == "write":
            op["seed"] = rnd.getrandbits(48)
        if not run_op(d, op, log):
            return 0
        apply(m, op)
        done += 1
    return 0


def run_op(d, op, log):
    """Runs one operation on the mount, journalled; False if it failed."""
    log({"begin": op})
    p = os.path.join(d, op["file"])
    try:
        k = op["op"]
        if k == "create":
            os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        elif k == "write":
            flags = os.O_WRONLY | (os.O_APPEND if op.get("append") else 0)
            fd = os.open(p, flags)
            try:
                data = data_for(op["seed"], op["len"])
                w = os.pwrite(fd, data, op["off"]) if not op.get("append") else os.write(fd, data)
                if w != len(data):
                    raise OSError(errno.EIO, "short write %d of %d" % (w, len(data)))
            finally:
                os.close(fd)
        elif k == "truncate":
            os.truncate(p, op["size"])
        elif k == "rename":
            os.rename(p, os.path.join(d, op["to"]))
        elif k == "unlink":
            os.unlink(p)
        elif k == "fsync":
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    except OSError as e:
        log({"fail": op, "errno": e.errno})
        return False
    log({"end": op})
    return True


def one(d, journal, spec):
    """Runs the one operation spec (JSON) on the mount, journalled."""
    with open(journal, "a") as jf:
        def log(rec):
            jf.write(json.dumps(rec) + "\n")
            jf.flush()
        return 0 if run_op(d, json.loads(spec), log) else 3


# ---------------------------------------------------------------- check

def read_blocks(path, size):
    """Reads a file block by block, bypassing the page cache where possible.
    Returns (list of bytes or None for EIO, error or None)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
        direct = True
    except OSError as e:
        if e.errno != errno.EINVAL:
            return None, e
        fd, direct = os.open(path, os.O_RDONLY), False
    buf = mmap.mmap(-1, B)
    out = []
    try:
        for i in range((size + B - 1) // B):
            try:
                if direct:
                    n = os.preadv(fd, [buf], i * B)
                    out.append(bytes(buf[:n]))
                else:
                    out.append(os.pread(fd, B, i * B))
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                out.append(None)
    finally:
        os.close(fd)
    return out, None


def parse_fsck(text):
    """{plaintext path: set of blocks that read EIO}, [other findings]."""
    dmg, other = {}, []
    for line in text.splitlines():
        if not line.startswith(("damaged ", "orphan ", "unchecked ")):
            continue
        mm = re.match(r"damaged [^:]+: block (\d+): (.*) \((/[^)]*)\)$", line)
        if not mm:
            other.append(line)
            continue
        k, what, plain = int(mm.group(1)), mm.group(2), mm.group(3)
        if what.startswith(("torn final block", "empty final block after full blocks")):
            k -= 1  # no plaintext there: the read of the block before fails
        dmg.setdefault(plain, set()).add(k)
    return dmg, other


def check(d, model, journal, fsck_file):
    m = load_model(model)
    inflight = None
    nacked = nsynced = 0
    with open(journal) as jf:
        for line in jf:
            rec = json.loads(line)
            if "begin" in rec:
                inflight = rec["begin"]
            elif "end" in rec:
                apply(m, rec["end"])
                nacked += 1
                nsynced += rec["end"]["op"] == "fsync"
                inflight = None
            # "fail": stays in flight (outcome unknown)
    errors = []
    old = {k: bytes(v) for k, v in m.items()}
    new = None
    if inflight:
        nm = {k: bytearray(v) for k, v in m.items()}
        apply(nm, inflight)
        new = {k: bytes(v) for k, v in nm.items()}
    with open(fsck_file) as f:
        fsck_dmg, fsck_other = parse_fsck(f.read())
    for line in fsck_other:
        errors.append("fsck reported something other than a damaged block: " + line)

    actual = sorted(n for n in os.listdir(d))
    # the names: those acknowledged, give or take the operation in flight
    allowed = [set(old)]
    if new is not None:
        allowed.append(set(new))
    if set(actual) not in allowed:
        errors.append("names %s, want %s" % (actual, " or ".join(str(sorted(a)) for a in allowed)))

    eio = {}
    result = {}
    for name in actual:
        path = os.path.join(d, name)
        try:
            size = os.stat(path).st_size
        except OSError as e:
            errors.append("%s: stat: %s" % (name, e.strerror))
            continue
        blocks, err = read_blocks(path, size)
        if err is not None:
            errors.append("%s does not open: %s" % (name, err.strerror))
            continue
        cands = []  # (content, blocks that may fail or hold either content)
        if name in old:
            cands.append(old[name])
        if new is not None and name in new and (name not in old or new[name] != old[name]):
            cands.append(new[name])
        t = set()
        op_file = None
        if inflight:
            op_file = inflight["to"] if inflight["op"] == "rename" else inflight["file"]
        if inflight and name == op_file and inflight["op"] in ("write", "truncate"):
            t = touched_blocks(len(old[name]), inflight)
        if not cands:
            errors.append("%s: not expected to exist" % name)
            continue
        lo, hi = min(len(c) for c in cands), max(len(c) for c in cands)
        if t:
            if not lo <= size <= hi:
                errors.append("%s: size %d, want %d..%d" % (name, size, lo, hi))
        elif size not in [len(c) for c in cands]:
            errors.append("%s: size %d, want %s" % (name, size, [len(c) for c in cands]))
        if not t:
            # not written by the crash: exactly one candidate, whole
            if None in blocks:
                errors.append("%s: blocks %s read EIO, but the crash did not write this file (in flight: %s)"
                              % (name, [i for i, b in enumerate(blocks) if b is None], inflight))
                eio[name] = {i for i, b in enumerate(blocks) if b is None}
            elif b"".join(blocks) not in cands:
                errors.append("%s: content is not the acknowledged one" % name)
            else:
                result[name] = b"".join(blocks)
            continue
        got = bytearray()
        bad = set()
        last = (size - 1) // B if size else -1
        for i, blk in enumerate(blocks):
            want_len = min(B, size - i * B)
            if blk is None:
                bad.add(i)
                # the last block fails too when the file ends in a torn block
                if i not in t and not (i == last and i + 1 in t):
                    errors.append("%s: block %d reads EIO, but the crash did not write it (in flight: %s)"
                                  % (name, i, inflight))
                got += b"\0" * want_len
                continue
            if len(blk) != want_len:
                errors.append("%s: block %d: read %d bytes, want %d" % (name, i, len(blk), want_len))
            ok = False
            for c in cands:
                z = c + b"\0" * max(0, size - len(c))
                if blk == z[i * B:i * B + len(blk)]:
                    ok = True
            if not ok:
                errors.append("%s: block %d holds neither the acknowledged nor the new content" % (name, i))
            got += blk
        if bad:
            eio[name] = bad
        result[name] = got
    # fsck must report exactly the blocks that read EIO
    for name in set(eio) | set(k.lstrip("/") for k in fsck_dmg):
        mine = eio.get(name, set())
        theirs = fsck_dmg.get("/" + name, set())
        if mine != theirs:
            errors.append("%s: blocks reading EIO %s, fsck reported %s" % (name, sorted(mine), sorted(theirs)))
    if errors:
        print("in flight: %s" % inflight)
        for e in errors:
            print("ERROR: " + e)
        return 1
    # the new model: what the mount holds; damaged files go
    for name in eio:
        os.unlink(os.path.join(d, name))
        del result[name]
    save_model(model, {k: bytearray(v) for k, v in result.items()})
    os.truncate(journal, 0)
    print("ok: %d acknowledged operations (%d fsync), in flight %s, %d files, damaged blocks %s"
          % (nacked, nsynced, inflight and inflight["op"], len(result),
             {k: sorted(v) for k, v in eio.items()} or "none"))
    return 0


def main():
    a = sys.argv[1:]
    if a and a[0] == "load" and len(a) in (5, 6):
        return load(a[1], a[2], a[3], int(a[4]), int(a[5]) if len(a) == 6 else 0)
    if a and a[0] == "op" and len(a) == 4:
        return one(a[1], a[2], a[3])
    if a and a[0] == "check" and len(a) == 5:
        return check(*a[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
