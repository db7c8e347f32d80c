/* SPDX-License-Identifier: MIT */
/*
 * Bounds the inodes the mount holds. Each inode costs an O_PATH descriptor
 * and some memory for as long as the kernel remembers it, and the kernel
 * forgets only under memory pressure: a million-file corpus would exhaust
 * descriptors and memory. Above max_inodes a thread asks the kernel to drop
 * the least recently looked-up dentries (fuse_lowlevel_notify_inval_entry,
 * from its own thread: never from a request handler, which may hold the
 * directory's lock); the kernel then sends FORGET and the inode is freed.
 * A dropped name is looked up again when used.
 */
#ifndef BYOKFS_FS_PRUNE_H
#define BYOKFS_FS_PRUNE_H

#include <fuse_lowlevel.h>
#include <stddef.h>

#include "fs/inode.h"

struct pruner;

/* NULL if max_inodes is 0 (no bound) or the thread cannot start. */
struct pruner *pruner_start(struct itable *t, struct fuse_session *se, size_t max_inodes);
void pruner_stop(struct pruner *p);

#endif
