#!/usr/bin/env bash
# The command line: --help (and -h) of keygen, init, mount and version
# exit 0 with their usage on stdout and nothing on stderr; byokfs help and
# --help too; byokfs with no arguments and an unknown command exit 2 (the
# unknown command named on a "byokfs: " line); byokfs version prints one
# version line; bad options and argument counts exit 2; an unusable mount
# point exits 6 without mounting.
. "$(dirname "$0")/../lib.sh"
run() { # cmd... -> sets rc, out (stdout), err (stderr)
  rc=0
  out=$("$BYOKFS" "$@" 2>"$T/stderr") || rc=$?
  err=$(cat "$T/stderr")
}
for c in keygen init mount version; do
  for h in --help -h; do
    run "$c" "$h"
    [[ $rc -eq 0 ]] || fail "byokfs $c $h: exit $rc"
    [[ $out == "usage: byokfs $c"* ]] || fail "byokfs $c $h: stdout does not start with usage: $(head -n 2 <<<"$out")"
    [[ -z $err ]] || fail "byokfs $c $h: stderr not empty: $err"
  done
done
run init --help; [[ $out == *--cipher* && $out == *--block-size* && $out == *--longname-max* && $out == *--key* ]] || fail "init --help lacks options"
run mount --help; [[ $out == *allow_other* && $out == *entry_timeout* && $out == *attr_timeout* && $out == *threads* && $out == *-f* ]] || fail "mount --help lacks options"
for h in help --help; do
  run "$h"
  [[ $rc -eq 0 && $out == "usage: byokfs"* && $out == *keygen* && $out == *init* && $out == *mount* && -z $err ]] || fail "byokfs $h: exit $rc, out '$out', err '$err'"
done

run
[[ $rc -eq 2 ]] || fail "byokfs with no arguments: exit $rc"
[[ -z $out && $err == *usage* ]] || fail "byokfs with no arguments: usage belongs on stderr: out '$out' err '$err'"
run frobnicate
[[ $rc -eq 2 ]] || fail "unknown command: exit $rc"
[[ $(head -n 1 <<<"$err") == "byokfs: unknown command 'frobnicate'" && -z $out ]] || fail "unknown command: stderr '$err' stdout '$out'"

run version
[[ $rc -eq 0 && -z $err ]] || fail "version: exit $rc, stderr '$err'"
[[ $(wc -l <<<"$out") -eq 1 ]] || fail "version: not one line: $out"
[[ $out =~ ^byokfs\ [^[:space:]]+\ \(format\ 1\;\ libsodium\ [0-9.]+,\ libfuse\ [0-9]+\)$ ]] || fail "version line: $out"
run --version
[[ $rc -eq 0 && $out =~ ^byokfs\  ]] || fail "--version: exit $rc '$out'"
run version extra; [[ $rc -eq 2 ]] || fail "version extra: exit $rc"

# usage errors
byokfs keygen "$KEY" 2>/dev/null
mkdir -p "$PLAIN"
for args in "keygen" "keygen a b" "init" "init --key local:$KEY" "init --key local:$KEY --bogus $T/v" \
            "mount" "mount $T/only-one" "mount a b c" "mount --bogus $CIPHER $PLAIN" \
            "mount -o bogus_option $CIPHER $PLAIN" "mount -o threads=0 $CIPHER $PLAIN" \
            "mount -o entry_timeout=x $CIPHER $PLAIN"; do
  run $args
  [[ $rc -eq 2 ]] || fail "byokfs $args: exit $rc, want 2 ($err)"
  [[ -n $err ]] || fail "byokfs $args: nothing on stderr"
  ! mountpoint -q "$PLAIN" || fail "byokfs $args mounted something"
done
[[ ! -e $T/v ]] || fail "a refused init created its directory"

# unusable mount points: exit 6, one line, nothing mounted
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null
expect_fail 6 "$T/no-such-dir" byokfs mount "$CIPHER" "$T/no-such-dir"
echo x >"$T/a-file"
expect_fail 6 "not a directory" byokfs mount "$CIPHER" "$T/a-file"
! mountpoint -q "$PLAIN" || fail "mounted something"
