/* SPDX-License-Identifier: MIT */
/*
 * FUSE_HANDLE_KILLPRIV_V2 for libfuse 3.14, which cannot negotiate it.
 *
 * Without it the kernel asks the filesystem for security.capability (a
 * GETXATTR round trip) before every write, to learn whether the write must
 * drop file capabilities: half of all requests of small writes and appends.
 * With it, the kernel leaves dropping set-user-ID and set-group-ID on
 * write, truncate, O_TRUNC and chown to the filesystem and flags the
 * requests where that is due. byokfs keeps no security.* attributes (no
 * file can carry capabilities), so dropping privileges means clearing the
 * two mode bits.
 *
 * killpriv_install() puts a thin layer between libfuse and /dev/fuse
 * (fuse_session_custom_io): it adds the flag to the INIT reply when the
 * kernel offered it, and clears the bits itself when a WRITE, SETATTR or
 * OPEN request carries the kernel's kill flag, before libfuse (which does
 * not pass those flags on) dispatches the request.
 */
#ifndef BYOKFS_FS_KILLPRIV_H
#define BYOKFS_FS_KILLPRIV_H

#include <fuse_lowlevel.h>
#include <stdint.h>

struct fsctx;

/* After fuse_session_mount(), before the loop. 0 or -errno (the mount then
 * works as before, with one GETXATTR per write). */
int killpriv_install(struct fuse_session *se, struct fsctx *c);

/* Whether the kernel accepted the flag (after INIT). */
int killpriv_active(void);

/*
 * Clears set-user-ID, and set-group-ID where group execute is set (the
 * FUSE protocol's rule; local filesystems since Linux 6.2 also clear a
 * g+s g-x file for writers outside its group), on the backing object of
 * nodeid. For requests without a kill flag that need it: fallocate by a
 * caller other than root.
 */
void killpriv_clear(uint64_t nodeid);

/*
 * Held around every change of a backing object's mode (chmod in setattr,
 * the clearing above), so that a clear's read-modify-write never undoes a
 * chmod that ran in between. Another host's chmod is not covered.
 */
void killpriv_mode_lock(void);
void killpriv_mode_unlock(void);

#endif
