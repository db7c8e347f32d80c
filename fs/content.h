/* SPDX-License-Identifier: MIT */
/*
 * File contents: the block layer between plaintext offsets and a backing
 * file (header, then blocks of nonce || ciphertext || tag). No FUSE here:
 * fsck and rekey use it too.
 *
 * Plaintext size from backing size S (H = FHDR_BYTES, B = block size,
 * O = overhead): S == 0 is an empty file with no header yet; otherwise
 * n = (S - H) / (B + O), r = (S - H) % (B + O) and size = n*B + (r ? r - O : 0).
 * An empty file with a header stores one empty final block (r == O).
 *
 * Calling sequence (one struct fcontent per open inode, shared by handles):
 *   content_init() -> content_read()/content_write()/content_truncate()...
 *   -> content_release()
 * Each call takes fc->lock itself (shared for reads, exclusive otherwise)
 * and the volume gate around key use, so calls may come from any thread.
 */
#ifndef BYOKFS_FS_CONTENT_H
#define BYOKFS_FS_CONTENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crypto/blk.h"
#include "crypto/fhdr.h"
#include "fs/vol.h"

struct fcontent {
	pthread_rwlock_t lock;  /* shared: read; exclusive: write, truncate */
	/* The backing data fd, owned; opened O_RDWR when writable. Replaced at
	 * most once (read-only by read-write, content_set_fd), and the old one
	 * stays open until release: fsync and futimens use fd without the lock */
	atomic_int fd;
	atomic_int writable;
	int old_fd;             /* the fd replaced, or -1 */
	int have_hdr;           /* protected by lock: header on disk */
	int tail_bad;           /* protected by lock: the backing size is no valid layout */
	struct fhdr hdr;        /* protected by lock */
	uint64_t size;          /* protected by lock: plaintext size */
	pthread_mutex_t key_lock;
	struct blk_key *key;    /* key-pool slot, owned */
	atomic_uint_fast64_t key_gen; /* vol->key_gen when key was loaded; 0 = never */
	atomic_int auth_logged; /* one log line per file for authentication failures */
};

/* Plaintext size for a backing file of backing_size bytes. */
uint64_t content_plain_size(const struct vol *v, uint64_t backing_size);
/* Backing size for a plaintext size (with header). */
uint64_t content_backing_size(const struct vol *v, uint64_t plain_size);

/*
 * Takes ownership of fd, reads the header, authenticates it and loads the
 * data key. Returns 0, -EIO (damaged header, or nothing readable: a file
 * cut after its header; logged), -EKEYREVOKED, -errno. truncating: the
 * caller truncates to zero next, so a damaged tail is no reason to refuse.
 * On failure fd is closed and fc needs no release.
 */
int content_init(struct vol *v, struct fcontent *fc, int fd, int writable, int truncating);

/*
 * Replaces the backing fd (read-only by read-write; once). Caller holds
 * fc->lock exclusively. The old fd is closed by content_release().
 */
void content_set_fd(struct fcontent *fc, int fd, int writable);

/*
 * Reads up to size bytes at off and hands the plaintext to deliver() while
 * the volume gate is held, so that nothing decrypted reaches a reader after
 * a revocation completes. deliver gets (ctx, data, len) and returns 0 or
 * -errno. Returns the number of bytes delivered, or -EIO (a block failed
 * authentication; logged once per file), -EKEYREVOKED, -errno. When the
 * read fails, deliver is not called.
 */
ssize_t content_read(struct vol *v, struct fcontent *fc, size_t size, uint64_t off,
		     int (*deliver)(void *ctx, const void *data, size_t len), void *ctx);

/*
 * Writes size bytes at off. Returns size or -errno; on -ENOSPC nothing that
 * was acknowledged before is changed.
 */
ssize_t content_write(struct vol *v, struct fcontent *fc, const void *buf, size_t size,
		      uint64_t off);

/* Sets the plaintext size. A file truncated to 0 gets a new data key. */
int content_truncate(struct vol *v, struct fcontent *fc, uint64_t size);

/*
 * fallocate(2) modes 0, FALLOC_FL_KEEP_SIZE and FALLOC_FL_PUNCH_HOLE |
 * FALLOC_FL_KEEP_SIZE; -EOPNOTSUPP for the others.
 */
int content_fallocate(struct vol *v, struct fcontent *fc, int mode, uint64_t off, uint64_t len);

/* Current plaintext size. */
uint64_t content_size(struct fcontent *fc);

/*
 * Writes the header and empty final block of a new, empty backing file.
 * 0 or -errno (-ENOSPC leaves a 0-byte file, which reads as empty).
 */
int content_create(struct vol *v, int fd);

/*
 * content_create() on a new, empty file that is being opened: fc takes
 * ownership of fd (read-write) and holds the new data key, so the header
 * need not be read back. 0 or -errno (fd then closed).
 */
int content_init_new(struct vol *v, struct fcontent *fc, int fd);

/* Closes the fd and wipes the key. */
void content_release(struct vol *v, struct fcontent *fc);

#endif
