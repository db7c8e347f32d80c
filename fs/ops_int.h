/* SPDX-License-Identifier: MIT */
/*
 * Shared by the FUSE operation files (ops_*.c): the mount's context and
 * small helpers. Everything else in fs/ sees only fs/mount.h.
 */
#ifndef BYOKFS_FS_OPS_INT_H
#define BYOKFS_FS_OPS_INT_H

#include <fuse_lowlevel.h>
#include <stdatomic.h>
#include <stdio.h>

#include <limits.h>

#include "fs/content.h"
#include "fs/inode.h"
#include "fs/names.h"
#include "fs/vol.h"

/* Links every open handle, so the ones the kernel never released (it drops
 * RELEASE requests queued at unmount) are freed when the session ends. */
struct hlink {
	struct hlink *prev, *next;
};

struct fsctx {
	struct vol *vol;
	pthread_mutex_t handles_lock;
	struct hlink files, dirs;   /* protected by handles_lock; circular lists */
	struct itable it;
	struct fuse_session *se;
	double entry_timeout;
	double attr_timeout;
	int chown_new;            /* running as root: give new objects to the caller */
	atomic_int open_files;
	struct lease *lease;      /* NULL when the mount has no lease (tests of the core) */
	struct control *control;
	char mountpoint[PATH_MAX];
	char lease_provider[32];
	char lease_key_id[1024];
	double mounted_at;        /* wall clock */
};

/* An open regular file. */
struct fhandle {
	struct hlink link;      /* first: container of */
	struct inode *in;
	struct fcontent *fc;
	int flags;
};

static inline struct fsctx *ctx_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static inline struct inode *ino_of(fuse_req_t req, fuse_ino_t ino)
{
	return itable_get(&ctx_of(req)->it, ino);
}

/* "/proc/self/fd/N": opens the object behind an O_PATH descriptor. */
static inline void procpath(char buf[64], int fd)
{
	snprintf(buf, 64, "/proc/self/fd/%d", fd);
}

/* Plaintext attributes of an inode from its backing object. */
int ops_getattr_in(struct fsctx *c, struct inode *in, struct stat *st);
/* Fixes sizes of a backing stat to plaintext sizes. */
void ops_fix_attr(struct fsctx *c, struct inode *in, struct stat *st);
/* The id of a directory inode (cached). */
int ops_dirid(struct fsctx *c, struct inode *dir, uint8_t dirid[BYOKFS_DIR_ID_BYTES]);
/*
 * Looks up the backing entry `entry` in dir and fills e (counts a lookup).
 * name, when known, is the plaintext name, recorded for cache invalidation.
 */
int ops_entry(struct fsctx *c, struct inode *dir, const char *entry, const char *name,
	      struct fuse_entry_param *e);
/* 0, or -EKEYREVOKED when the volume is not unlocked. */
int ops_check_unlocked(struct fsctx *c);
/* Gives a new backing object to the caller when running as root. */
void ops_chown_new(fuse_req_t req, struct inode *dir, const char *entry);
/* Reply helpers: 0 or -errno from the core, one reply. */
void ops_reply_entry(fuse_req_t req, int r, struct fuse_entry_param *e);

/* Opens the content of a regular-file inode (shared by handles). */
int ops_content_get(struct fsctx *c, struct inode *in, int want_write, int truncating,
		    struct fcontent **out);
void ops_content_put(struct fsctx *c, struct inode *in);

/* Handle registry (see struct hlink). */
void ops_handles_init(struct fsctx *c);
void ops_handle_add(struct fsctx *c, struct hlink *list, struct hlink *h);
void ops_handle_del(struct fsctx *c, struct hlink *h);
/* Frees every handle still open: at the end of the session only. */
void ops_release_all_files(struct fsctx *c);
void ops_release_all_dirs(struct fsctx *c);

/* Operation tables filled by each file. */
void ops_file_register(struct fuse_lowlevel_ops *ops);
void ops_xattr_register(struct fuse_lowlevel_ops *ops);
void ops_entry_register(struct fuse_lowlevel_ops *ops);

#endif
