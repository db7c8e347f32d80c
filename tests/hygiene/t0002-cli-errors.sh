#!/usr/bin/env bash
# No key in what the command line prints when it fails: every failure of
# every subcommand we can provoke (usage errors, unknown options, missing,
# loose, wrong-size and wrong keys, a descriptor that fails authentication
# after the volume key was unwrapped, corrupt volumes, busy and missing
# mount points, control commands on a non-mount, fsck of a damaged volume,
# rotate and keyslot refusals), plus --help of each. Each must exit non-zero
# (or 0 for --help) with output; the outputs are scanned for the master keys,
# the volume key, the derived keys and the data keys (keyscan.py).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/hygiene.sh"
need_keytools

OTHER=$T/other.key
byokfs keygen "$KEY" 2>/dev/null
byokfs keygen "$OTHER" 2>/dev/null
vol_setup
echo "secret" >"$PLAIN/f"
head -c 50000 /dev/urandom >"$PLAIN/g"
fuse_settle "$PLAIN"
snap_headers
vol_umount

fails=0
# Runs a command that must fail (exit != 0) and records its output.
must_fail() {
  local rc=0 out
  out=$("$@" 2>&1 </dev/null) || rc=$?
  printf '$ %s\n%s\n(exit %s)\n' "$*" "$out" "$rc" >>"$T/cmdout"
  [[ $rc -ne 0 ]] || fail "expected '$*' to fail; it printed: $out"
  [[ -n $out ]] || fail "'$*' failed without a message"
  fails=$((fails + 1))
}

# usage errors, for every command the binary lists
mapfile -t cmds < <(byokfs help 2>&1 | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1}')
[[ ${#cmds[@]} -ge 6 ]] || fail "byokfs help lists too few commands: ${cmds[*]}"
for c in "${cmds[@]}"; do
  record byokfs "$c" --help
  [[ $c == help || $c == version ]] && continue
  must_fail byokfs "$c" --no-such-option
  [[ $c == keygen || $c == init || $c == mount || $c == revoke || $c == unlock ||
     $c == status || $c == keyslot || $c == rotate || $c == fsck ]] && must_fail byokfs "$c"
done
must_fail byokfs no-such-command
must_fail byokfs mount -o no_such_option "$CIPHER" "$PLAIN"
must_fail byokfs mount -o lease=0 "$CIPHER" "$PLAIN"

# keygen and init
must_fail byokfs keygen "$KEY"
must_fail byokfs keygen /proc/no/such/dir/key
must_fail byokfs init --key "local:$KEY" "$CIPHER"
must_fail byokfs init --key "local:$T/missing.key" "$T/newvol"
must_fail byokfs init --key "no-such-provider:x" "$T/newvol"
must_fail byokfs init --key "local:$KEY" --cipher rot13 "$T/newvol"
must_fail byokfs init --key "local:$KEY" --block-size 1000 "$T/newvol"

# mount: keys that do not open the volume
must_fail byokfs mount --key "local:$OTHER" "$CIPHER" "$PLAIN"
must_fail byokfs mount --key "local:$T/missing.key" "$CIPHER" "$PLAIN"
chmod 644 "$KEY"
must_fail byokfs mount "$CIPHER" "$PLAIN"
chmod 600 "$KEY"
head -c 31 "$KEY" >"$T/short.key"; chmod 600 "$T/short.key"
must_fail byokfs mount --key "local:$T/short.key" "$CIPHER" "$PLAIN"
ln -s "$KEY" "$T/link.key"
must_fail byokfs mount --key "local:$T/link.key" "$CIPHER" "$PLAIN"
# mount: volumes and mount points that are wrong
mkdir -p "$T/empty"
must_fail byokfs mount "$T/empty" "$PLAIN"
must_fail byokfs mount "$CIPHER" "$T/no/such/dir"
must_fail byokfs mount "$CIPHER" "$KEY"
cp "$CIPHER/.byokfs.volume" "$T/desc.good"
# the MAC fails after the volume key was unwrapped: the key was in memory
sed -i 's/^created = .*/created = 1999-01-01T00:00:00Z/' "$CIPHER/.byokfs.volume"
must_fail byokfs mount "$CIPHER" "$PLAIN"
must_fail byokfs fsck "$CIPHER"
must_fail byokfs keyslot add "$CIPHER" --key "local:$OTHER"
must_fail byokfs rotate "$CIPHER" --key "local:$OTHER"
printf '[volume]\nformat = 1\n' >"$CIPHER/.byokfs.volume"
must_fail byokfs mount "$CIPHER" "$PLAIN"
cp "$T/desc.good" "$CIPHER/.byokfs.volume"
# a wrapped key that does not unwrap (damaged slot)
sed -i 's/^wrapped_key = ..../wrapped_key = AAAA/' "$CIPHER/.byokfs.volume"
must_fail byokfs mount "$CIPHER" "$PLAIN"
cp "$T/desc.good" "$CIPHER/.byokfs.volume"

# rotate and keyslot refusals with the wrong key
must_fail byokfs rotate "$CIPHER" --key "local:$OTHER" --with "local:$OTHER"
must_fail byokfs keyslot add "$CIPHER" --key "local:$OTHER" --with "local:$OTHER"
must_fail byokfs keyslot remove "$CIPHER" primary
must_fail byokfs keyslot remove "$CIPHER" no-such-slot
must_fail byokfs fsck --key "local:$OTHER" "$CIPHER"

# control commands where there is no mount, and a busy mount point
must_fail byokfs revoke "$T"
must_fail byokfs unlock "$T"
must_fail byokfs status "$T/no/such"
vol_mount
must_fail byokfs mount "$CIPHER" "$PLAIN"
byokfs revoke "$PLAIN" >/dev/null
mv "$KEY" "$KEY.away"
must_fail byokfs unlock "$PLAIN"
mv "$KEY.away" "$KEY"
record byokfs unlock "$PLAIN"
record byokfs status --json "$PLAIN"
vol_umount

# fsck of a damaged volume names the damage
flip_byte "$(find "$CIPHER" -type f -size +40k ! -name '.byokfs*' | head -n 1)" 300
must_fail byokfs fsck "$CIPHER"
grep -q "damaged" "$T/cmdout" || fail "fsck reported no damage: $(tail -n 5 "$T/cmdout")"

note "$fails failures provoked"
[[ $fails -ge 40 ]] || fail "only $fails failures provoked"
key_list "$T/keys" "$OTHER"
assert_no_keys "$T/keys" "command output" "$T/cmdout"
# positive control
{ cat "$T/cmdout"; base64 -w0 "$OTHER"; echo; } >"$T/cmdout.control"
assert_finds_keys "$T/keys" "output with a base64 master key" "$T/cmdout.control"
