# The golden volume of docs/FORMAT.md's worked example (made by byokfs,
# format 1, master key bytes 00..1f) still mounts and reads, the second
# reader reads it too, and the key values the document quotes are right.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || skip "python3-cryptography (Debian) is not installed"
cp -a "$here/golden-v1/backing" "$CIPHER"
install -m 0600 "$here/golden-v1/master.key" "$T/golden.key"
mkdir -p "$PLAIN"
byokfs mount --key "local:$T/golden.key" -o ro "$CIPHER" "$PLAIN"
_mounts+=("$PLAIN")
[[ $(cat "$PLAIN/a.txt") == a ]] || fail "a.txt"
[[ -f $PLAIN/empty.txt && ! -s $PLAIN/empty.txt ]] || fail "empty.txt"
[[ $(ls "$PLAIN" | tr '\n' ' ') == "a.txt empty.txt " ]] || fail "listing: $(ls "$PLAIN")"
vol_umount

/usr/bin/python3 "$here/byokfs_read.py" --key "$T/golden.key" "$CIPHER" > "$T/manifest"
grep -q " $(printf a | sha256sum | cut -d' ' -f1) 1 a.txt" "$T/manifest" || fail "reader: $(cat "$T/manifest")"

# every hex value quoted in the worked example is what the oracle computes
/usr/bin/python3 - "$here" "$T/golden.key" "$CIPHER" "$here/../../docs/FORMAT.md" <<'PY' || fail "FORMAT.md example values"
import sys, os, base64, configparser
sys.path.insert(0, sys.argv[1]); import oracle
key, backing, doc = sys.argv[2], sys.argv[3], open(sys.argv[4]).read()
cp = configparser.ConfigParser(interpolation=None); cp.read(os.path.join(backing, ".byokfs.volume"))
vid = cp["volume"]["id"]
blob = base64.b64decode("".join(cp["slot primary"]["wrapped_key"].split()))
vk = oracle.unseal(open(key, "rb").read(), ("byokfs-local-v1:" + vid).encode(), blob)
raw = open(os.path.join(backing, "ArN_jOMKDgKqKtNHFBFHFw3D2B_1GM8lw9nxNCU0FJg"), "rb").read()
dek = oracle.header_unwrap(raw[:104], oracle.kdf(vk, 1), bytes.fromhex(vid))
did = open(os.path.join(backing, ".byokfs.dirid"), "rb").read()
want = [vk.hex(), oracle.kdf(vk, 1).hex(), oracle.kdf(vk, 2).hex(), oracle.kdf(vk, 3).hex(), dek.hex(),
        raw[16:32].hex(), raw[104:116].hex(), raw[117:133].hex(), vid,
        oracle.name_encrypt(oracle.kdf(vk, 2), oracle.kdf(vk, 3), did, b"a.txt")]
missing = [w for w in want if w not in doc]
assert not missing, "FORMAT.md lacks %s" % missing
PY
