#!/usr/bin/env bash
# byokfs fsck finds damage and says where, one line each (backing path,
# block, what, plaintext path), exit 10, changing nothing: a flipped byte
# in block 2; blocks 1 and 3 swapped; a file cut at a block boundary
# (block 1 no longer final); a torn final block; a failing final block of
# an empty file (no read ever checks it); a damaged header (tag) and a
# header with a bad magic; a long-name side file missing and one that
# does not match its hash; a damaged name; a damaged symlink target; a
# damaged xattr value and name; a missing directory id (the file below it
# is still checked: its damage is found, without a plaintext path); an
# orphaned long-name side file. The summary counts them; untouched files
# give no line.
. "$(dirname "$0")/../lib.sh"
mkdir -p "$PLAIN"
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" --longname-max 64 "$CIPHER" >/dev/null
vol_mount
ovh=28; [[ $(sed -n 's/^cipher = //p' "$CIPHER/.byokfs.volume") == aes-256-gcm ]] || ovh=40
slot=$((4096 + ovh))
for f in flip swap cut torn hdr magic good; do head -c 20000 /dev/urandom >"$PLAIN/$f"; done
: >"$PLAIN/empty"
long1=$(printf 'a%.0s' $(seq 100)); long2=$(printf 'b%.0s' $(seq 100))
echo one >"$PLAIN/$long1"; echo two >"$PLAIN/$long2"
echo x >"$PLAIN/badname"; echo y >"$PLAIN/xv"; echo z >"$PLAIN/xn"
setfattr -n user.k -v value "$PLAIN/xv"; setfattr -n user.k -v value "$PLAIN/xn"
ln -s target "$PLAIN/lnk"
mkdir -p "$PLAIN/d/sub"; head -c 9000 /dev/urandom >"$PLAIN/d/sub/inner"
declare -A B
for f in flip swap cut torn hdr magic good empty badname xv xn lnk d d/sub d/sub/inner; do
  B[$f]=$(backing_of "$PLAIN/$f"); B[$f]=${B[$f]#$CIPHER/}
done
B[long1]=$(backing_of "$PLAIN/$long1"); B[long1]=${B[long1]#$CIPHER/}
B[long2]=$(backing_of "$PLAIN/$long2"); B[long2]=${B[long2]#$CIPHER/}
vol_umount
C=$CIPHER
flip_byte "$C/${B[flip]}" $(( $(blk_pos 2 4096 $ovh) + 100 ))
python3 - "$C/${B[swap]}" "$(blk_pos 1 4096 $ovh)" "$(blk_pos 3 4096 $ovh)" "$slot" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR); a, b, n = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
x, y = os.pread(fd, n, a), os.pread(fd, n, b); os.pwrite(fd, y, a); os.pwrite(fd, x, b); os.close(fd)
PY
truncate -s $((104 + 2 * slot)) "$C/${B[cut]}"
truncate -s $((104 + 4 * slot + 10)) "$C/${B[torn]}"
flip_byte "$C/${B[empty]}" 110
flip_byte "$C/${B[hdr]}" 90
flip_byte "$C/${B[magic]}" 0
rm "$C/${B[long1]}.name"
printf 'AAAA' >>"$C/${B[long2]}.name"
bad=${B[badname]}; badnew=${bad:0:5}$([[ ${bad:5:1} == A ]] && echo B || echo A)${bad:6}
mv "$C/$bad" "$C/$badnew"
t=$(readlink "$C/${B[lnk]}"); rm "$C/${B[lnk]}"
ln -s -- "${t:0:10}$([[ ${t:10:1} == A ]] && echo B || echo A)${t:11}" "$C/${B[lnk]}"
python3 - "$C/${B[xv]}" "$C/${B[xn]}" <<'PY'
import os, sys
xv, xn = sys.argv[1], sys.argv[2]
a = [n for n in os.listxattr(xv) if n.startswith("user.b.")][0]
v = bytearray(os.getxattr(xv, a)); v[30] ^= 1; os.setxattr(xv, a, bytes(v))
b = [n for n in os.listxattr(xn) if n.startswith("user.b.")][0]
v = os.getxattr(xn, b); os.removexattr(xn, b); os.setxattr(xn, "user.b." + "A" * 43, v)
PY
rm -f "$C/${B[d]}/.byokfs.dirid"
flip_byte "$C/${B[d/sub/inner]}" $(( $(blk_pos 1 4096 $ovh) + 7 ))
orphan=.L$(printf 'Q%.0s' $(seq 43)).name; echo junk >"$C/${B[d]}/$orphan"

expected=$(cat <<EOT
damaged ${B[flip]}: block 2: fails authentication (/flip)
damaged ${B[swap]}: block 1: fails authentication (/swap)
damaged ${B[swap]}: block 3: fails authentication (/swap)
damaged ${B[cut]}: block 1: not marked final: the blocks after it are missing (cut at a block boundary) (/cut)
damaged ${B[torn]}: block 4: torn final block (10 bytes, less than nonce and tag) (/torn)
damaged ${B[empty]}: block 0: final block fails authentication (/empty)
damaged ${B[hdr]}: header: fails authentication (/hdr)
damaged ${B[magic]}: header: not a byokfs file header (/magic)
damaged ${B[long1]}: long name: side file ${B[long1]}.name is missing
damaged ${B[long2]}: long name: side file ${B[long2]}.name does not match its hash
damaged $badnew: name fails authentication
damaged ${B[lnk]}: symlink target fails authentication (/lnk)
damaged ${B[xv]}: extended attribute 'user.k': value fails authentication (/xv)
damaged ${B[xn]}: extended attribute name fails authentication (/xn)
damaged ${B[d]}/.byokfs.dirid: directory id missing or damaged: no name in this directory can be decrypted (/d)
damaged ${B[d/sub/inner]}: block 1: fails authentication
orphan ${B[d]}/$orphan: long-name side file without its entry
EOT
)
snap() { (cd "$CIPHER" && find . -printf '%p %i %s %T@ %m\n' | LC_ALL=C sort
         find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2); }
snap >"$T/before"
rc=0; "$BYOKFS" fsck "$CIPHER" >"$T/out" 2>"$T/err" || rc=$?
assert_eq "$rc" 10 "fsck exit ($(cat "$T/err"))"
[[ ! -s $T/err ]] || fail "stderr: $(cat "$T/err")"
diff <(sed '1d;$d' "$T/out" | LC_ALL=C sort) <(LC_ALL=C sort <<<"$expected") || fail "findings differ (above)"
assert_eq "$(tail -n 1 "$T/out")" \
  "damaged: 17 problems in 15 files; checked 3 directories, 14 files (30 blocks), 1 symlink, 0 others" "summary"
snap >"$T/after"
diff "$T/before" "$T/after" || fail "fsck changed the backing store"
