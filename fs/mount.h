/* SPDX-License-Identifier: MIT */
/*
 * Serving an unlocked volume over FUSE: the only entry point of fs/ for the
 * command line. Knows no key provider.
 */
#ifndef BYOKFS_FS_MOUNT_H
#define BYOKFS_FS_MOUNT_H

#include <stddef.h>

#include "fs/vol.h"
#include "kms/kms.h"

struct fs_options {
	int foreground;
	int debug;            /* libfuse request tracing; implies foreground */
	int allow_other;
	int read_only;
	double entry_timeout; /* seconds the kernel may cache a name */
	double attr_timeout;  /* seconds the kernel may cache attributes */
	unsigned max_threads; /* FUSE worker threads */
	double lease;         /* seconds the key may be used without the provider's word */
	unsigned readahead_kb; /* kernel readahead for the mount (root only), 0 = kernel's */
	size_t max_inodes;    /* inodes held before the least used are dropped; 0 = no bound */
	int crypto_threads;   /* helpers splitting large requests' crypto; -1 = CPUs - 1 */
	int no_xattr;         /* no extended attributes: every xattr request gets
			       * ENOSYS, after which the kernel stops asking */
};

/*
 * The key slot that unlocked the volume: the lease renews through it,
 * finding it by name in the descriptor at each renewal.
 */
struct fs_keeper {
	struct kms_key *key;
	const char *slot;
};

void fs_options_default(struct fs_options *o);

/*
 * Mounts v (unlocked) on mountpoint and serves requests until unmounted or
 * signalled. If *ready_fd >= 0 (a process waiting for us: the command
 * forked before unlocking), once mounted it detaches from the terminal
 * (stdio to /dev/null, logs to syslog), writes the int 0 to *ready_fd,
 * closes it and sets it to -1. Meanwhile it
 * renews the lease through keeper and serves the control socket. Returns 0
 * after a clean unmount; -errno with a one-line err (errlen bytes) when the
 * mount could not be made (nothing was mounted then).
 */
int fs_serve(struct vol *v, const char *mountpoint, const struct fs_options *o,
	     const struct fs_keeper *keeper, int *ready_fd, char *err, size_t errlen);

#endif
