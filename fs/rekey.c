/* SPDX-License-Identifier: MIT */
/*
 * byokfs rekey's walk (see rekey.h). Depth first; in each directory the
 * entries are listed first and then moved, since renaming while reading a
 * directory may skip or repeat entries. Per entry, in this order:
 *   name      decrypts under the current keys: done; under the previous
 *             ones: the new side file (long names), rename(2) to the new
 *             name (RENAME_NOREPLACE), the old side file removed;
 *   header    key epoch current: done; previous: unwrapped and rewrapped
 *             in place (one 104-byte write);
 *   symlink   target re-encrypted into a temporary symlink renamed over
 *             the entry;
 *   xattrs    each one set under its new name before the old one goes;
 *   data      (--data) the content copied into a temporary file under a
 *             new data key, renamed over the entry; holes stay holes.
 * Plaintext names and keys are wiped after use.
 */
#include "fs/rekey.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "crypto/fhdr.h"
#include "crypto/seal.h"
#include "fs/content.h"
#include "fs/io.h"
#include "fs/names.h"

#define TMP_LINK BACKING_RESERVED_PREFIX "rekey.link"
#define TMP_DATA BACKING_RESERVED_PREFIX "rekey.data"
#define XATTR_PREFIX "user.b."
#define XATTR_MAX 65536
#define DATA_CHUNK (1u << 20)

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

struct walk {
	struct vol *v;
	const struct rekey_opts *o;
	struct rekey_stats *st;
	uint64_t total;
	char path[PATH_MAX]; /* backing path of the current directory, relative */
	uint8_t *dek;        /* secure memory: a data key being rewrapped */
	uint8_t *buf;        /* DATA_CHUNK of plaintext (--data) */
};

static void say(struct walk *w, int is_problem, const char *entry, const char *fmt, va_list ap)
{
	char what[512], path[PATH_MAX + NAME_ENC_MAX + 2];

	vsnprintf(what, sizeof(what), fmt, ap);
	snprintf(path, sizeof(path), "%s%s%s", w->path, w->path[0] ? "/" : "", entry);
	if (is_problem)
		w->st->problems++;
	if (w->o->report)
		w->o->report(w->o->ctx, path, what, is_problem);
}

static void problem(struct walk *w, const char *entry, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void notice(struct walk *w, const char *entry, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct walk *w, const char *entry, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(w, 1, entry, fmt, ap);
	va_end(ap);
}

static void notice(struct walk *w, const char *entry, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(w, 0, entry, fmt, ap);
	va_end(ap);
}

/* Entries of a directory other than byokfs's own, "." and "..". */
static char **list_entries(int dirfd, size_t *n)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dp = fd >= 0 ? fdopendir(fd) : NULL;
	char **names = NULL;
	size_t cap = 0;
	struct dirent *de;

	*n = 0;
	if (!dp) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((de = readdir(dp))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || bname_is_internal(de->d_name))
			continue;
		if (*n == cap) {
			char **nn = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));
			if (!nn)
				break;
			names = nn;
		}
		if (!(names[*n] = strdup(de->d_name)))
			break;
		(*n)++;
	}
	closedir(dp);
	return names;
}

static uint64_t count_tree(int dirfd)
{
	size_t n;
	char **names = list_entries(dirfd, &n);
	uint64_t total = n;

	for (size_t i = 0; i < n; i++) {
		struct stat sb;
		if (fstatat(dirfd, names[i], &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode)) {
			int sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				total += count_tree(sub);
				close(sub);
			}
		}
		free(names[i]);
	}
	free(names);
	return total;
}

