#!/usr/bin/env bash
# Tampered names and metadata never show wrong plaintext: a backing entry
# whose encrypted name was altered, an entry moved into another backing
# directory (names are bound to their directory), a long name whose side
# file was altered or removed, a damaged or missing directory id, an
# altered symlink target, an altered xattr value or one moved to another
# attribute name. Altered names are not listed (only the intact names are)
# and logged; the intact entries still read; readlink/getxattr of altered
# data fail with "Input/output error"; a directory without its id fails
# with "Input/output error".
. "$(dirname "$0")/../lib.sh"
vol_setup --longname-max 64
L=$(printf 'long-name-%.0s' $(seq 6))   # 60 bytes: stored hashed
mkdir -p "$PLAIN/a" "$PLAIN/b" "$PLAIN/c"
for n in one two three "$L"; do echo "content $n" >"$PLAIN/a/$n"; done
echo "in b" >"$PLAIN/b/bfile"; echo "in c" >"$PLAIN/c/cfile"
ln -s "some/target/path" "$PLAIN/c/link"
setfattr -n user.alpha -v "value alpha" "$PLAIN/c/cfile"; setfattr -n user.beta -v "value beta" "$PLAIN/c/cfile"
ba=$(backing_of "$PLAIN/a"); bb=$(backing_of "$PLAIN/b"); bc=$(backing_of "$PLAIN/c")
btwo=$(backing_of "$PLAIN/a/two"); bthree=$(backing_of "$PLAIN/a/three"); blong=$(backing_of "$PLAIN/a/$L")
blink=$(backing_of "$PLAIN/c/link"); bcfile=$(backing_of "$PLAIN/c/cfile")
[[ $(basename "$blong") == .L* ]] || fail "the long name is not stored hashed"
vol_umount
cp -a "$CIPHER" "$T/pristine"
restore() { rm -rf "$CIPHER"; cp -a "$T/pristine" "$CIPHER"; }
errors=()
listing_is() { # what dir expected...
  local what=$1 dir=$2; shift 2
  local got want
  got=$(ls -A "$dir" 2>&1 | LC_ALL=C sort | tr '\n' '|') || true
  want=
  [[ $# -eq 0 ]] || want=$(printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' '|')
  [[ $got == "$want" ]] || errors+=("$what: listing '$got', want '$want'")
}
eio() { # what command...
  local what=$1 rc=0 out; shift
  out=$("$@" 2>&1 >/dev/null) || rc=$?
  [[ $rc -ne 0 && $out == *"Input/output error"* ]] || errors+=("$what: exit $rc '$out', want Input/output error")
}

# 1: an altered encrypted name
n=$(basename "$btwo"); c=${n:5:1}; [[ $c == A ]] && r=B || r=A
mv "$btwo" "$(dirname "$btwo")/${n:0:5}${r}${n:6}"
vol_mount_fg "$T/log1"
listing_is "altered name" "$PLAIN/a" one three "$L"
[[ $(cat "$PLAIN/a/one") == "content one" ]] || errors+=("altered name: a/one does not read")
[[ ! -e $PLAIN/a/two ]] || errors+=("altered name: a/two still found")
vol_umount_fg
grep -q . "$T/log1" || errors+=("altered name: nothing logged")
restore

# 2: an entry moved to another directory
mv "$bthree" "$bb/"
vol_mount
listing_is "entry moved to b" "$PLAIN/b" bfile
listing_is "entry moved away from a" "$PLAIN/a" one two "$L"
vol_umount; restore

# 3: a long name's side file altered, then removed
printf 'X' | dd of="$blong.name" bs=1 seek=3 conv=notrunc status=none
vol_mount
listing_is "altered side file" "$PLAIN/a" one two three
vol_umount; restore
rm "$blong.name"
vol_mount
listing_is "removed side file" "$PLAIN/a" one two three
[[ $(cat "$PLAIN/a/one") == "content one" ]] || errors+=("removed side file: a/one does not read")
vol_umount; restore

# 4: a damaged directory id, then a missing one
chmod u+w "$ba/.byokfs.dirid"; flip_byte "$ba/.byokfs.dirid" 7
vol_mount
listing_is "damaged dir id" "$PLAIN/a"
for n in one two three; do [[ ! -e $PLAIN/a/$n ]] || errors+=("damaged dir id: a/$n still found"); done
listing_is "damaged dir id, other dir" "$PLAIN/b" bfile
vol_umount; restore
rm -f "$ba/.byokfs.dirid"
vol_mount
eio "missing dir id: ls" ls "$PLAIN/a"
[[ $(cat "$PLAIN/b/bfile") == "in b" ]] || errors+=("missing dir id: b/bfile does not read")
vol_umount; restore

# 5: an altered symlink target
t=$(readlink "$blink"); c=${t:10:1}; [[ $c == A ]] && r=B || r=A
rm "$blink"; ln -s -- "${t:0:10}${r}${t:11}" "$blink"
vol_mount
eio "altered symlink target" readlink -v "$PLAIN/c/link"
eio "altered symlink target (followed)" cat "$PLAIN/c/link"
[[ $(cat "$PLAIN/c/cfile") == "in c" ]] || errors+=("altered symlink: c/cfile does not read")
vol_umount; restore

# 6: xattrs: a value altered, a value moved to the other attribute
mapfile -t attrs < <(getfattr -d -m '^user\.b\.' --absolute-names -e hex "$bcfile" | sed -n 's/^\(user\.b\.[^=]*\)=0x.*/\1/p')
[[ ${#attrs[@]} -eq 2 ]] || fail "expected 2 backing xattrs, got ${#attrs[@]}"
v0=$(getfattr -n "${attrs[0]}" -e hex --absolute-names "$bcfile" | sed -n 's/^[^=]*=//p')
v1=$(getfattr -n "${attrs[1]}" -e hex --absolute-names "$bcfile" | sed -n 's/^[^=]*=//p')
last=${v0: -2}; [[ $last == 00 ]] && nl=01 || nl=00
setfattr -n "${attrs[0]}" -v "${v0:0:${#v0}-2}$nl" "$bcfile"
vol_mount
bad=0; for a in alpha beta; do getfattr -n "user.$a" "$PLAIN/c/cfile" >/dev/null 2>&1 || bad=$((bad + 1)); done
[[ $bad -eq 1 ]] || errors+=("altered xattr value: $bad of 2 attributes unreadable, want 1")
vol_umount; restore
setfattr -n "${attrs[0]}" -v "$v1" "$bcfile"; setfattr -n "${attrs[1]}" -v "$v0" "$bcfile"
vol_mount
eio "xattr values swapped: alpha" getfattr -n user.alpha "$PLAIN/c/cfile"
eio "xattr values swapped: beta" getfattr -n user.beta "$PLAIN/c/cfile"
vol_umount; restore

if [[ ${#errors[@]} -gt 0 ]]; then
  printf '%s\n' "${errors[@]}" >&2
  fail "${#errors[@]} checks failed (listed above)"
fi
vol_mount
listing_is "restored" "$PLAIN/a" one two three "$L"
[[ ${#errors[@]} -eq 0 ]] || fail "${errors[*]}"
assert_eq "$(readlink "$PLAIN/c/link")" "some/target/path" "restored symlink"
assert_eq "$(getfattr --only-values -n user.alpha "$PLAIN/c/cfile")" "value alpha" "restored xattr"
