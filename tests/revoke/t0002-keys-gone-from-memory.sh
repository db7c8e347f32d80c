# After byokfs revoke, the mount process's memory (every readable mapping,
# read through /proc/PID/mem) and a core file taken with gcore contain
# neither the volume key, nor a key derived from it, nor the data key of a
# file held open. Before the revoke the same scan finds them: the scan works.
# Runs the release build: gcore of an ASan process tries to dump its
# terabytes of reserved shadow memory and never finishes.
. "$(dirname "$0")/../lib.sh"
BYOKFS=$BYOKFS_TOP/build/byokfs
[[ -x $BYOKFS ]] || fail "missing $BYOKFS (make)"
command -v gcore >/dev/null || skip "gcore (package gdb) is not installed"
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || skip "python3-cryptography (Debian) is not installed"
keys=$BYOKFS_TOP/tests/format/keys.py
scan=$BYOKFS_TOP/tests/tools/memscan.py
vol_setup
echo "secret one" > "$PLAIN/a"
head -c 100000 /dev/urandom > "$PLAIN/b"
exec 3<"$PLAIN/a" 4<"$PLAIN/b"                # open: their data keys are in memory
cat <&3 >/dev/null; cat <&4 >/dev/null
pid=$(pgrep -f "byokfs mount .*$CIPHER" | head -n 1)
[[ -n $pid ]] || fail "no daemon"
/usr/bin/python3 "$keys" --key "$KEY" "$CIPHER" "$(backing_of "$PLAIN/a")" "$(backing_of "$PLAIN/b")" > "$T/keys"
[[ $(grep -c '^data ' "$T/keys") -eq 2 ]] || fail "keys.py: $(cat "$T/keys")"

before=$(/usr/bin/python3 "$scan" --pid "$pid" < "$T/keys") || fail "positive control: no key found in the live process before revoke"
note "before revoke: $(echo $before)"
echo "$before" | grep -q "found volume" || fail "volume key not found before revoke: $before"
echo "$before" | grep -q "found data" || fail "data keys not found before revoke: $before"

"$BYOKFS" revoke "$PLAIN"
if after=$(/usr/bin/python3 "$scan" --pid "$pid" < "$T/keys"); then
  fail "keys in process memory after revoke: $(echo $after)"
fi
# not with our descriptors 3 and 4: gdb stops the daemon, and a child of
# gdb closing them would wait on it forever
timeout 120 gcore -o "$T/core" "$pid" >/dev/null 2>&1 3<&- 4<&- || fail "gcore failed"
core=$(ls "$T"/core.* | head -n 1)
[[ -s $core ]] || fail "empty core"
if after=$(/usr/bin/python3 "$scan" --file "$core" < "$T/keys"); then
  fail "keys in the core file after revoke: $(echo $after)"
fi
rm -f "$core"
exec 3<&- 4<&-
# no core files: RLIMIT_CORE is 0 in the mount process
grep -Eq '^Max core file size +0 +0 ' /proc/$pid/limits || fail "core size limit: $(grep core /proc/$pid/limits)"