/* Moves entry's name to the current keys; out gets the entry's name now. */
static int move_name(struct walk *w, int dirfd, const uint8_t dirid[BYOKFS_DIR_ID_BYTES],
		     const char *entry, char out[NAME_ENC_MAX + 1])
{
	char enc[NAME_ENC_MAX + 1], plain[NAME_PLAIN_MAX + 1];
	struct bname nb;
	int n, cur = 0, old = 0, r;

	n = bname_encoding(dirfd, entry, enc);
	if (n < 0) {
		problem(w, entry, "name cannot be read (long-name side file missing or damaged)");
		return -1;
	}
	if ((r = vol_gate_enter(w->v)) < 0)
		return r;
	cur = name_decrypt(&w->v->nk, dirid, enc, (size_t)n, plain) >= 0;
	if (!cur && w->v->has_old)
		old = name_decrypt(&w->v->old_nk, dirid, enc, (size_t)n, plain) >= 0;
	vol_gate_leave(w->v);
	if (cur) {
		sodium_memzero(plain, sizeof(plain));
		snprintf(out, NAME_ENC_MAX + 1, "%s", entry);
		return 0;
	}
	if (!old) {
		problem(w, entry, "name fails authentication under both keys: left as it is");
		return -1;
	}
	r = bname_make(w->v, dirid, plain, &nb);
	sodium_memzero(plain, sizeof(plain));
	if (r < 0)
		return r;
	if (nb.is_long && (r = bname_write_side(dirfd, &nb)) < 0) {
		problem(w, entry, "cannot write a long-name file: %s", strerror(-r));
		return -1;
	}
	if (renameat2(dirfd, entry, dirfd, nb.entry, RENAME_NOREPLACE) < 0) {
		int e = errno;
		if (nb.is_long)
			bname_remove_side(dirfd, &nb);
		problem(w, entry, "cannot rename to the new name: %s", strerror(e));
		return -1;
	}
	if (name_is_long_entry(entry)) {
		char side[NAME_ENC_MAX + sizeof(NAME_LONG_SUFFIX)];
		snprintf(side, sizeof(side), "%s%s", entry, NAME_LONG_SUFFIX);
		unlinkat(dirfd, side, 0);
	}
	w->st->names++;
	snprintf(out, NAME_ENC_MAX + 1, "%s", nb.entry);
	return 0;
}

static void move_header(struct walk *w, int dirfd, const char *entry)
{
	uint8_t raw[FHDR_BYTES];
	struct fhdr h;
	ssize_t n;
	int fd, r;

	fd = openat(dirfd, entry, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		problem(w, entry, "cannot open: %s", strerror(errno));
		return;
	}
	n = io_pread_full(fd, raw, FHDR_BYTES, 0);
	if (n == 0)
		goto out; /* empty, no header yet */
	if (n != FHDR_BYTES || fhdr_decode(&h, raw) != 0) {
		problem(w, entry, "header damaged: left as it is");
		goto out;
	}
	if (h.key_epoch == w->v->desc.key_epoch)
		goto out;
	if (!w->v->has_old || h.key_epoch != w->v->old_epoch) {
		problem(w, entry, "header of unknown key epoch %u: left as it is", h.key_epoch);
		goto out;
	}
	if ((r = vol_gate_enter(w->v)) < 0)
		goto out;
	r = fhdr_unwrap(&h, w->v->old_keys->header, w->v->desc.id, w->dek);
	if (r == 0) {
		fhdr_rewrap(&h, w->dek, w->v->desc.key_epoch, w->v->keys->header, w->v->desc.id);
		fhdr_encode(&h, raw);
	}
	sodium_memzero(w->dek, BYOKFS_KEY_BYTES);
	vol_gate_leave(w->v);
	if (r != 0) {
		problem(w, entry, "header fails authentication: left as it is");
		goto out;
	}
	if ((r = io_pwrite_full(fd, raw, FHDR_BYTES, 0)) < 0) {
		problem(w, entry, "cannot write the header: %s", strerror(-r));
		goto out;
	}
	w->st->headers++;
out:
	close(fd);
}

