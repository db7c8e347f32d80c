#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A second implementation of the byokfs format, reading only.

Reads a backing directory with a local key file and prints (or extracts)
the plaintext tree, using docs/FORMAT.md and tests/format/oracle.py only:
no libsodium, no byokfs code. Exists to prove the format is documented well
enough for someone else to read a volume.

usage: byokfs_read.py --key KEYFILE BACKING [--extract DIR] [--manifest]
"""
import argparse
import configparser
import hmac
import os
import stat
import sys
import base64
import hashlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402

H = 104


class Volume:
    def __init__(self, backing, keyfile):
        self.backing = backing
        cp = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",),
                                       comment_prefixes=(";", "#"))
        cp.read(os.path.join(backing, ".byokfs.volume"))
        v = cp["volume"]
        join = lambda s: "".join(s.split())  # continuation lines concatenate
        self.params = {k: v[k] for k in ("format", "id", "cipher", "block_size", "names",
                                         "longname_max", "key_epoch", "created")}
        assert self.params["format"] == "1"
        self.volume_id = bytes.fromhex(v["id"])
        self.cipher = {"aes-256-gcm": 1, "xchacha20-poly1305": 2}[v["cipher"]]
        self.block = int(v["block_size"])
        self.nonce = oracle.CIPHERS[self.cipher][1]
        self.slot = self.block + self.nonce + 16
        master = open(keyfile, "rb").read()
        assert len(master) == 32
        slots = [s for s in cp.sections() if s.startswith("slot ")]
        self.vkey = None
        for s in slots:
            if cp[s]["provider"] != "local":
                continue
            blob = base64.b64decode(join(cp[s]["wrapped_key"]))
            ad = ("byokfs-local-v1:" + v["id"]).encode()
            try:
                self.vkey = oracle.unseal(master, ad, blob)
                break
            except Exception:
                continue
        if self.vkey is None:
            raise SystemExit("no local key slot opens with this key")
        self.k = {n: oracle.kdf(self.vkey, i) for n, i in oracle.SUBKEYS.items()}
        # descriptor MAC: the canonical text of section "MAC input" in FORMAT.md
        text = "byokfs volume descriptor v1\n"
        for f in ("format", "id", "cipher", "block_size", "names", "longname_max", "key_epoch",
                  "created"):
            text += "%s=%s\n" % (f, v[f])
        self.old = None
        if cp.has_section("rekey"):
            rk = cp["rekey"]
            text += "rekey_from_epoch=%s\nrekey_previous_key=%s\n" % (
                rk["from_epoch"], join(rk["previous_key"]))
            prev = oracle.unseal(self.k["rekey"], ("byokfs-rekey-v1:" + v["id"]).encode(),
                                 base64.b64decode(join(rk["previous_key"])))
            self.old = {n: oracle.kdf(prev, i) for n, i in oracle.SUBKEYS.items()}
            self.old_epoch = int(rk["from_epoch"])
        for s in slots:
            text += "slot=%s\nprovider=%s\nkey_id=%s\nwrapped_key=%s\n" % (
                s[5:], cp[s]["provider"], join_keep(cp[s]["key_id"]), join(cp[s]["wrapped_key"]))
        mac = hashlib.blake2b(text.encode(), digest_size=32, key=self.k["desc_mac"]).digest()
        if not hmac.compare_digest(mac, base64.b64decode(v["mac"])):
            raise SystemExit("descriptor MAC mismatch")

    def dirid(self, path):
        return open(os.path.join(path, ".byokfs.dirid"), "rb").read()

    def entries(self, path):
        did = self.dirid(path)
        for e in sorted(os.listdir(path)):
            if e.startswith(".byokfs.") or (e.startswith(".L") and e.endswith(".name")):
                continue
            if e.startswith(".L"):
                enc = open(os.path.join(path, e + ".name")).read()
                assert oracle.long_entry(enc) == e, "long name hash mismatch"
            else:
                enc = e
            try:
                name = oracle.name_decrypt(self.k["name_mac"], self.k["name_enc"], did, enc)
            except ValueError:
                if not self.old:
                    raise
                name = oracle.name_decrypt(self.old["name_mac"], self.old["name_enc"], did, enc)
            yield name.decode("utf-8", "surrogateescape"), os.path.join(path, e)

    def read_file(self, path):
        raw = open(path, "rb").read()
        if len(raw) == 0:
            return b""
        epoch = int.from_bytes(raw[8:12], "little")
        keys = self.old if self.old and epoch == self.old_epoch else self.k
        dek = oracle.header_unwrap(raw[:H], keys["header"], self.volume_id)
        assert raw[5] == self.cipher and (1 << raw[6]) == self.block
        file_id = raw[16:32]
        body = raw[H:]
        n = (len(body) + self.slot - 1) // self.slot
        out = []
        for i in range(n):
            stored = body[i * self.slot:(i + 1) * self.slot]
            last = i == n - 1
            if not last and stored == bytes(len(stored)):
                out.append(bytes(self.block))  # a hole
                continue
            try:
                out.append(oracle.block_decrypt(self.cipher, dek, file_id, i, last, stored))
            except Exception:
                if last:
                    raise
                # an extension interrupted between its two writes (FORMAT.md)
                out.append(oracle.block_decrypt(self.cipher, dek, file_id, i, True, stored))
        return b"".join(out)

    def readlink(self, path):
        enc = os.readlink(path)
        for keys in (self.k, self.old):
            try:
                return oracle.unseal(keys["link"], b"byokfs-symlink-v1", oracle.b64url_dec(enc)).decode()
            except Exception:
                if keys is self.old or not self.old:
                    raise

    def xattrs(self, path):
        out = {}
        try:
            names = os.listxattr(path, follow_symlinks=False)
        except OSError:
            return out
        for bn in names:
            if not bn.startswith("user.b."):
                continue
            for keys in (self.k, self.old):
                try:
                    n = oracle.name_decrypt(keys["name_mac"], keys["name_enc"],
                                            b"byokfs-xattr-v1\0", bn[7:])
                    val = oracle.unseal(keys["xattr"], bn.encode(),
                                        os.getxattr(path, bn, follow_symlinks=False))
                    break
                except Exception:
                    if keys is self.old or not self.old:
                        raise
            out["user." + n.decode()] = val
        return out


def join_keep(s):
    # key ids keep inner spaces; only line breaks of continuations go
    return "".join(line.strip() for line in s.splitlines())


def walk(vol, bpath, ppath, emit):
    for name, child in vol.entries(bpath):
        st = os.lstat(child)
        rel = os.path.join(ppath, name)
        if stat.S_ISDIR(st.st_mode):
            emit(rel, "dir", st, None)
            walk(vol, child, rel, emit)
        elif stat.S_ISLNK(st.st_mode):
            emit(rel, "symlink", st, vol.readlink(child))
        elif stat.S_ISREG(st.st_mode):
            emit(rel, "file", st, (vol.read_file(child), vol.xattrs(child)))
        else:
            emit(rel, "other", st, None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", required=True)
    ap.add_argument("--extract")
    ap.add_argument("backing")
    a = ap.parse_args()
    vol = Volume(a.backing, a.key)

    def emit(rel, kind, st, data):
        mode = "%o" % stat.S_IMODE(st.st_mode)
        if kind == "file":
            content, xa = data
            xs = ",".join("%s=%s" % (k, hashlib.sha256(v).hexdigest()[:16]) for k, v in sorted(xa.items()))
            print("file %s %s %d %s %s" % (mode, hashlib.sha256(content).hexdigest(), len(content), rel, xs))
            if a.extract:
                with open(os.path.join(a.extract, rel), "wb") as f:
                    f.write(content)
        elif kind == "dir":
            print("dir %s %s" % (mode, rel))
            if a.extract:
                os.makedirs(os.path.join(a.extract, rel), exist_ok=True)
        elif kind == "symlink":
            print("symlink %s -> %s" % (rel, data))
            if a.extract:
                os.symlink(data, os.path.join(a.extract, rel))
        else:
            print("other %s" % rel)

    walk(vol, a.backing, "", emit)


if __name__ == "__main__":
    main()
