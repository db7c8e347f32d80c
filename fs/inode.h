/* SPDX-License-Identifier: MIT */
/*
 * The inode table: one struct inode per backing object the kernel knows,
 * keyed by (st_dev, st_ino) so that hard links share one inode. Each holds
 * an O_PATH descriptor of its backing object (as libfuse's passthrough_ll
 * does), so renames by anyone never leave it pointing at the wrong name.
 * The kernel's node id is the struct's address, except 1 for the root.
 *
 * Lifetime: itable_add() counts one lookup; itable_forget() drops n; the
 * inode is freed when the count reaches zero. No FUSE types here.
 */
#ifndef BYOKFS_FS_INODE_H
#define BYOKFS_FS_INODE_H

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "crypto/params.h"

struct fcontent;

struct inode {
	struct inode *next;     /* hash chain; table lock */
	struct inode *lru_prev, *lru_next; /* table lock: least recently looked up first */
	uint64_t nlookup;       /* table lock */
	ino_t bino;
	dev_t dev;
	int fd;                 /* O_PATH, owned */
	mode_t type;            /* S_IFMT bits */
	uint64_t parent_id;     /* table lock: node id of the directory ... */
	char *name;             /* ... and plaintext name the kernel last learned */

	pthread_mutex_t lock;   /* protects the fields below */
	struct fcontent *fc;    /* regular files, while open */
	unsigned opens;
	int has_dirid;          /* directories: dirid cached */
	uint8_t dirid[BYOKFS_DIR_ID_BYTES];
};

struct itable {
	pthread_mutex_t lock;
	struct inode **buckets;
	size_t nbuckets, count;
	struct inode lru;       /* list head (not an inode): lru.lru_next is the oldest */
	struct inode root;
};

/* Sets up the table with the root inode on root_fd (O_PATH, not owned). */
int itable_init(struct itable *t, int root_fd);
/* The inode for a kernel node id. */
struct inode *itable_get(struct itable *t, uint64_t id);
/* The kernel node id of an inode. */
uint64_t itable_id(struct itable *t, struct inode *in);
/*
 * Finds the inode of st or adds one owning fd; counts one lookup either
 * way. fd is consumed (closed when an inode already existed). NULL on ENOMEM.
 */
struct inode *itable_add(struct itable *t, int fd, const struct stat *st);
/* Drops n lookups; frees the inode at zero. */
void itable_forget(struct itable *t, struct inode *in, uint64_t n);
/*
 * Records the (parent, name) under which the kernel knows an inode, so a
 * revocation can invalidate that dentry. Only the latest name is kept.
 */
void itable_set_name(struct itable *t, struct inode *in, uint64_t parent_id, const char *name);
/* The same for the inode of st, if the table has it (after a rename). */
void itable_rename(struct itable *t, const struct stat *st, uint64_t parent_id, const char *name);
/*
 * Forgets every recorded name (wiping it) after handing each to cb, called
 * without the table lock held.
 */
void itable_drop_names(struct itable *t, void (*cb)(void *ctx, uint64_t parent, const char *name),
		       void *ctx);
/*
 * Hands cb the (parent, name) of up to max of the least recently looked-up
 * inodes that are not open and have a recorded name, oldest first, and
 * moves them to the recent end (so the next call goes on with others).
 * For pruning the kernel's caches: cb runs without the table lock.
 * Returns how many it handed out.
 */
size_t itable_oldest(struct itable *t, size_t max,
		     void (*cb)(void *ctx, uint64_t parent, const char *name), void *ctx);
/* Number of inodes, root excluded. */
size_t itable_count(struct itable *t);
/*
 * Copies up to max node ids of live inodes into ids (root first);
 * returns how many. For cache invalidation on revocation.
 */
size_t itable_ids(struct itable *t, uint64_t *ids, size_t max);
void itable_destroy(struct itable *t);

#endif