static void move_link(struct walk *w, int dirfd, const char *entry, const struct stat *sb)
{
	char *enc = malloc(PATH_MAX), *target = malloc(PATH_MAX), *nenc = malloc(PATH_MAX);
	ssize_t n;
	int r = -1;

	if (!enc || !target || !nenc)
		goto out;
	n = readlinkat(dirfd, entry, enc, PATH_MAX - 1);
	if (n < 0) {
		problem(w, entry, "cannot read the symlink: %s", strerror(errno));
		goto out;
	}
	if (vol_gate_enter(w->v) < 0)
		goto out;
	if (symlink_decrypt(w->v->keys->link, enc, (size_t)n, target, PATH_MAX) >= 0) {
		vol_gate_leave(w->v);
		r = 0;
		goto out; /* done already */
	}
	r = w->v->has_old ? symlink_decrypt(w->v->old_keys->link, enc, (size_t)n, target, PATH_MAX) : -1;
	if (r >= 0)
		r = symlink_encrypt(w->v->keys->link, target, (size_t)r, nenc, PATH_MAX);
	sodium_memzero(target, PATH_MAX);
	vol_gate_leave(w->v);
	if (r < 0) {
		problem(w, entry, "symlink target fails authentication: left as it is");
		goto out;
	}
	if (sb->st_nlink > 1) {
		problem(w, entry, "hard-linked symlink: its other names would keep the old target");
		goto out;
	}
	struct timespec ts[2] = {sb->st_atim, sb->st_mtim};
	unlinkat(dirfd, TMP_LINK, 0);
	if (symlinkat(nenc, dirfd, TMP_LINK) < 0 ||
	    fchownat(dirfd, TMP_LINK, sb->st_uid, sb->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    utimensat(dirfd, TMP_LINK, ts, AT_SYMLINK_NOFOLLOW) < 0 ||
	    renameat(dirfd, TMP_LINK, dirfd, entry) < 0) {
		problem(w, entry, "cannot replace the symlink: %s", strerror(errno));
		unlinkat(dirfd, TMP_LINK, 0);
		goto out;
	}
	w->st->links++;
out:
	free(enc);
	free(target);
	free(nenc);
}

static void move_xattrs(struct walk *w, int dirfd, const char *entry)
{
	char proc[64], *list = NULL, nname[NAME_ENC_MAX + 16], plain[NAME_PLAIN_MAX + 1], enc[NAME_ENC_MAX + 1];
	uint8_t *val = malloc(XATTR_MAX + SEAL_OVERHEAD), *pv = malloc(XATTR_MAX),
		*sealed = malloc(XATTR_MAX + SEAL_OVERHEAD);
	int fd = openat(dirfd, entry, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || !val || !pv || !sealed)
		goto out;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = listxattr(proc, NULL, 0);
	if (n <= 0 || !(list = malloc((size_t)n)) || (n = listxattr(proc, list, (size_t)n)) <= 0)
		goto out;
	for (char *p = list; p < list + n; p += strlen(p) + 1) {
		if (strncmp(p, XATTR_PREFIX, strlen(XATTR_PREFIX)))
			continue;
		const char *e = p + strlen(XATTR_PREFIX);
		int pl, cur = 0, r;
		long vl = -1;
		if (vol_gate_enter(w->v) < 0)
			goto out;
		cur = name_decrypt(&w->v->nk, xattr_dirid, e, strlen(e), plain) >= 0;
		pl = !cur && w->v->has_old ? name_decrypt(&w->v->old_nk, xattr_dirid, e, strlen(e), plain) : -1;
		vol_gate_leave(w->v);
		if (cur)
			continue;
		if (pl < 0) {
			problem(w, entry, "extended attribute name fails authentication: left as it is");
			continue;
		}
		ssize_t sl = getxattr(proc, p, val, XATTR_MAX + SEAL_OVERHEAD);
		if (sl < 0) {
			problem(w, entry, "cannot read an extended attribute: %s", strerror(errno));
			continue;
		}
		if (vol_gate_enter(w->v) < 0)
			goto out;
		vl = unseal(w->v->old_keys->xattr, (const uint8_t *)p, strlen(p), val, (size_t)sl, pv);
		r = name_encrypt(&w->v->nk, xattr_dirid, plain, (size_t)pl, enc);
		if (vl >= 0 && r > 0) {
			snprintf(nname, sizeof(nname), "%s%s", XATTR_PREFIX, enc);
			seal(w->v->keys->xattr, (const uint8_t *)nname, strlen(nname), pv, (size_t)vl, sealed);
		}
		sodium_memzero(plain, sizeof(plain));
		sodium_memzero(pv, XATTR_MAX);
		vol_gate_leave(w->v);
		if (vl < 0 || r <= 0) {
			problem(w, entry, "extended attribute value fails authentication: left as it is");
			continue;
		}
		/* the new copy first: a crash between leaves both, never neither */
		if (setxattr(proc, nname, sealed, (size_t)vl + SEAL_OVERHEAD, 0) < 0) {
			problem(w, entry, "cannot write an extended attribute: %s", strerror(errno));
			continue;
		}
		removexattr(proc, p);
		w->st->xattrs++;
	}
out:
	if (fd >= 0)
		close(fd);
	free(list);
	free(val);
	free(pv);
	free(sealed);
}

struct sink {
	uint8_t *buf;
	size_t len;
};

static int copy_out(void *ctx, const void *data, size_t len)
{
	struct sink *s = ctx;
	if (len)
		memcpy(s->buf, data, len);
	s->len = len;
	return 0;
}

/* Copies the raw (sealed) user attributes: their values are not bound to the file. */
static void copy_xattrs(int from, int to)
{
	char pf[64], pt[64], *list = NULL;
	uint8_t *val = malloc(XATTR_MAX + SEAL_OVERHEAD);
	ssize_t n;

	snprintf(pf, sizeof(pf), "/proc/self/fd/%d", from);
	snprintf(pt, sizeof(pt), "/proc/self/fd/%d", to);
	n = listxattr(pf, NULL, 0);
	if (!val || n <= 0 || !(list = malloc((size_t)n)) || (n = listxattr(pf, list, (size_t)n)) <= 0)
		goto out;
	for (char *p = list; p < list + n; p += strlen(p) + 1) {
		if (strncmp(p, XATTR_PREFIX, strlen(XATTR_PREFIX)))
			continue;
		ssize_t l = getxattr(pf, p, val, XATTR_MAX + SEAL_OVERHEAD);
		if (l >= 0)
			setxattr(pt, p, val, (size_t)l, 0);
	}
out:
	free(list);
	free(val);
}

static void move_data(struct walk *w, int dirfd, const char *entry, const struct stat *sb)
{
	struct fcontent src, dst;
	struct sink sk = {w->buf, 0};
	int sfd, dfd, r = 0;
	uint64_t size;

	if (sb->st_nlink > 1) {
		notice(w, entry, "hard-linked file keeps its data key (--data skips hard links)");
		w->st->kept_data++;
		return;
	}
	sfd = openat(dirfd, entry, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0 || (r = content_init(w->v, &src, sfd, 0, 0)) < 0) {
		problem(w, entry, "cannot read for a new data key: %s", strerror(sfd < 0 ? errno : -r));
		return;
	}
	unlinkat(dirfd, TMP_DATA, 0);
	dfd = openat(dirfd, TMP_DATA, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     sb->st_mode & 07777);
	if (dfd < 0 || (r = content_init_new(w->v, &dst, dfd)) < 0) {
		problem(w, entry, "cannot create a temporary file: %s", strerror(dfd < 0 ? errno : -r));
		content_release(w->v, &src);
		unlinkat(dirfd, TMP_DATA, 0);
		return;
	}
	size = content_size(&src);
	for (uint64_t off = 0; off < size && r >= 0; off += DATA_CHUNK) {
		size_t n = size - off > DATA_CHUNK ? DATA_CHUNK : (size_t)(size - off);
		ssize_t got = content_read(w->v, &src, n, off, copy_out, &sk);
		if (got != (ssize_t)n) {
			r = got < 0 ? (int)got : -EIO;
			break;
		}
		/* zeros stay holes (a hole reads as zeros): sparse files stay sparse */
		if (sodium_is_zero(w->buf, n))
			continue;
		ssize_t wr = content_write(w->v, &dst, w->buf, n, off);
		if (wr < 0)
			r = (int)wr;
	}
	sodium_memzero(w->buf, DATA_CHUNK);
	if (r >= 0)
		r = content_truncate(w->v, &dst, size);
	if (r >= 0 && fsync(dst.fd) < 0)
		r = -errno;
	if (r >= 0) {
		struct timespec ts[2] = {sb->st_atim, sb->st_mtim};
		copy_xattrs(src.fd, dst.fd);
		if (fchown(dst.fd, sb->st_uid, sb->st_gid) < 0 || futimens(dst.fd, ts) < 0 ||
		    renameat(dirfd, TMP_DATA, dirfd, entry) < 0)
			r = -errno;
	}
	if (r < 0) {
		problem(w, entry, "cannot re-encrypt under a new data key: %s", strerror(-r));
		unlinkat(dirfd, TMP_DATA, 0);
	} else {
		w->st->data_files++;
	}
	content_release(w->v, &src);
	content_release(w->v, &dst);
}

static void walk_dir(struct walk *w, int dirfd)
{
	uint8_t dirid[BYOKFS_DIR_ID_BYTES];
	size_t n, plen = strlen(w->path);
	char **names;

	/* leftovers of a run that was killed */
	unlinkat(dirfd, TMP_LINK, 0);
	unlinkat(dirfd, TMP_DATA, 0);
	if (dirid_read(dirfd, dirid) < 0) {
		problem(w, ".", "directory id missing or damaged: its entries are left as they are");
		return;
	}
	names = list_entries(dirfd, &n);
	for (size_t i = 0; i < n; i++) {
		char entry[NAME_ENC_MAX + 1];
		struct stat sb;

		w->st->entries++;
		if (move_name(w, dirfd, dirid, names[i], entry) < 0)
			goto next;
		if (fstatat(dirfd, entry, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			problem(w, entry, "cannot stat: %s", strerror(errno));
			goto next;
		}
		if (S_ISREG(sb.st_mode)) {
			move_header(w, dirfd, entry);
			if (w->o->data)
				move_data(w, dirfd, entry, &sb);
		}
		if (S_ISLNK(sb.st_mode))
			move_link(w, dirfd, entry, &sb);
		else
			move_xattrs(w, dirfd, entry);
		if (S_ISDIR(sb.st_mode)) {
			int sub = openat(dirfd, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				problem(w, entry, "cannot open the directory: %s", strerror(errno));
			} else {
				snprintf(w->path + plen, sizeof(w->path) - plen, "%s%s", plen ? "/" : "", entry);
				walk_dir(w, sub);
				w->path[plen] = '\0';
				close(sub);
			}
		}
next:
		if (w->o->progress)
			w->o->progress(w->o->ctx, w->st, w->total);
		free(names[i]);
	}
	free(names);
}

int rekey_walk(struct vol *v, const struct rekey_opts *o, struct rekey_stats *st)
{
	struct walk w = {.v = v, .o = o, .st = st};
	int root = openat(v->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	memset(st, 0, sizeof(*st));
	if (root < 0)
		return -errno;
	w.dek = secmem_alloc(BYOKFS_KEY_BYTES);
	w.buf = o->data ? malloc(DATA_CHUNK) : NULL;
	if (!w.dek || (o->data && !w.buf)) {
		r = -ENOMEM;
		goto out;
	}
	if (o->progress)
		w.total = count_tree(root);
	move_xattrs(&w, root, ".");
	walk_dir(&w, root);
	/* everything moved is on disk before the caller forgets the old key */
	if (syncfs(root) < 0)
		r = -errno;
out:
	close(root);
	if (w.dek)
		secmem_free(w.dek);
	free(w.buf);
	secmem_wipe_stack();
	return r;
}
