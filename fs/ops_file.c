/* SPDX-License-Identifier: MIT */
/*
 * FUSE operations on file contents: create, open, read, write, flush,
 * release, fsync and fallocate. All handles of an inode share one struct
 * fcontent (one backing fd, one data key), created on the first open and
 * wiped on the last release.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/io.h"
#include "fs/killpriv.h"
#include "fs/log.h"
#include "fs/ops_int.h"

/*
 * Opens the backing object behind an O_PATH fd for I/O. O_NOATIME: byokfs's
 * own reads (headers, read-modify-write) must not move the file's atime, or
 * touch -m would not leave atime alone; plaintext reads do not update atime
 * either, as on a noatime mount.
 */
static int open_noatime(const char *path, int flags)
{
	int fd = io_open(path, flags | O_NOATIME, 0);
	if (fd < 0 && errno == EPERM)
		fd = io_open(path, flags, 0); /* O_NOATIME needs ownership or CAP_FOWNER */
	return fd;
}

static int reopen(struct inode *in, int want_write, int *writable)
{
	char proc[64];
	int fd;

	procpath(proc, in->fd);
	fd = open_noatime(proc, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		*writable = 1;
		return fd;
	}
	if (want_write || (errno != EACCES && errno != EROFS && errno != EPERM))
		return -errno;
	fd = open_noatime(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*writable = 0;
	return fd;
}

int ops_content_get(struct fsctx *c, struct inode *in, int want_write, int truncating,
		    struct fcontent **out)
{
	int r = 0, fd, writable = 0;

	pthread_mutex_lock(&in->lock);
	if (in->fc) {
		if (want_write && !in->fc->writable) {
			fd = reopen(in, 1, &writable);
			if (fd < 0) {
				r = fd;
				goto out;
			}
			pthread_rwlock_wrlock(&in->fc->lock);
			content_set_fd(in->fc, fd, writable);
			pthread_rwlock_unlock(&in->fc->lock);
		}
		in->opens++;
		*out = in->fc;
		goto out;
	}
	fd = reopen(in, want_write, &writable);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	struct fcontent *fc = calloc(1, sizeof(*fc));
	if (!fc) {
		close(fd);
		r = -ENOMEM;
		goto out;
	}
	r = content_init(c->vol, fc, fd, writable, truncating);
	if (r < 0) {
		free(fc);
		goto out;
	}
	in->fc = fc;
	in->opens = 1;
	*out = fc;
	atomic_fetch_add(&c->open_files, 1);
out:
	pthread_mutex_unlock(&in->lock);
	return r;
}

void ops_content_put(struct fsctx *c, struct inode *in)
{
	struct fcontent *fc = NULL;

	pthread_mutex_lock(&in->lock);
	if (--in->opens == 0) {
		fc = in->fc;
		in->fc = NULL;
	}
	pthread_mutex_unlock(&in->lock);
	if (fc) {
		content_release(c->vol, fc);
		free(fc);
		atomic_fetch_sub(&c->open_files, 1);
	}
}

void ops_handles_init(struct fsctx *c)
{
	pthread_mutex_init(&c->handles_lock, NULL);
	c->files.prev = c->files.next = &c->files;
	c->dirs.prev = c->dirs.next = &c->dirs;
}

void ops_handle_add(struct fsctx *c, struct hlink *list, struct hlink *h)
{
	pthread_mutex_lock(&c->handles_lock);
	h->next = list->next;
	h->prev = list;
	list->next->prev = h;
	list->next = h;
	pthread_mutex_unlock(&c->handles_lock);
}

void ops_handle_del(struct fsctx *c, struct hlink *h)
{
	pthread_mutex_lock(&c->handles_lock);
	h->prev->next = h->next;
	h->next->prev = h->prev;
	h->prev = h->next = h;
	pthread_mutex_unlock(&c->handles_lock);
}

static int wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

/* Wraps an fcontent the inode already counts an open for in a handle. */
static int make_handle(struct fsctx *c, struct inode *in, struct fcontent *fc,
		       struct fuse_file_info *fi)
{
	struct fhandle *fh = calloc(1, sizeof(*fh));
	if (!fh) {
		ops_content_put(c, in);
		return -ENOMEM;
	}
	fh->in = in;
	fh->fc = fc;
	fh->flags = fi->flags;
	fi->fh = (uintptr_t)fh;
	/* keep cached pages across opens: every write goes through us, so the
	 * cache is coherent on this host; a change by another host is caught
	 * by auto_inval_data (mtime/size on getattr), and a revocation drops
	 * the cache explicitly */
	fi->keep_cache = 1;
	ops_handle_add(c, &c->files, &fh->link);
	return 0;
}

/* Sets up a handle; truncates for O_TRUNC. */
static int open_handle(struct fsctx *c, struct inode *in, struct fuse_file_info *fi)
{
	struct fcontent *fc;
	int r;

	if ((r = vol_gate_enter(c->vol)) < 0)
		return r;
	vol_gate_leave(c->vol);
	if ((r = ops_content_get(c, in, wants_write(fi->flags), (fi->flags & O_TRUNC) != 0, &fc)) < 0)
		return r;
	if ((fi->flags & O_TRUNC) && (r = content_truncate(c->vol, fc, 0)) < 0) {
		ops_content_put(c, in);
		return r;
	}
	return make_handle(c, in, fc, fi);
}

/*
 * Gives a new file's fcontent to its inode and opens a handle on it: no
 * reopen, no header read-back. If the inode is somehow open already (a
 * hard link made in between), ours is dropped and theirs used.
 */
static int adopt_handle(struct fsctx *c, struct inode *in, struct fcontent *fc,
			struct fuse_file_info *fi)
{
	pthread_mutex_lock(&in->lock);
	if (in->fc) {
		pthread_mutex_unlock(&in->lock);
		content_release(c->vol, fc);
		free(fc);
		return open_handle(c, in, fi);
	}
	in->fc = fc;
	in->opens = 1;
	atomic_fetch_add(&c->open_files, 1);
	pthread_mutex_unlock(&in->lock);
	return make_handle(c, in, fc, fi);
}

static void close_handle(struct fsctx *c, struct fhandle *fh)
{
	ops_handle_del(c, &fh->link);
	ops_content_put(c, fh->in);
	free(fh);
}

void ops_release_all_files(struct fsctx *c)
{
	while (c->files.next != &c->files)
		close_handle(c, (struct fhandle *)(void *)c->files.next);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct fsctx *c = ctx_of(req);
	struct inode *dir = ino_of(req, parent), *in;
	struct fuse_entry_param e;
	uint8_t dirid[BYOKFS_DIR_ID_BYTES];
	struct bname b;
	struct fcontent *fc = NULL;
	int r, fd, created = 1;

	if ((r = ops_dirid(c, dir, dirid)) < 0 ||
	    (r = bname_resolve(c->vol, dir->fd, dirid, name, &b)) < 0)
		goto fail;
	if (b.is_long && faccessat(dir->fd, b.entry, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
	    (r = bname_write_side(dir->fd, &b)) < 0)
		goto fail;
	fd = io_openat(dir->fd, b.entry, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		       mode & 07777);
	if (fd < 0 && errno == EEXIST && !(fi->flags & O_EXCL)) {
		created = 0; /* lost a race with another creator: open theirs */
	} else if (fd < 0) {
		r = -errno;
		if (b.is_long && r != -EEXIST)
			bname_remove_side(dir->fd, &b);
		goto fail;
	} else {
		/* the new file's descriptor and data key serve the open too */
		fc = calloc(1, sizeof(*fc));
		r = fc ? content_init_new(c->vol, fc, fd) : -ENOMEM;
		if (!fc)
			close(fd);
		if (r < 0) {
			free(fc);
			fc = NULL;
			unlinkat(dir->fd, b.entry, 0);
			if (b.is_long)
				bname_remove_side(dir->fd, &b);
			goto fail;
		}
		ops_chown_new(req, dir, b.entry);
	}
	if ((r = ops_entry(c, dir, b.entry, name, &e)) < 0)
		goto fail;
	in = itable_get(&c->it, e.ino);
	if (!created)
		fi->flags &= ~O_EXCL;
	r = fc ? adopt_handle(c, in, fc, fi) : open_handle(c, in, fi);
	fc = NULL; /* transferred */
	if (r < 0) {
		itable_forget(&c->it, in, 1);
		goto fail;
	}
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		close_handle(c, (struct fhandle *)(uintptr_t)fi->fh);
		itable_forget(&c->it, in, 1);
	}
	return;
fail:
	if (fc) {
		content_release(c->vol, fc);
		free(fc);
	}
	fuse_reply_err(req, -r);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsctx *c = ctx_of(req);
	int r = open_handle(c, ino_of(req, ino), fi);

	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (fuse_reply_open(req, fi) == -ENOENT)
		close_handle(c, (struct fhandle *)(uintptr_t)fi->fh);
}

struct read_reply {
	fuse_req_t req;
	int replied;
};

/* Called with the volume gate held: the plaintext leaves before a revoke can finish. */
static int deliver_read(void *ctx, const void *data, size_t len)
{
	struct read_reply *rr = ctx;
	rr->replied = 1;
	fuse_reply_buf(rr->req, data, len);
	return 0;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fsctx *c = ctx_of(req);
	struct fhandle *fh = (struct fhandle *)(uintptr_t)fi->fh;
	struct read_reply rr = {.req = req};
	ssize_t r;

	(void)ino;
	r = content_read(c->vol, fh->fc, size, (uint64_t)off, deliver_read, &rr);
	if (!rr.replied)
		fuse_reply_err(req, r < 0 ? (int)-r : EIO);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct fsctx *c = ctx_of(req);
	struct fhandle *fh = (struct fhandle *)(uintptr_t)fi->fh;
	ssize_t r;

	(void)ino;
	/* the kernel already placed O_APPEND writes at its i_size (it holds the
	 * inode lock across the write), and page writeback may use an O_APPEND
	 * handle for a write elsewhere: always trust the offset */
	r = content_write(c->vol, fh->fc, buf, size, (uint64_t)off);
	if (r >= 0 && (fh->flags & (O_SYNC | O_DSYNC)) && io_fdatasync(fh->fc->fd) < 0)
		r = -errno;
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_write(req, (size_t)r);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	close_handle(ctx_of(req), (struct fhandle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct fhandle *fh = (struct fhandle *)(uintptr_t)fi->fh;
	int fd = fh->fc->fd;

	(void)ino;
	if ((datasync ? io_fdatasync(fd) : io_fsync(fd)) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_err(req, 0);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	struct fsctx *c = ctx_of(req);
	struct fhandle *fh = (struct fhandle *)(uintptr_t)fi->fh;

	if (off < 0 || len <= 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	/* with KILLPRIV_V2 the kernel leaves this to us, and FALLOCATE carries
	 * no kill flag: a caller other than root drops set-user/group-ID, as a
	 * write would */
	if (killpriv_active() && fuse_req_ctx(req)->uid != 0)
		killpriv_clear(ino);
	fuse_reply_err(req, -content_fallocate(c->vol, fh->fc, mode, (uint64_t)off, (uint64_t)len));
}

void ops_file_register(struct fuse_lowlevel_ops *ops)
{
	ops->create = op_create;
	ops->open = op_open;
	ops->read = op_read;
	ops->write = op_write;
	/* no flush: writes reach the backing file before they are
	 * acknowledged, and without the operation the kernel stops sending
	 * FLUSH on every close (one round trip less per file) */
	ops->release = op_release;
	ops->fsync = op_fsync;
	ops->fallocate = op_fallocate;
}
