/* SPDX-License-Identifier: MIT */
/*
 * Where a mount's control socket lives. Both the daemon and the byokfs
 * command derive it from the mount point, canonicalised without touching
 * the mounted filesystem (realpath of the parent + the last component), so
 * `byokfs revoke` works even when the mount does not answer.
 *
 * Directory: $BYOKFS_RUN_DIR if set, else /run/byokfs for root, else
 * $XDG_RUNTIME_DIR/byokfs, else /tmp/byokfs-UID. Socket name: the first 16
 * bytes of BLAKE2b(mount point) in hex + ".sock".
 */
#ifndef BYOKFS_FS_CTLPATH_H
#define BYOKFS_FS_CTLPATH_H

#include <limits.h>
#include <stddef.h>

/* Canonical form of a mount point path. 0 or -errno. */
int ctl_canonical(const char *mountpoint, char out[PATH_MAX]);

/* The directory this process would create its sockets in. */
void ctl_own_dir(char out[PATH_MAX]);

/* The socket file name (no directory) for a canonical mount point. */
void ctl_sock_name(const char *canonical, char out[64]);

/*
 * Finds an existing socket for a canonical mount point in the directories
 * any user's mount could use. 0 and out set, or -ENOENT.
 */
int ctl_find(const char *canonical, char out[PATH_MAX]);

/* 1 if a byokfs filesystem is mounted at the canonical path now, else 0. */
int ctl_is_mounted(const char *canonical);
/* The same, and its device as "major:minor" (from mountinfo, no lookup). */
int ctl_mount_dev(const char *canonical, char dev[32]);

#endif
