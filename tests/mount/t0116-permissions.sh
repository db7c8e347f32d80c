#!/usr/bin/env bash
# Ownership and POSIX permissions (default_permissions, mounted by root with
# allow_other): files, directories, symlinks and FIFOs another user creates
# are owned by that user (and stay so after a remount); a set-group-ID
# directory gives its group to new entries; the creator's umask applies;
# that user cannot read a 0600 file of root's, write root's 0644 file,
# unlink in root's 0755 directory, delete root's file in a sticky 1777
# directory, chmod or chown root's files; can chmod their own.
. "$(dirname "$0")/../lib.sh"
need_nobody
byokfs keygen "$KEY" 2>/dev/null
byokfs init --key "local:$KEY" "$CIPHER" >/dev/null
MP=$(mktemp -d /tmp/byokfs-perms.XXXXXX); chmod 755 "$MP"; track_dir "$MP"
mount_at "$CIPHER" "$MP" -o allow_other
chmod 755 "$MP"
mkdir -m 1777 "$MP/pub"; mkdir -m 0755 "$MP/rootonly"
echo "root secret" >"$MP/pub/secret"; chmod 600 "$MP/pub/secret"
echo "root file" >"$MP/pub/rootfile"; chmod 644 "$MP/pub/rootfile"
echo x >"$MP/rootonly/f"

# creations by another user belong to that user
as_nobody sh -c "umask 022; echo mine >'$MP/pub/nobody-file'; mkdir '$MP/pub/nobody-dir'; ln -s target '$MP/pub/nobody-link'; mkfifo '$MP/pub/nobody-fifo'"
as_nobody sh -c "umask 077; echo private >'$MP/pub/nobody-umask'"
check_owners() { # when
  for n in nobody-file nobody-dir nobody-link nobody-fifo nobody-umask; do
    assert_eq "$(stat -c %u:%g "$MP/pub/$n")" "65534:65534" "$1: owner of $n"
  done
  assert_eq "$(stat -c %a "$MP/pub/nobody-umask")" "600" "$1: mode with umask 077"
  assert_eq "$(stat -c %a "$MP/pub/nobody-dir")" "755" "$1: dir mode with umask 022"
}
check_owners "fresh"
assert_eq "$(stat -c %a "$MP/pub/nobody-file")" "644" "mode with umask 022"
# refusals
expect_errno "Permission denied" as_nobody cat "$MP/pub/secret"
expect_errno "Permission denied" as_nobody sh -c "echo x >>'$MP/pub/rootfile'"
expect_errno "Permission denied" as_nobody rm -f "$MP/rootonly/f"
expect_errno "Permission denied" as_nobody touch "$MP/rootonly/new"
expect_errno "Operation not permitted" as_nobody rm -f "$MP/pub/rootfile"
expect_errno "Operation not permitted" as_nobody chmod 666 "$MP/pub/rootfile"
expect_errno "Operation not permitted" as_nobody chown 65534 "$MP/pub/rootfile"
expect_errno "Operation not permitted" as_nobody chown 0 "$MP/pub/nobody-file"
assert_eq "$(cat "$MP/pub/rootfile"):$(stat -c '%a %u' "$MP/pub/rootfile")" "root file:644 0" "root's file after refusals"
[[ -f $MP/rootonly/f && ! -e $MP/rootonly/new ]] || fail "root's directory changed"
# allowed: chmod of one's own file, reading a 0644 file
as_nobody chmod 640 "$MP/pub/nobody-file"
assert_eq "$(stat -c %a "$MP/pub/nobody-file")" "640" "chmod by the owner"
assert_eq "$(as_nobody cat "$MP/pub/rootfile")" "root file" "other user reads a 0644 file"
# a set-group-ID directory passes its group on
mkdir "$MP/sgid"; chgrp 4321 "$MP/sgid"; chmod 2775 "$MP/sgid"
echo g >"$MP/sgid/file"; mkdir "$MP/sgid/sub"
assert_eq "$(stat -c %g "$MP/sgid/file")" "4321" "group of a file in a setgid dir"
assert_eq "$(stat -c %g "$MP/sgid/sub")" "4321" "group of a dir in a setgid dir"
vol_umount "$MP"
mount_at "$CIPHER" "$MP" -o allow_other
check_owners "after remount"
assert_eq "$(stat -c %a "$MP/pub/nobody-file")" "640" "mode set by the owner, after remount"
assert_eq "$(stat -c %g "$MP/sgid/file")" "4321" "setgid group after remount"
