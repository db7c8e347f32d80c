/* SPDX-License-Identifier: MIT */
/*
 * Checking a volume without mounting it (byokfs fsck). No FUSE here: the
 * walk reads the backing tree directly and decrypts with the block layer
 * (fs/content.h) and the name layer (fs/names.h), as a mount would.
 *
 * What is checked: every directory id, every name (long-name side files
 * present and matching their hash; side files whose entry is gone), every
 * file header and every block (the reading rules of docs/FORMAT.md 3.2,
 * including the empty final block of an empty file, which a read never
 * touches), symlink targets, and the names and values of user extended
 * attributes. The descriptor was checked by vol_open()/vol_unlock().
 *
 * Repairs (opts.repair) lose nothing that still read: an orphaned
 * long-name side file is removed; a file whose final block is torn, cut,
 * missing or fails authentication ends at its last readable block, which
 * is re-encrypted as the final one (the block is written in place, then
 * the file is cut). Nothing that fails to decrypt is ever rewritten.
 *
 * Calling sequence:
 *   vol_open() -> vol_unlock() -> fsck_run() -> vol_close()
 * The volume must not be mounted while fsck_run repairs (the caller checks).
 */
#ifndef BYOKFS_FS_FSCK_H
#define BYOKFS_FS_FSCK_H

#include <stdint.h>

#include "fs/vol.h"

enum fsck_kind {
	FSCK_DAMAGED,   /* fails authentication, missing or cut: reads of it fail */
	FSCK_ORPHAN,    /* a leftover nothing refers to (long-name side file) */
	FSCK_REPAIRED,  /* opts.repair fixed the finding reported just before */
	FSCK_UNCHECKED, /* could not be checked (I/O error, permission) */
	FSCK_UNREPAIRED, /* opts.repair could not fix the finding reported before */
};

struct fsck_finding {
	enum fsck_kind kind;
	const char *path;  /* backing path relative to the backing root */
	const char *plain; /* plaintext path ("/a/b"), or NULL when a name on the way is unknown */
	int64_t block;     /* block number, or -1 */
	const char *what;  /* one line, no block number */
};

struct fsck_stats {
	uint64_t dirs, files, symlinks, others; /* entries checked (hard links once) */
	uint64_t blocks, bytes;                 /* stored blocks checked, backing bytes read */
	uint64_t damaged;                       /* FSCK_DAMAGED findings */
	uint64_t damaged_blocks;                /* of which name a block */
	uint64_t damaged_files;                 /* files, dirs, links with a damaged finding */
	uint64_t orphans;
	uint64_t repaired;                      /* findings repaired */
	uint64_t unchecked;
};

struct fsck_opts {
	int repair;
	/* every finding, in backing-name order within each directory */
	void (*report)(void *ctx, const struct fsck_finding *f);
	/*
	 * Optional, after each file: files_total and bytes_total come from a
	 * first pass over the tree (made only when progress is set).
	 */
	void (*progress)(void *ctx, const struct fsck_stats *st, uint64_t files_total,
			 uint64_t bytes_total);
	void *ctx;
};

/*
 * Walks the whole volume v (unlocked). Returns 0 when the walk ran (the
 * findings are in st and went to opts.report), or -errno when it could not
 * start (the backing root cannot be read).
 */
int fsck_run(struct vol *v, const struct fsck_opts *opts, struct fsck_stats *st);

#endif
