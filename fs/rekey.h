/* SPDX-License-Identifier: MIT */
/*
 * The walk of byokfs rekey: moves every name, file header, symlink target
 * and extended attribute of a volume from the previous volume key (v must
 * be unlocked with v->has_old: the descriptor's [rekey] section) to the
 * current one; optionally gives every file a new data key. No FUSE.
 *
 * Every step is atomic on its own (a rename, a 104-byte header write, a
 * symlink replaced by rename, an attribute set before its old copy goes)
 * and is skipped when already done, so a walk killed at any point leaves a
 * volume that mounts and reads every file, and running it again finishes.
 */
#ifndef BYOKFS_FS_REKEY_H
#define BYOKFS_FS_REKEY_H

#include <stdint.h>

#include "fs/vol.h"

struct rekey_stats {
	uint64_t entries;     /* entries visited */
	uint64_t names;       /* names moved to the current keys */
	uint64_t headers;     /* file headers rewrapped */
	uint64_t links;       /* symlink targets re-encrypted */
	uint64_t xattrs;      /* extended attributes re-encrypted */
	uint64_t data_files;  /* files given a new data key (--data) */
	uint64_t kept_data;   /* names of hard-linked files that kept their data key */
	uint64_t problems;    /* entries it could not move (reported) */
};

struct rekey_opts {
	int data;             /* new data keys: content re-encrypted, O(bytes) */
	/*
	 * One line about an entry (path relative to the root): problem set
	 * when it could not be moved, clear for a notice (e.g. a hard-linked
	 * file keeps its data key under --data).
	 */
	void (*report)(void *ctx, const char *path, const char *what, int problem);
	/* after each entry; total from a first count (0 if unknown) */
	void (*progress)(void *ctx, const struct rekey_stats *st, uint64_t total);
	void *ctx;
};

/* Walks v. 0 when the walk ran (problems are in st), or -errno. */
int rekey_walk(struct vol *v, const struct rekey_opts *o, struct rekey_stats *st);

#endif
