#!/usr/bin/env bash
# No key in the daemon's log at its most verbose, nor in what revoke,
# unlock and status print: a mount in the foreground with -v -v, then one
# with -d (libfuse's request trace too), each under a workload of successful
# and failing operations, a tampered block (an authentication failure is
# logged), revoke, a refused unlock (key file gone), unlock, status. Keys
# looked for: the master key, the volume key, every derived key and the data
# key of every file that existed, as raw bytes, hex or base64
# (keyscan.py); file contents and plaintext names are not logged either. The logs must show the
# verbose and debug lines, the authentication failure and the revocation,
# so the test cannot pass by logging nothing.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/hygiene.sh"
need_keytools
MARKER="HYGIENE-MARKER-$RANDOM$RANDOM"

mkdir -p "$PLAIN"
byokfs keygen "$KEY" 2>/dev/null
record byokfs init --key "local:$KEY" "$CIPHER"

round() { # log dir args...
  local log=$1 dir=$2; shift 2
  vol_mount_fg "$log" "$@"
  hyg_workload "$PLAIN/$dir"
  snap_headers
  # an authentication failure, logged with the backing file's name
  echo "$MARKER tamper" >"$PLAIN/$dir/tamper"
  fuse_settle "$PLAIN"
  flip_byte "$(backing_of "$PLAIN/$dir/tamper")" 110
  record cat "$PLAIN/$dir/tamper"
  exec 3<"$PLAIN/$dir/log.jsonl"
  record byokfs status "$PLAIN"
  record byokfs status --json "$PLAIN"
  record byokfs revoke "$PLAIN"
  record cat "$PLAIN/$dir/log.jsonl"
  record ls "$PLAIN/$dir"
  record cat <&3
  exec 3<&-
  # refused: the key file is gone
  mv "$KEY" "$KEY.away"
  record byokfs unlock "$PLAIN"
  mv "$KEY.away" "$KEY"
  record byokfs unlock "$PLAIN"
  record byokfs status --json "$PLAIN"
  cat "$PLAIN/$dir/log.jsonl" >/dev/null || fail "no read after unlock"
  snap_headers
  vol_umount_fg
}

round "$T/log.verbose" r1 -v -v
round "$T/log.debug" r2 -d

grep -q "mounted '" "$T/log.verbose" || fail "no info line in the -v -v log"
grep -qi "authentication failed" "$T/log.verbose" || fail "no authentication failure in the -v -v log"
grep -qi "revoke" "$T/log.verbose" || fail "no revocation in the -v -v log"
grep -q "opcode: " "$T/log.debug" || fail "no FUSE request trace in the -d log"
grep -q "EKEYREVOKED\|revoked\|(exit [1-9]" "$T/cmdout" || fail "no refused operation recorded"
[[ $(grep -c '^\$ ' "$T/cmdout") -ge 30 ]] || fail "too few commands recorded"
note "logs: $(wc -l <"$T/log.verbose") lines (-v -v), $(wc -l <"$T/log.debug") lines (-d)"

key_list "$T/keys"
note "$(grep -c '^data ' "$T/keys") data keys, $(wc -l <"$T/keys") keys in all"
[[ $(grep -c '^data ' "$T/keys") -ge 10 ]] || fail "too few data keys: $(cat "$T/keys")"
assert_no_keys "$T/keys" "the -v -v log" "$T/log.verbose"
assert_no_keys "$T/keys" "the -d log" "$T/log.debug"
assert_no_keys "$T/keys" "the output of init, revoke, unlock and status" "$T/cmdout"
if grep -l "$MARKER" "$T/log.verbose" "$T/log.debug"; then
  fail "file content in a log: $(grep -h "$MARKER" "$T/log.verbose" "$T/log.debug" | head -n 3)"
fi
# nor plaintext file names (logs name backing files by their encrypted names)
for n in log.jsonl tamper small moved nnnnnnnnnnnnnnnnnnnn; do
  ! grep -q "$n" "$T/log.verbose" "$T/log.debug" || fail "plaintext name '$n' in a log: $(grep -h "$n" "$T"/log.* | head -n 2)"
done
# positive control: the same scan finds a key in a copy of the log
cp "$T/log.debug" "$T/log.control"
grep '^data ' "$T/keys" | head -n 1 | cut -d' ' -f2 >>"$T/log.control"
assert_finds_keys "$T/keys" "a log with a data key in hex" "$T/log.control"
