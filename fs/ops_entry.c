/* SPDX-License-Identifier: MIT */
/*
 * FUSE operations on names and attributes: lookup, forget, getattr,
 * setattr, directories (opendir, readdir[plus], mkdir, rmdir, fsyncdir),
 * unlink, rename, link, symlink, readlink, mknod and statfs.
 * Each unpacks the request, calls the core, and replies exactly once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "crypto/seal.h"
#include "fs/killpriv.h"
#include "fs/log.h"
#include "fs/ops_int.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* ---- helpers shared with the other ops files ---- */

void ops_fix_attr(struct fsctx *c, struct inode *in, struct stat *st)
{
	if (S_ISREG(st->st_mode)) {
		struct fcontent *fc = NULL;
		if (in) {
			pthread_mutex_lock(&in->lock);
			fc = in->fc;
			if (fc)
				st->st_size = (off_t)content_size(fc);
			pthread_mutex_unlock(&in->lock);
		}
		if (!fc)
			st->st_size = (off_t)content_plain_size(c->vol, (uint64_t)st->st_size);
	} else if (S_ISLNK(st->st_mode)) {
		st->st_size = (off_t)symlink_plain_len((size_t)st->st_size);
	}
}

int ops_getattr_in(struct fsctx *c, struct inode *in, struct stat *st)
{
	if (fstatat(in->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	ops_fix_attr(c, in, st);
	return 0;
}

int ops_dirid(struct fsctx *c, struct inode *dir, uint8_t dirid[BYOKFS_DIR_ID_BYTES])
{
	int r = 0;

	if (dir->type != S_IFDIR)
		return -ENOTDIR;
	pthread_mutex_lock(&dir->lock);
	if (!dir->has_dirid) {
		r = dirid_read(dir->fd, dir->dirid);
		if (r == 0)
			dir->has_dirid = 1;
		else if (r == -EIO)
			log_err("directory id missing or damaged in backing directory inode %llu of '%s'",
				(unsigned long long)dir->bino, c->vol->backing);
	}
	if (r == 0)
		memcpy(dirid, dir->dirid, BYOKFS_DIR_ID_BYTES);
	pthread_mutex_unlock(&dir->lock);
	return r;
}

int ops_check_unlocked(struct fsctx *c)
{
	int r = vol_gate_enter(c->vol);
	if (r == 0)
		vol_gate_leave(c->vol);
	return r;
}

int ops_entry(struct fsctx *c, struct inode *dir, const char *entry, const char *name,
	      struct fuse_entry_param *e)
{
	struct inode *in;
	struct stat st;
	int fd;

	memset(e, 0, sizeof(*e));
	fd = openat(dir->fd, entry, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	in = itable_add(&c->it, fd, &st);
	if (!in)
		return -ENOMEM;
	if (name)
		itable_set_name(&c->it, in, itable_id(&c->it, dir), name);
	ops_fix_attr(c, in, &st);
	e->ino = itable_id(&c->it, in);
	e->attr = st;
	e->attr_timeout = c->attr_timeout;
	e->entry_timeout = c->entry_timeout;
	return 0;
}

void ops_chown_new(fuse_req_t req, struct inode *dir, const char *entry)
{
	struct fsctx *c = ctx_of(req);
	const struct fuse_ctx *fc = fuse_req_ctx(req);
	struct stat pst;
	gid_t gid = fc->gid;

	if (!c->chown_new)
		return;
	/* a set-group-ID directory gives its group to new entries */
	if (fstatat(dir->fd, "", &pst, AT_EMPTY_PATH) == 0 && (pst.st_mode & S_ISGID))
		gid = pst.st_gid;
	if (fchownat(dir->fd, entry, fc->uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		log_warn("cannot give new entry to uid %u: %s", (unsigned)fc->uid, strerror(errno));
}

void ops_reply_entry(fuse_req_t req, int r, struct fuse_entry_param *e)
{
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, e);
}

/* Backing name of `name` in dir (the existing entry's during a rekey). */
static int dir_bname(struct fsctx *c, struct inode *dir, const char *name, struct bname *b)
{
	uint8_t dirid[BYOKFS_DIR_ID_BYTES];
	int r = ops_dirid(c, dir, dirid);
	if (r < 0)
		return r;
	return bname_resolve(c->vol, dir->fd, dirid, name, b);
}

/* ---- lookup, forget, attributes ---- */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fsctx *c = ctx_of(req);
	struct fuse_entry_param e;
	struct bname b;
	int r = dir_bname(c, ino_of(req, parent), name, &b);

	if (r == 0)
		r = ops_entry(c, ino_of(req, parent), b.entry, name, &e);
	if (r == -ENOENT) {
		/* a negative entry the kernel may cache for entry_timeout */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = c->entry_timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	ops_reply_entry(req, r, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	itable_forget(&ctx_of(req)->it, ino_of(req, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		itable_forget(&ctx_of(req)->it, ino_of(req, forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsctx *c = ctx_of(req);
	struct stat st;
	int r;

	(void)fi;
	/* after a revocation only the root answers, so fusermount3 -u works */
	r = ino == FUSE_ROOT_ID ? 0 : ops_check_unlocked(c);
	if (r == 0)
		r = ops_getattr_in(c, ino_of(req, ino), &st);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, c->attr_timeout);
}

static int set_times(struct inode *in, struct fcontent *fc, const struct stat *attr, int to_set)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};
	char proc[64];

	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		ts[0] = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		ts[1] = attr->st_mtim;
	if (fc)
		return futimens(fc->fd, ts) < 0 ? -errno : 0;
	if (in->type == S_IFLNK) {
		/* /proc/self/fd/N would follow the link: needs AT_EMPTY_PATH */
		return utimensat(in->fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	}
	procpath(proc, in->fd);
	return utimensat(AT_FDCWD, proc, ts, 0) < 0 ? -errno : 0;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fsctx *c = ctx_of(req);
	struct inode *in = ino_of(req, ino);
	struct fhandle *fh = fi ? (struct fhandle *)(uintptr_t)fi->fh : NULL;
	char proc[64];
	struct stat st;
	int r = ops_check_unlocked(c);

	if (r < 0)
		goto out;
	if (to_set & FUSE_SET_ATTR_MODE) {
		procpath(proc, in->fd);
		killpriv_mode_lock();
		r = chmod(proc, attr->st_mode & 07777) < 0 ? -errno : 0;
		killpriv_mode_unlock();
		if (r < 0)
			goto out;
	}
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;
		if (fchownat(in->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			goto out;
		}
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		struct fcontent *fc;
		if (in->type != S_IFREG) {
			r = in->type == S_IFDIR ? -EISDIR : -EINVAL;
			goto out;
		}
		if (fh && fh->fc->writable) {
			r = content_truncate(c->vol, fh->fc, (uint64_t)attr->st_size);
		} else if ((r = ops_content_get(c, in, 1, attr->st_size == 0, &fc)) == 0) {
			r = content_truncate(c->vol, fc, (uint64_t)attr->st_size);
			ops_content_put(c, in);
		}
		if (r < 0)
			goto out;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
		      FUSE_SET_ATTR_MTIME_NOW)) {
		if ((r = set_times(in, fh ? fh->fc : NULL, attr, to_set)) < 0)
			goto out;
	}
	r = ops_getattr_in(c, in, &st);
out:
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, c->attr_timeout);
}

/* ---- directories ---- */

struct dirhandle {
	struct hlink link;     /* first: container of */
	DIR *dp;
	long offset;           /* position of the next entry in dp */
	int decrypt_logged;
};

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsctx *c = ctx_of(req);
	struct inode *in = ino_of(req, ino);
	struct dirhandle *d;
	uint8_t dirid[BYOKFS_DIR_ID_BYTES];
	int fd, r;

	if ((r = vol_gate_enter(c->vol)) < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	vol_gate_leave(c->vol);
	if ((r = ops_dirid(c, in, dirid)) < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fd = openat(in->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(in->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d->dp = fdopendir(fd))) {
		r = errno;
		if (fd >= 0)
			close(fd);
		free(d);
		fuse_reply_err(req, r);
		return;
	}
	fi->fh = (uintptr_t)d;
	/* the kernel keeps the listing in the directory's page cache across
	 * opens; it drops it on local changes, when a refreshed mtime differs
	 * (another mount's change, after attr_timeout), and on revocation
	 * (invalidate_all) */
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	ops_handle_add(c, &c->dirs, &d->link);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		ops_handle_del(c, &d->link);
		closedir(d->dp);
		free(d);
	}
}

void ops_release_all_dirs(struct fsctx *c)
{
	while (c->dirs.next != &c->dirs) {
		struct dirhandle *d = (struct dirhandle *)(void *)c->dirs.next;
		ops_handle_del(c, &d->link);
		closedir(d->dp);
		free(d);
	}
}

struct pending {
	char entry[NAME_MAX + 1];
	char enc[NAME_ENC_MAX + 1];
	long next;            /* offset after this entry */
	unsigned char type;
	ino_t bino;
	int enclen;           /* < 0: not decryptable */
	struct fuse_entry_param e;
	int looked_up;
};

#define READDIR_BATCH 128

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi, int plus)
{
	struct fsctx *c = ctx_of(req);
	struct inode *dir = ino_of(req, ino);
	struct dirhandle *d = (struct dirhandle *)(uintptr_t)fi->fh;
	struct pending *p = NULL;
	uint8_t dirid[BYOKFS_DIR_ID_BYTES];
	size_t n = 0, used = 0, added = 0;
	char *buf = NULL, name[NAME_PLAIN_MAX + 1];
	int r;

	if ((r = ops_dirid(c, dir, dirid)) < 0)
		goto err;
	buf = malloc(size);
	p = calloc(READDIR_BATCH, sizeof(*p));
	if (!buf || !p) {
		r = -ENOMEM;
		goto err;
	}
	if (off != d->offset) {
		seekdir(d->dp, off);
		d->offset = off;
	}
	/* phase 1, I/O only: read a batch of entries and their encodings */
	while (n < READDIR_BATCH && n * 48 < size) {
		struct dirent *de;
		errno = 0;
		de = readdir(d->dp);
		if (!de) {
			if (errno) {
				r = -errno;
				goto err;
			}
			break;
		}
		d->offset = de->d_off;
		if (bname_is_internal(de->d_name)) {
			if (n == 0)
				off = de->d_off; /* nothing pending: resume after it */
			else
				p[n - 1].next = de->d_off;
			continue;
		}
		struct pending *q = &p[n++];
		snprintf(q->entry, sizeof(q->entry), "%s", de->d_name);
		q->next = de->d_off;
		q->type = de->d_type;
		q->bino = de->d_ino;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
			q->enclen = 0;
			continue;
		}
		q->enclen = bname_encoding(dirfd(d->dp), de->d_name, q->enc);
		if (plus && q->enclen > 0 && ops_entry(c, dir, de->d_name, NULL, &q->e) == 0)
			q->looked_up = 1;
	}
	/* phase 2, under the gate: decrypt names and fill the reply */
	if ((r = vol_gate_enter(c->vol)) < 0)
		goto err_forget;
	size_t i;
	for (i = 0; i < n; i++) {
		struct pending *q = &p[i];
		const char *shown = q->entry;
		size_t sz;
		if (q->enclen > 0) {
			if (bname_decrypt(c->vol, dirid, q->enc, (size_t)q->enclen, name) < 0) {
				q->enclen = -1;
			} else {
				shown = name;
				if (q->looked_up)
					itable_set_name(&c->it, itable_get(&c->it, q->e.ino),
							itable_id(&c->it, dir), name);
			}
		}
		if (q->enclen < 0) {
			atomic_fetch_add(&c->vol->stats.auth_failures, 1);
			if (!d->decrypt_logged++)
				log_err("cannot decrypt name '%s' in backing directory '%s' (inode %llu): skipped",
					q->entry, c->vol->backing, (unsigned long long)dir->bino);
			if (q->looked_up) {
				itable_forget(&c->it, itable_get(&c->it, q->e.ino), 1);
				q->looked_up = 0;
			}
			off = q->next;
			added++;
			continue;
		}
		if (plus) {
			struct fuse_entry_param e = q->e;
			if (!q->looked_up) {
				memset(&e, 0, sizeof(e));
				e.attr.st_ino = q->bino;
				e.attr.st_mode = (mode_t)q->type << 12;
			}
			sz = fuse_add_direntry_plus(req, buf + used, size - used, shown, &e, q->next);
		} else {
			struct stat st = {.st_ino = q->bino, .st_mode = (mode_t)q->type << 12};
			sz = fuse_add_direntry(req, buf + used, size - used, shown, &st, q->next);
		}
		if (sz > size - used)
			break;
		used += sz;
		off = q->next;
		q->looked_up = 0; /* handed to the kernel */
		added++;
	}
	/* entries that did not fit are read again next time */
	if (i < n) {
		seekdir(d->dp, off);
		d->offset = off;
	}
	fuse_reply_buf(req, buf, used);
	vol_gate_leave(c->vol);
	for (; i < n; i++)
		if (p[i].looked_up)
			itable_forget(&c->it, itable_get(&c->it, p[i].e.ino), 1);
	free(buf);
	free(p);
	return;
err_forget:
	for (size_t k = 0; k < n; k++)
		if (p[k].looked_up)
			itable_forget(&c->it, itable_get(&c->it, p[k].e.ino), 1);
	seekdir(d->dp, off);
	d->offset = off;
err:
	free(buf);
	free(p);
	fuse_reply_err(req, -r);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, 0);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, 1);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirhandle *d = (struct dirhandle *)(uintptr_t)fi->fh;

	(void)ino;
	ops_handle_del(ctx_of(req), &d->link);
	closedir(d->dp);
	free(d);
	fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct dirhandle *d = (struct dirhandle *)(uintptr_t)fi->fh;
	int fd = dirfd(d->dp);

	(void)ino;
	if ((datasync ? fdatasync(fd) : fsync(fd)) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_err(req, 0);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fsctx *c = ctx_of(req);
	struct inode *dir = ino_of(req, parent);
	struct fuse_entry_param e;
	uint8_t dirid[BYOKFS_DIR_ID_BYTES];
	struct bname b;
	int r, fd;

	if ((r = dir_bname(c, dir, name, &b)) < 0)
		goto out;
	if (b.is_long && (r = bname_write_side(dir->fd, &b)) < 0)
		goto out;
	if (mkdirat(dir->fd, b.entry, mode) < 0) {
		r = -errno;
		goto out_side;
	}
	fd = openat(dir->fd, b.entry, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (r = dirid_create(fd, dirid)) < 0) {
		if (fd < 0)
			r = -errno;
		else
			close(fd);
		unlinkat(dir->fd, b.entry, AT_REMOVEDIR);
		goto out_side;
	}
	close(fd);
	ops_chown_new(req, dir, b.entry);
	r = ops_entry(c, dir, b.entry, name, &e);
	goto out;
out_side:
	if (b.is_long && r != -EEXIST)
		bname_remove_side(dir->fd, &b);
out:
	ops_reply_entry(req, r, &e);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fsctx *c = ctx_of(req);
	struct inode *dir = ino_of(req, parent);
	uint8_t dirid[BYOKFS_DIR_ID_BYTES];
	struct bname b;
	int r, fd = -1, had_id;

	if ((r = dir_bname(c, dir, name, &b)) < 0)
		goto out;
	fd = openat(dir->fd, b.entry, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	struct stat st;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		r = -ENOTDIR;
		goto out;
	}
	if ((r = dir_is_empty(fd)) <= 0) {
		r = r == 0 ? -ENOTEMPTY : r;
		goto out;
	}
	had_id = dirid_read(fd, dirid) == 0;
	if ((r = dir_remove_internal(fd)) < 0)
		goto out;
	if (unlinkat(dir->fd, b.entry, AT_REMOVEDIR) < 0) {
		r = -errno;
		if (had_id && dirid_restore(fd, dirid) < 0)
			log_err("cannot restore directory id after failed rmdir");
		goto out;
	}
	if (b.is_long)
		bname_remove_side(dir->fd, &b);
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	fuse_reply_err(req, -r);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fsctx *c = ctx_of(req);
	struct inode *dir = ino_of(req, parent);
	struct bname b;
	int r;

	if ((r = dir_bname(c, dir, name, &b)) == 0) {
		if (unlinkat(dir->fd, b.entry, 0) < 0)
			r = -errno;
		else if (b.is_long)
			bname_remove_side(dir->fd, &b);
	}
	fuse_reply_err(req, -r);
}

/*
 * If entry in dir is an empty directory that rename(2) would replace, clear
 * its bookkeeping so the backing rename can replace it; *saved gets its id.
 */
static int prepare_dir_target(struct inode *dir, const char *entry, int *cleared,
			      uint8_t saved[BYOKFS_DIR_ID_BYTES], int *tfd)
{
	struct stat st;
	int r;

	*cleared = 0;
	*tfd = openat(dir->fd, entry, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (*tfd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstatat(*tfd, "", &st, AT_EMPTY_PATH) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	if ((r = dir_is_empty(*tfd)) <= 0)
		return r; /* not empty: the backing rename fails with ENOTEMPTY itself */
	if (dirid_read(*tfd, saved) < 0)
		return 0;
	if ((r = dir_remove_internal(*tfd)) < 0)
		return r;
	*cleared = 1;
	return 0;
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct fsctx *c = ctx_of(req);
	struct inode *od = ino_of(req, parent), *nd = ino_of(req, newparent);
	struct bname ob, nb;
	uint8_t saved[BYOKFS_DIR_ID_BYTES];
	int r, cleared = 0, tfd = -1, target_existed, wrote_side = 0;

	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if ((r = dir_bname(c, od, name, &ob)) < 0 || (r = dir_bname(c, nd, newname, &nb)) < 0)
		goto out;
	if (od == nd && !strcmp(ob.entry, nb.entry)) {
		r = faccessat(od->fd, ob.entry, F_OK, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
		goto out;
	}
	target_existed = faccessat(nd->fd, nb.entry, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	if (!flags && target_existed &&
	    (r = prepare_dir_target(nd, nb.entry, &cleared, saved, &tfd)) < 0)
		goto out;
	if (nb.is_long) {
		if ((r = bname_write_side(nd->fd, &nb)) < 0)
			goto out_restore;
		wrote_side = !target_existed;
	}
	if (renameat2(od->fd, ob.entry, nd->fd, nb.entry, flags) < 0) {
		r = -errno;
		if (wrote_side)
			bname_remove_side(nd->fd, &nb);
		goto out_restore;
	}
	/* after an exchange both names still exist, with their side files */
	if (ob.is_long && !(flags & RENAME_EXCHANGE))
		bname_remove_side(od->fd, &ob);
	/* keep the names revocation will invalidate in step with the kernel's */
	struct stat st;
	if (fstatat(nd->fd, nb.entry, &st, AT_SYMLINK_NOFOLLOW) == 0)
		itable_rename(&c->it, &st, itable_id(&c->it, nd), newname);
	if ((flags & RENAME_EXCHANGE) && fstatat(od->fd, ob.entry, &st, AT_SYMLINK_NOFOLLOW) == 0)
		itable_rename(&c->it, &st, itable_id(&c->it, od), name);
	r = 0;
	goto out;
out_restore:
	if (cleared && dirid_restore(tfd, saved) < 0)
		log_err("cannot restore directory id after failed rename");
out:
	if (tfd >= 0)
		close(tfd);
	fuse_reply_err(req, -r);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct fsctx *c = ctx_of(req);
	struct inode *in = ino_of(req, ino), *nd = ino_of(req, newparent);
	struct fuse_entry_param e;
	struct bname b;
	char proc[64];
	int r;

	if ((r = dir_bname(c, nd, newname, &b)) < 0)
		goto out;
	if (b.is_long && faccessat(nd->fd, b.entry, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		r = -EEXIST;
		goto out;
	}
	if (b.is_long && (r = bname_write_side(nd->fd, &b)) < 0)
		goto out;
	procpath(proc, in->fd);
	if (linkat(AT_FDCWD, proc, nd->fd, b.entry, AT_SYMLINK_FOLLOW) < 0) {
		r = -errno;
		if (b.is_long)
			bname_remove_side(nd->fd, &b);
		goto out;
	}
	r = ops_entry(c, nd, b.entry, newname, &e);
out:
	ops_reply_entry(req, r, &e);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct fsctx *c = ctx_of(req);
	struct inode *dir = ino_of(req, parent);
	struct fuse_entry_param e;
	struct bname b;
	char *enc = NULL;
	int r;

	if ((r = dir_bname(c, dir, name, &b)) < 0)
		goto out;
	enc = malloc(PATH_MAX);
	if (!enc) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = vol_gate_enter(c->vol)) < 0)
		goto out;
	r = symlink_encrypt(c->vol->keys->link, link, strlen(link), enc, PATH_MAX);
	vol_gate_leave(c->vol);
	if (r < 0)
		goto out;
	if (b.is_long && faccessat(dir->fd, b.entry, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		r = -EEXIST;
		goto out;
	}
	if (b.is_long && (r = bname_write_side(dir->fd, &b)) < 0)
		goto out;
	if (symlinkat(enc, dir->fd, b.entry) < 0) {
		r = -errno;
		if (b.is_long)
			bname_remove_side(dir->fd, &b);
		goto out;
	}
	ops_chown_new(req, dir, b.entry);
	r = ops_entry(c, dir, b.entry, name, &e);
out:
	free(enc);
	ops_reply_entry(req, r, &e);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fsctx *c = ctx_of(req);
	struct inode *in = ino_of(req, ino);
	char *enc = malloc(PATH_MAX), *target = malloc(PATH_MAX);
	ssize_t n;
	int r;

	if (!enc || !target) {
		r = -ENOMEM;
		goto out;
	}
	n = readlinkat(in->fd, "", enc, PATH_MAX - 1);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	if ((r = vol_gate_enter(c->vol)) < 0)
		goto out;
	r = symlink_decrypt(c->vol->keys->link, enc, (size_t)n, target, PATH_MAX);
	if (r < 0 && c->vol->has_old)
		r = symlink_decrypt(c->vol->old_keys->link, enc, (size_t)n, target, PATH_MAX);
	if (r >= 0) {
		fuse_reply_readlink(req, target);
		vol_gate_leave(c->vol);
		free(enc);
		free(target);
		return;
	}
	vol_gate_leave(c->vol);
	atomic_fetch_add(&c->vol->stats.auth_failures, 1);
	log_err("authentication failed: symlink target of backing inode %llu in '%s'",
		(unsigned long long)in->bino, c->vol->backing);
	r = -EIO;
out:
	free(enc);
	free(target);
	fuse_reply_err(req, -r);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct fsctx *c = ctx_of(req);
	struct inode *dir = ino_of(req, parent);
	struct fuse_entry_param e;
	struct bname b;
	int r, fd;

	if (!S_ISREG(mode) && !S_ISFIFO(mode) && !S_ISSOCK(mode)) {
		fuse_reply_err(req, EPERM); /* no device nodes on an encrypted volume */
		return;
	}
	if ((r = dir_bname(c, dir, name, &b)) < 0)
		goto out;
	if (b.is_long && faccessat(dir->fd, b.entry, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		r = -EEXIST;
		goto out;
	}
	if (b.is_long && (r = bname_write_side(dir->fd, &b)) < 0)
		goto out;
	if (S_ISREG(mode)) {
		fd = openat(dir->fd, b.entry, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    mode & 07777);
		if (fd < 0) {
			r = -errno;
		} else {
			r = content_create(c->vol, fd);
			close(fd);
			if (r < 0)
				unlinkat(dir->fd, b.entry, 0);
		}
	} else {
		r = mknodat(dir->fd, b.entry, mode, rdev) < 0 ? -errno : 0;
	}
	if (r < 0) {
		if (b.is_long && r != -EEXIST)
			bname_remove_side(dir->fd, &b);
		goto out;
	}
	ops_chown_new(req, dir, b.entry);
	r = ops_entry(c, dir, b.entry, name, &e);
out:
	ops_reply_entry(req, r, &e);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fsctx *c = ctx_of(req);
	struct statvfs sv;

	(void)ino;
	if (statvfs(c->vol->backing, &sv) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	sv.f_namemax = NAME_PLAIN_MAX; /* long names are stored hashed */
	fuse_reply_statfs(req, &sv);
}

void ops_entry_register(struct fuse_lowlevel_ops *ops)
{
	ops->lookup = op_lookup;
	ops->forget = op_forget;
	ops->forget_multi = op_forget_multi;
	ops->getattr = op_getattr;
	ops->setattr = op_setattr;
	ops->opendir = op_opendir;
	ops->readdir = op_readdir;
	ops->readdirplus = op_readdirplus;
	ops->releasedir = op_releasedir;
	ops->fsyncdir = op_fsyncdir;
	ops->mkdir = op_mkdir;
	ops->rmdir = op_rmdir;
	ops->unlink = op_unlink;
	ops->rename = op_rename;
	ops->link = op_link;
	ops->symlink = op_symlink;
	ops->readlink = op_readlink;
	ops->mknod = op_mknod;
	ops->statfs = op_statfs;
}
