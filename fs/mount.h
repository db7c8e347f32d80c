/* SPDX-License-Identifier: MIT */
/*
 * Serving an unlocked volume over FUSE: the only entry point of fs/ for the
 * command line. Knows no key provider.
 */
#ifndef BYOKFS_FS_MOUNT_H
#define BYOKFS_FS_MOUNT_H

#include <stddef.h>

#include "fs/vol.h"

struct fs_options {
	int foreground;
	int debug;            /* libfuse request tracing; implies foreground */
	int allow_other;
	int read_only;
	double entry_timeout; /* seconds the kernel may cache a name */
	double attr_timeout;  /* seconds the kernel may cache attributes */
	unsigned max_threads; /* FUSE worker threads */
};

void fs_options_default(struct fs_options *o);

/*
 * Mounts v (unlocked) on mountpoint, detaches from the terminal unless
 * foreground, and serves requests until unmounted or signalled. Returns 0
 * after a clean unmount; -errno with a one-line err (errlen bytes) when the
 * mount could not be made (nothing was mounted then).
 */
int fs_serve(struct vol *v, const char *mountpoint, const struct fs_options *o, char *err,
	     size_t errlen);

#endif
