#!/usr/bin/env bash
# -o noxattr: no extended attributes. Every xattr request is answered
# ENOSYS once, after which the kernel stops asking: no GETXATTR for
# security.capability before a new file's first write, none for ls -l's
# security.selinux and POSIX ACL lookups. user.* attributes stored by an
# earlier mount are kept (hidden) and readable again without the option.
. "$(dirname "$0")/../lib.sh"
command -v setfattr >/dev/null || skip "attr (setfattr/getfattr) not installed"
vol_setup
echo data > "$PLAIN/kept"
setfattr -n user.note -v hello "$PLAIN/kept" || fail "setfattr on the default mount"
fuse_settle "$PLAIN"
fusermount3 -u "$PLAIN" || fail "unmount"

# the daemon's request trace (-d) shows which requests reach it
"$BYOKFS" mount -d -o noxattr "$CIPHER" "$PLAIN" 2>"$T/trace" &
_fg_pid=$!
wait_mounted "$PLAIN" "$_fg_pid" || fail "not mounted: $(tail -n 5 "$T/trace")"
[[ $(cat "$PLAIN/kept") == data ]] || fail "content under noxattr"
out=$(getfattr -n user.note "$PLAIN/kept" 2>&1) && fail "getfattr succeeded under noxattr: $out"
[[ $out == *"Operation not supported"* ]] || fail "getfattr: unclear error: $out"
out=$(setfattr -n user.other -v x "$PLAIN/kept" 2>&1) && fail "setfattr succeeded under noxattr: $out"
[[ $out == *"Operation not supported"* ]] || fail "setfattr: unclear error: $out"
mkdir "$PLAIN/d"
for i in $(seq 50); do echo "file $i" > "$PLAIN/d/f$i"; done
ls -l "$PLAIN/d" >/dev/null || fail "ls -l"
ls -l "$PLAIN/d" >/dev/null || fail "ls -l, warm"
for i in $(seq 50); do [[ $(cat "$PLAIN/d/f$i") == "file $i" ]] || fail "f$i"; done
fuse_settle "$PLAIN"
n=$(grep -ac "opcode: GETXATTR" "$T/trace" || true)
# one at most: the first, answered ENOSYS (getfattr above asked already)
[[ $n -le 1 ]] || fail "$n GETXATTR requests reached the daemon under noxattr, want at most 1"
fusermount3 -u "$PLAIN" || fail "unmount"
wait "$_fg_pid" 2>/dev/null || true

# without the option, the attribute stored before is there again
vol_mount
[[ $(getfattr --only-values -n user.note "$PLAIN/kept" 2>/dev/null) == hello ]] \
  || fail "user.note lost after a noxattr mount"
getfattr -n user.other "$PLAIN/kept" >/dev/null 2>&1 && fail "user.other was stored under noxattr"
exit 0
