#!/usr/bin/env bash
# byokfs rekey replaces the volume key: every slot opens the volume after,
# the content is the same, fsck is clean, and the old volume key opens
# nothing (checked with the independent reader: no header unwraps and no
# name decrypts under it); --data gives every file a new data key and keeps
# sparse files sparse; killed at random moments, the volume mounts and reads
# every file each time, and running rekey again finishes; refused while
# mounted, and refused with nothing changed when a slot's key is missing.
. "$(dirname "$0")/../lib.sh"
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || skip "python3-cryptography (Debian) is not installed"
fmt=$BYOKFS_TOP/tests/format
byokfs keygen "$T/k2" 2>/dev/null
vol_setup
byokfs keyslot add "$CIPHER" --key "local:$T/k2" --name second >/dev/null
populate() {
  mkdir -p "$PLAIN/a/b" "$PLAIN/many"
  echo hello > "$PLAIN/a/b/f"
  head -c 300000 /dev/urandom > "$PLAIN/big"
  ln -s a/b/f "$PLAIN/link"
  ln "$PLAIN/big" "$PLAIN/hard"
  setfattr -n user.tag -v secret-value "$PLAIN/big"
  python3 -c "open('$PLAIN/' + 'L' * 200, 'w').write('long name')"
  truncate -s 8000000 "$PLAIN/sparse"; echo tail >> "$PLAIN/sparse"
  for i in $(seq 600); do echo "file $i" > "$PLAIN/many/f$i"; done
}
manifest() { (cd "$PLAIN" && find . -type f -exec sha256sum {} + | sort; find . -type l -printf '%p -> %l\n' | sort; getfattr --only-values -n user.tag big); }
populate
manifest > "$T/want"
vol_umount
files=$(find "$CIPHER" -type f ! -name '.byokfs*' ! -name '*.name' | sort)
/usr/bin/python3 "$fmt/keys.py" --key "$KEY" "$CIPHER" $files > "$T/old"

"$BYOKFS" rekey "$CIPHER" > "$T/out" || fail "rekey: $(cat "$T/out")"
grep -q "^rekeyed volume .*: key epoch 1; " "$T/out" || fail "summary: $(cat "$T/out")"
grep -q '^\[rekey\]' "$CIPHER/.byokfs.volume" && fail "[rekey] left in the descriptor"
grep -q '^key_epoch = 1$' "$CIPHER/.byokfs.volume" || fail "key epoch"
vol_mount
manifest > "$T/got"; diff "$T/want" "$T/got" || fail "content differs after rekey"
vol_umount
mount_at "$CIPHER" "$T/p2" --key "local:$T/k2"
[[ $(cat "$T/p2/a/b/f") == hello ]] || fail "second slot after rekey"
vol_umount "$T/p2"
"$BYOKFS" fsck "$CIPHER" > /dev/null || fail "fsck after rekey"

# the old volume key opens nothing
/usr/bin/python3 - "$CIPHER" "$T/old" <<'PY' || fail "old volume key still opens something"
import os, sys
sys.path.insert(0, os.environ["BYOKFS_TOP"] + "/tests/format")
import oracle
backing, old = sys.argv[1], dict(l.split()[:2] for l in open(sys.argv[2]) if not l.startswith("data"))
hk, nm, ne = (bytes.fromhex(old[k]) for k in ("header", "name_mac", "name_enc"))
vid = bytes.fromhex([l.split()[2] for l in open(backing + "/.byokfs.volume") if l.startswith("id =")][0])
opened = 0
for root, dirs, fs in os.walk(backing):
    did = open(os.path.join(root, ".byokfs.dirid"), "rb").read()
    for e in dirs + fs:
        if e.startswith("."):
            continue
        try:
            oracle.name_decrypt(nm, ne, did, e); opened += 1; print("name opens:", e)
        except Exception:
            pass
    for f in fs:
        p = os.path.join(root, f)
        if f.startswith(".") or os.path.islink(p) or os.lstat(p).st_size < 104:
            continue
        try:
            oracle.header_unwrap(open(p, "rb").read(104), hk, vid); opened += 1; print("header opens:", p)
        except Exception:
            pass
sys.exit(1 if opened else 0)
PY

# --data: new data keys, same content, still sparse
"$BYOKFS" rekey --data "$CIPHER" > "$T/out" || fail "rekey --data: $(cat "$T/out")"
grep -q "files got new data keys" "$T/out" || fail "rekey --data summary: $(cat "$T/out")"
files=$(find "$CIPHER" -type f ! -name '.byokfs*' ! -name '*.name' | sort)
/usr/bin/python3 "$fmt/keys.py" --key "$KEY" "$CIPHER" $files > "$T/new"
common=$(comm -12 <(grep '^data' "$T/old" | sort -u) <(grep '^data' "$T/new" | sort -u) | wc -l)
# the hard-linked file keeps its data key (said in the output); no other does
[[ $common -eq 1 ]] || fail "$common data keys survived rekey --data (want only the hard-linked one)"
grep -q "hard-linked file keeps its data key" "$T/out" || fail "hard link not reported"
vol_mount
manifest > "$T/got"; diff "$T/want" "$T/got" || fail "content differs after rekey --data"
[[ $(du -k "$(backing_of "$PLAIN/sparse")" | cut -f1) -lt 1000 ]] || fail "sparse file became dense"
vol_umount

# killed at random moments: always readable, and a rerun finishes
interrupted=0 trial=0
while [[ $interrupted -lt 4 ]]; do
  trial=$((trial + 1))
  [[ $trial -le 30 ]] || fail "only $interrupted of 30 kills caught a rekey half-way"
  "$BYOKFS" rekey --data "$CIPHER" > /dev/null 2>&1 &
  pid=$!
  sleep "0.$((RANDOM % 6))$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if grep -q '^\[rekey\]' "$CIPHER/.byokfs.volume"; then
    interrupted=$((interrupted + 1))
    # FORMAT.md's [rekey] is enough to read a half-rekeyed volume too
    /usr/bin/python3 "$fmt/byokfs_read.py" --key "$KEY" "$CIPHER" > "$T/reader" ||
      fail "trial $trial: the second reader cannot read a half-rekeyed volume"
    [[ $(grep -c '^file' "$T/reader") -eq $(grep -c '^[0-9a-f]\{64\} ' "$T/want") ]] ||
      fail "trial $trial: the second reader sees another number of files"
  fi
  vol_mount
  manifest > "$T/got"; diff -q "$T/want" "$T/got" > /dev/null || fail "trial $trial: content differs after a killed rekey"
  vol_umount
done
note "$interrupted of $trial kills caught a rekey half-way"
"$BYOKFS" rekey "$CIPHER" > "$T/out" || fail "rekey after kills: $(cat "$T/out")"
grep -q '^\[rekey\]' "$CIPHER/.byokfs.volume" && fail "[rekey] left after the final run"
"$BYOKFS" fsck "$CIPHER" > /dev/null || fail "fsck after the kills"

# refused while mounted; refused, changing nothing, without every slot's key
vol_mount
expect_fail 1 "is mounted on this host" "$BYOKFS" rekey "$CIPHER"
vol_umount
cp "$CIPHER/.byokfs.volume" "$T/desc.before"
mv "$T/k2" "$T/k2.away"
out=$("$BYOKFS" rekey "$CIPHER" 2>&1) && fail "rekey without the second slot's key succeeded"
[[ $out == *"key slot 'second'"*"nothing changed"* ]] || fail "unclear refusal: $out"
cmp -s "$CIPHER/.byokfs.volume" "$T/desc.before" || fail "descriptor changed by a refused rekey"
