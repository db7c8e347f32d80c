#!/usr/bin/env bash
# A corrupt or tampered volume descriptor is refused with exit 3 and one
# "byokfs: " line saying "corrupt" or "failed authentication", and nothing
# is mounted: garbage, NUL bytes, an empty file, truncations (inside
# [volume], inside the mac, before the last wrapped_key line), a changed
# character in the mac, changed values (format, cipher, block_size,
# longname_max, key_epoch, created, names; the slot's provider and key_id).
# The intact descriptor still mounts with the data intact.
# (A changed volume id or wrapped key makes the key unwrap fail, which the
# local provider cannot tell from a wrong key: not checked here.)
. "$(dirname "$0")/../lib.sh"
vol_setup
echo "data" >"$PLAIN/f"
vol_umount
D=$CIPHER/.byokfs.volume
cp "$D" "$T/orig"

errors=()
try() { # what [--key]: mount with the current descriptor, expect exit 3
  local what=$1 rc=0 out; shift
  out=$("$BYOKFS" mount "$@" "$CIPHER" "$PLAIN" 2>&1) || rc=$?
  if mountpoint -q "$PLAIN"; then fusermount3 -u "$PLAIN"; fail "$what: mounted"; fi
  cp "$T/orig" "$D"
  # every case is tried; the failures are reported together at the end
  if [[ $rc -ne 3 ]]; then
    errors+=("$what: expected exit 3, got $rc: $out")
  elif [[ $out != "byokfs: "* || $(wc -l <<<"$out") -ne 1 ]]; then
    errors+=("$what: not one 'byokfs: ' line: $out")
  elif [[ $out != *corrupt* && $out != *"failed authentication"* ]]; then
    errors+=("$what: message says neither 'corrupt' nor 'failed authentication': $out")
  fi
  return 0
}
edit() { # sed-expression
  sed "$1" "$T/orig" >"$D"
  ! cmp -s "$T/orig" "$D" || fail "edit '$1' changed nothing"
}

head -c 600 /dev/urandom >"$D"; try "random garbage"
printf 'hello world\n' >"$D"; try "a text file"
: >"$D"; try "an empty descriptor"
{ head -c 100 "$T/orig"; printf '\0'; tail -c +101 "$T/orig"; } >"$D"; try "a NUL byte"
printf '[volume]\nformat = 1\n' >"$D"; try "only one field"
n=$(wc -c <"$T/orig")
head -c 10 "$T/orig" >"$D"; try "truncated to 10 bytes"
head -c $((n / 2)) "$T/orig" >"$D"; try "truncated to half"
mac_at=$(grep -b '^mac = ' "$T/orig" | cut -d: -f1)
head -c $((mac_at + 20)) "$T/orig" >"$D"; try "truncated inside the mac"
head -c "$mac_at" "$T/orig" >"$D"; try "truncated before the mac"
last=$(tail -n 1 "$T/orig" | wc -c)
[[ $(tail -n 1 "$T/orig") == "  "* ]] || fail "the descriptor's last line is not a wrapped_key continuation"
head -c $((n - last)) "$T/orig" >"$D"; try "truncated before the last wrapped_key line"
head -c $((n - last)) "$T/orig" >"$D"; try "truncated before the last wrapped_key line (--key)" --key "local:$KEY"

# one changed character in the mac (a middle character: changes its bytes)
mac=$(sed -n 's/^mac = //p' "$T/orig")
c=${mac:10:1}; [[ $c == A ]] && r=B || r=A
edit "s|^mac = ${mac:0:10}${c}|mac = ${mac:0:10}${r}|"; try "a changed mac character"
edit "s|^mac = .*|mac = ${mac:0:20}|"; try "a short mac"
# changed values
edit 's/^format = 1$/format = 2/'; try "format"
edit 's/^cipher = aes-256-gcm$/cipher = xchacha20-poly1305/'; try "cipher (downgrade attempt)"
edit 's/^block_size = 4096$/block_size = 8192/'; try "block_size"
edit 's/^block_size = 4096$/block_size = 4097/'; try "block_size not a power of 2"
edit 's/^longname_max = 255$/longname_max = 254/'; try "longname_max"
edit 's/^key_epoch = 0$/key_epoch = 1/'; try "key_epoch"
edit 's/^created = 2/created = 3/'; try "created"
edit 's/^names = s/names = t/'; try "names"
edit 's/^provider = local$/provider = locam/'; try "the slot's provider"
edit 's|^key_id = /|key_id = //|'; try "the slot's key_id (--key)" --key "local:$KEY"
edit 's/^\[volume\]$/[volume2]/'; try "the section name"
edit '$a extra = 1'; try "an unknown field"

if [[ ${#errors[@]} -gt 0 ]]; then
  printf '%s\n' "${errors[@]}" >&2
  fail "${#errors[@]} damaged descriptors not refused as corrupt (listed above)"
fi
cmp "$T/orig" "$D" || fail "descriptor not restored"
vol_mount
assert_eq "$(cat "$PLAIN/f")" "data" "data with the intact descriptor"
