/* SPDX-License-Identifier: MIT */
/*
 * The fsck walk (see fsck.h).
 *
 * Directories are read whole and their entries sorted, so reports come in
 * a stable order and a long name's side file is found by binary search.
 * One descriptor is held per directory level (openat down the tree), so
 * depth is not limited by PATH_MAX.
 *
 * File contents: content_init() authenticates the header and loads the
 * data key exactly as a mount does, and content_read() over the file gives
 * the mount's verdict; a failed stretch is then gone through block by block
 * with the block AEAD to say which blocks fail and why. Findings about the
 * end of a file (torn, cut, missing or failing final block) are what
 * --repair can fix.
 */
#include "fs/fsck.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "crypto/blk.h"
#include "crypto/seal.h"
#include "fs/content.h"
#include "fs/io.h"
#include "fs/names.h"

#define XATTR_PREFIX "user.b."
#define XATTR_VALUE_MAX 65536
#define READ_CHUNK (1u << 20)

/* docs/FORMAT.md section 7: attribute names use this fixed directory id */

/* A growing path: push a component, pop back to a saved length. */
struct pbuf {
	char *s;
	size_t len, cap;
	int oom;
	int rooted; /* every component starts with '/' */
};

static size_t pb_push(struct pbuf *p, const char *name)
{
	size_t old = p->len, n = strlen(name), need = old + n + 2;

	if (need > p->cap) {
		size_t cap = p->cap ? p->cap : 256;
		while (cap < need)
			cap *= 2;
		char *s = realloc(p->s, cap);
		if (!s) {
			p->oom = 1;
			return old;
		}
		p->s = s;
		p->cap = cap;
	}
	if (old > 0 || p->rooted)
		p->s[p->len++] = '/';
	memcpy(p->s + p->len, name, n + 1);
	p->len += n;
	return old;
}

static void pb_pop(struct pbuf *p, size_t len)
{
	p->len = len;
	if (p->s)
		p->s[len] = '\0';
}

/* (dev, ino) of hard-linked files already checked: open addressing. */
struct iset {
	uint64_t *k; /* pairs; (0, 0) empty */
	size_t cap, n;
};

/* 1 if (dev, ino) was in the set; adds it otherwise. */
static int iset_add(struct iset *s, uint64_t dev, uint64_t ino)
{
	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		uint64_t *k = calloc(cap, 2 * sizeof(uint64_t));
		if (!k)
			return 0; /* check it again rather than fail */
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->k[2 * i] && !s->k[2 * i + 1])
				continue;
			size_t j = (s->k[2 * i] * 31 + s->k[2 * i + 1]) * 0x9e3779b97f4a7c15ULL % cap;
			while (k[2 * j] || k[2 * j + 1])
				j = (j + 1) % cap;
			k[2 * j] = s->k[2 * i];
			k[2 * j + 1] = s->k[2 * i + 1];
		}
		free(s->k);
		s->k = k;
		s->cap = cap;
	}
	dev++; /* never (0, 0) */
	size_t j = (dev * 31 + ino) * 0x9e3779b97f4a7c15ULL % s->cap;
	while (s->k[2 * j] || s->k[2 * j + 1]) {
		if (s->k[2 * j] == dev && s->k[2 * j + 1] == ino)
			return 1;
		j = (j + 1) % s->cap;
	}
	s->k[2 * j] = dev;
	s->k[2 * j + 1] = ino;
	s->n++;
	return 0;
}

struct walk {
	struct vol *v;
	const struct fsck_opts *o;
	struct fsck_stats *st;
	uint64_t files_total, bytes_total;
	struct iset links, counted; /* hard-linked files checked / counted */
	struct pbuf path, plain;
	unsigned plain_unknown;  /* components of path whose name is not known */
	int entry_damaged;       /* the current entry has a damaged finding */
	uint8_t *ct, *pt;        /* one stored block, one plaintext block */
	char *xlist;             /* listxattr buffer */
	uint8_t *xval, *xplain;
};

static void report(struct walk *w, enum fsck_kind kind, int64_t block, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct walk *w, enum fsck_kind kind, int64_t block, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	struct fsck_finding f = {
		.kind = kind,
		.path = w->path.len ? w->path.s : ".",
		.plain = w->plain_unknown ? NULL : (w->plain.len ? w->plain.s : "/"),
		.block = block,
		.what = what,
	};

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	switch (kind) {
	case FSCK_DAMAGED:
		w->st->damaged++;
		if (block >= 0)
			w->st->damaged_blocks++;
		if (!w->entry_damaged)
			w->st->damaged_files++;
		w->entry_damaged = 1;
		break;
	case FSCK_ORPHAN:
		w->st->orphans++;
		break;
	case FSCK_REPAIRED:
		w->st->repaired++;
		break;
	case FSCK_UNCHECKED:
		w->st->unchecked++;
		break;
	case FSCK_UNREPAIRED:
		break;
	}
	if (w->o->report)
		w->o->report(w->o->ctx, &f);
}



/* ---- names, symlinks, xattrs ---- */

/* Decrypts an encoding (the current keys, or the previous ones mid-rekey). */
static int decrypt_name(struct walk *w, const uint8_t dirid[BYOKFS_DIR_ID_BYTES], const char *enc,
			size_t len, char out[NAME_PLAIN_MAX + 1])
{
	int n;

	if (vol_gate_enter(w->v) < 0)
		return -EKEYREVOKED;
	n = bname_decrypt(w->v, dirid, enc, len, out);
	vol_gate_leave(w->v);
	return n;
}

static void check_xattrs(struct walk *w, int fd)
{
	ssize_t n = flistxattr(fd, w->xlist, 65536);
	char name[NAME_PLAIN_MAX + 1];

	if (n < 0) {
		if (errno != ENOTSUP && errno != EOPNOTSUPP)
			report(w, FSCK_UNCHECKED, -1, "cannot list extended attributes: %s",
			       strerror(errno));
		return;
	}
	for (char *p = w->xlist; p < w->xlist + n; p += strlen(p) + 1) {
		const char *enc = p + strlen(XATTR_PREFIX);
		int nl, old = 0;
		if (strncmp(p, XATTR_PREFIX, strlen(XATTR_PREFIX)) != 0)
			continue; /* not byokfs's: not shown by a mount */
		if (vol_gate_enter(w->v) < 0)
			return;
		nl = name_decrypt(&w->v->nk, xattr_dirid, enc, strlen(enc), name);
		if (nl < 0 && w->v->has_old) {
			nl = name_decrypt(&w->v->old_nk, xattr_dirid, enc, strlen(enc), name);
			old = 1;
		}
		vol_gate_leave(w->v);
		if (nl < 0) {
			report(w, FSCK_DAMAGED, -1, "extended attribute name fails authentication");
			continue;
		}
		ssize_t vl = fgetxattr(fd, p, w->xval, XATTR_VALUE_MAX + SEAL_OVERHEAD);
		if (vl < 0) {
			report(w, FSCK_UNCHECKED, -1, "cannot read extended attribute 'user.%s': %s", name,
			       strerror(errno));
			continue;
		}
		if (vol_gate_enter(w->v) < 0)
			return;
		long pl = unseal(old ? w->v->old_keys->xattr : w->v->keys->xattr, (const uint8_t *)p,
				 strlen(p), w->xval, (size_t)vl, w->xplain);
		vol_gate_leave(w->v);
		sodium_memzero(w->xplain, XATTR_VALUE_MAX);
		if (pl < 0)
			report(w, FSCK_DAMAGED, -1, "extended attribute 'user.%s': value fails authentication",
			       name);
	}
}

static void check_symlink(struct walk *w, int dfd, const char *entry)
{
	char enc[PATH_MAX], target[PATH_MAX];
	ssize_t n = readlinkat(dfd, entry, enc, sizeof(enc) - 1);
	int r;

	w->st->symlinks++;
	if (n < 0) {
		report(w, FSCK_UNCHECKED, -1, "cannot read symlink: %s", strerror(errno));
		return;
	}
	enc[n] = '\0';
	if (vol_gate_enter(w->v) < 0)
		return;
	r = symlink_decrypt(w->v->keys->link, enc, (size_t)n, target, sizeof(target));
	if (r < 0 && w->v->has_old)
		r = symlink_decrypt(w->v->old_keys->link, enc, (size_t)n, target, sizeof(target));
	vol_gate_leave(w->v);
	sodium_memzero(target, sizeof(target));
	if (r < 0)
		report(w, FSCK_DAMAGED, -1, "symlink target fails authentication");
}

/* ---- file contents ---- */

enum blk_verdict { BLK_GOOD, BLK_BAD, BLK_NOT_FINAL, BLK_SHORT };

static uint64_t blk_pos(const struct vol *v, uint64_t i)
{
	return FHDR_BYTES + i * vol_slot_size(v);
}

/*
 * Reads and authenticates stored block i (stored bytes) with the reading
 * rules: a hole or either final flag for a block that is not the last,
 * final = 1 for the last. Leaves the plaintext in w->pt; *len gets its length.
 */
static enum blk_verdict check_block(struct walk *w, struct fcontent *fc, int fd, uint64_t i,
				    size_t stored, int is_last, size_t *len)
{
	struct vol *v = w->v;
	ssize_t got = io_pread_full(fd, w->ct, stored, blk_pos(v, i));
	long n;

	*len = 0;
	if (got < 0 || (size_t)got < stored)
		return BLK_SHORT;
	if (!is_last && blk_is_hole(w->ct, stored)) {
		memset(w->pt, 0, stored - v->overhead);
		*len = stored - v->overhead;
		return BLK_GOOD;
	}
	if (vol_gate_enter(v) < 0)
		return BLK_BAD;
	n = blk_decrypt(fc->key, fc->hdr.file_id, i, is_last, w->ct, stored, w->pt);
	if (n < 0 && !is_last)
		n = blk_decrypt(fc->key, fc->hdr.file_id, i, 1, w->ct, stored, w->pt);
	if (n < 0 && is_last && blk_decrypt(fc->key, fc->hdr.file_id, i, 0, w->ct, stored, w->pt) >= 0) {
		vol_gate_leave(v);
		*len = stored - v->overhead;
		return BLK_NOT_FINAL;
	}
	vol_gate_leave(v);
	if (n < 0)
		return BLK_BAD;
	*len = (size_t)n;
	return BLK_GOOD;
}

static int discard(void *ctx, const void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

/* How a file ends. */
enum tail {
	TAIL_OK,
	TAIL_BAD,       /* the final block fails authentication */
	TAIL_NOT_FINAL, /* the last block is an inner block: cut at a block boundary */
	TAIL_TORN,      /* a final block shorter than nonce + tag */
	TAIL_EMPTY,     /* an empty final block after full blocks (no writer makes it) */
	TAIL_NONE,      /* header only */
};

/*
 * Makes block k the final block (k < 0: an empty file): re-encrypts it
 * with final = 1 in place, then cuts the file behind it. Only called with
 * block k readable. Returns 0 or -errno.
 */
static int repair_tail(struct walk *w, struct fcontent *fc, int dfd, const char *entry,
		       int64_t k, size_t stored, uint64_t *newsize)
{
	struct vol *v = w->v;
	uint8_t nonce[BLK_NONCE_MAX];
	size_t len = 0;
	int fd, r;

	fd = openat(dfd, entry, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (k >= 0) {
		/* the plaintext of block k, read again through the checks */
		if (check_block(w, fc, fd, (uint64_t)k, stored, 0, &len) != BLK_GOOD) {
			r = -EBADMSG;
			goto out;
		}
	}
	randombytes_buf(nonce, blk_nonce_bytes(v->cipher));
	if ((r = vol_gate_enter(v)) < 0)
		goto out;
	blk_encrypt(fc->key, fc->hdr.file_id, k >= 0 ? (uint64_t)k : 0, 1, nonce, w->pt, len, w->ct);
	vol_gate_leave(v);
	sodium_memzero(w->pt, len);
	uint64_t pos = blk_pos(v, k >= 0 ? (uint64_t)k : 0), end = pos + len + v->overhead;
	if (k >= 0) {
		/* in place first: interrupted here, the old final block is still
		 * there behind it and a second run does the rest */
		if ((r = io_pwrite_full(fd, w->ct, len + v->overhead, pos)) < 0 ||
		    (fdatasync(fd) < 0 && (r = -errno)))
			goto out;
		if (ftruncate(fd, (off_t)end) < 0) {
			r = -errno;
			goto out;
		}
	} else {
		if (ftruncate(fd, (off_t)pos) < 0 ||
		    (r = io_pwrite_full(fd, w->ct, len + v->overhead, pos)) < 0) {
			r = r < 0 ? r : -errno;
			goto out;
		}
	}
	r = fsync(fd) < 0 ? -errno : 0;
	*newsize = k >= 0 ? ((uint64_t)k << v->block_shift) + len : 0;
out:
	close(fd);
	return r;
}

static void check_file(struct walk *w, int dfd, const char *entry, const struct stat *lst)
{
	struct vol *v = w->v;
	uint8_t raw[FHDR_BYTES];
	struct fcontent fc;
	struct fhdr h;
	struct stat st;
	uint64_t body, n, rem, nstored, last = 0, size;
	enum tail tail = TAIL_OK;
	int64_t tail_block = -1;
	int fd, fd2, r, have_fc = 0;
	size_t len;

	if (lst->st_nlink > 1 && iset_add(&w->links, (uint64_t)lst->st_dev, (uint64_t)lst->st_ino))
		return; /* another name of a file checked already */
	w->st->files++;
	fd = openat(dfd, entry, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		report(w, FSCK_UNCHECKED, -1, "cannot open: %s", strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0) {
		report(w, FSCK_UNCHECKED, -1, "changed while being checked");
		close(fd);
		return;
	}
	check_xattrs(w, fd);
	if (st.st_size == 0) {
		close(fd);
		return; /* created, never written: an empty file */
	}

	/* the header, diagnosed here so that content_init() only ever succeeds */
	ssize_t got = io_pread_full(fd, raw, FHDR_BYTES, 0);
	if (got < 0) {
		report(w, FSCK_UNCHECKED, -1, "cannot read: %s", strerror((int)-got));
		goto out;
	}
	if (got < FHDR_BYTES) {
		report(w, FSCK_DAMAGED, -1, "header: cut short (%zd of %d bytes)", got, FHDR_BYTES);
		goto out;
	}
	if (fhdr_decode(&h, raw) != 0) {
		report(w, FSCK_DAMAGED, -1, "header: not a byokfs file header");
		goto out;
	}
	if (h.cipher != v->cipher || h.block_shift != v->block_shift) {
		report(w, FSCK_DAMAGED, -1, "header: cipher or block size differs from the volume's");
		goto out;
	}
	if ((r = vol_gate_enter(v)) < 0)
		goto out;
	{
		uint8_t dek[BYOKFS_KEY_BYTES];
		const uint8_t *hk = vol_header_key(v, h.key_epoch);
		r = hk ? fhdr_unwrap(&h, hk, v->desc.id, dek) : -ENOKEY;
		sodium_memzero(dek, sizeof(dek));
	}
	vol_gate_leave(v);
	if (r == -ENOKEY) {
		report(w, FSCK_DAMAGED, -1, "header: key epoch %u is not the volume's (%u)", h.key_epoch,
		       v->desc.key_epoch);
		goto out;
	}
	if (r < 0) {
		report(w, FSCK_DAMAGED, -1, "header: fails authentication");
		goto out;
	}

	/* the layout: docs/FORMAT.md 3.2 */
	body = (uint64_t)st.st_size - FHDR_BYTES;
	n = body / vol_slot_size(v);
	rem = body % vol_slot_size(v);
	if (body == 0) {
		tail = TAIL_NONE;
		nstored = 0;
	} else if (rem > 0 && rem < v->overhead) {
		tail = TAIL_TORN;
		tail_block = (int64_t)n;
		nstored = n;
	} else if (rem == v->overhead && n > 0) {
		tail = TAIL_EMPTY;
		tail_block = (int64_t)n;
		nstored = n;
	} else {
		nstored = rem ? n + 1 : n;
		last = nstored - 1;
	}

	fd2 = dup(fd);
	if (fd2 < 0 || (r = content_init(v, &fc, fd2, 0, tail != TAIL_OK)) < 0) {
		report(w, FSCK_UNCHECKED, -1, "cannot load the data key: %s",
		       strerror(fd2 < 0 ? errno : -r));
		goto out;
	}
	have_fc = 1;
	atomic_store(&fc.auth_logged, 1); /* we report; the block layer need not log */
	size = content_size(&fc);
	w->st->blocks += nstored;

	if (tail == TAIL_OK && size > 0) {
		/* the mount's verdict, a chunk at a time; failed chunks block by block */
		size_t chunk = READ_CHUNK > v->block_size ? READ_CHUNK : v->block_size;
		for (uint64_t off = 0; off < size; off += chunk) {
			size_t want = size - off < chunk ? (size_t)(size - off) : chunk;
			ssize_t rr = content_read(v, &fc, want, off, discard, NULL);
			if (rr >= 0)
				continue;
			if (rr != -EIO) {
				report(w, FSCK_UNCHECKED, -1, "cannot read: %s", strerror((int)-rr));
				goto out;
			}
			for (uint64_t i = off >> v->block_shift; i <= (off + want - 1) >> v->block_shift; i++) {
				size_t stored = i == last ? (size_t)(st.st_size - (off_t)blk_pos(v, i))
							  : vol_slot_size(v);
				enum blk_verdict b = check_block(w, &fc, fd, i, stored, i == last, &len);
				if (b == BLK_GOOD)
					continue;
				if (i == last) {
					tail = b == BLK_NOT_FINAL ? TAIL_NOT_FINAL : TAIL_BAD;
					tail_block = (int64_t)i;
				} else {
					report(w, FSCK_DAMAGED, (int64_t)i, b == BLK_SHORT ? "cut short"
											   : "fails authentication");
				}
			}
		}
	} else if (tail == TAIL_OK) {
		/* an empty file's empty final block: no read ever checks it */
		enum blk_verdict b = check_block(w, &fc, fd, 0, v->overhead, 1, &len);
		if (b != BLK_GOOD) {
			tail = TAIL_BAD;
			tail_block = 0;
		}
	} else {
		/* the complete blocks in front of a broken end */
		for (uint64_t i = 0; i < nstored; i++) {
			enum blk_verdict b = check_block(w, &fc, fd, i, vol_slot_size(v), 0, &len);
			if (b != BLK_GOOD)
				report(w, FSCK_DAMAGED, (int64_t)i, "fails authentication");
		}
	}
	sodium_memzero(w->pt, v->block_size);

	int64_t k = -2; /* the block that becomes final on repair; -1: none (empty file) */
	switch (tail) {
	case TAIL_OK:
		break;
	case TAIL_BAD:
		report(w, FSCK_DAMAGED, tail_block, "final block fails authentication");
		k = tail_block - 1;
		break;
	case TAIL_NOT_FINAL:
		report(w, FSCK_DAMAGED, tail_block,
		       "not marked final: the blocks after it are missing (cut at a block boundary)");
		k = tail_block;
		break;
	case TAIL_TORN:
		report(w, FSCK_DAMAGED, tail_block, "torn final block (%llu bytes, less than nonce and tag)",
		       (unsigned long long)rem);
		k = tail_block - 1;
		break;
	case TAIL_EMPTY:
		report(w, FSCK_DAMAGED, tail_block, "empty final block after full blocks");
		k = tail_block - 1;
		break;
	case TAIL_NONE:
		report(w, FSCK_DAMAGED, -1, "no final block: the file was cut after its header");
		k = -1;
		break;
	}
	if (k > -2 && w->o->repair) {
		uint64_t newsize = 0;
		size_t stored = k >= 0 && (uint64_t)k == last && tail == TAIL_NOT_FINAL
					? (size_t)((uint64_t)st.st_size - blk_pos(v, last))
					: vol_slot_size(v);
		r = repair_tail(w, &fc, dfd, entry, k, stored, &newsize);
		if (r == -EBADMSG)
			report(w, FSCK_UNREPAIRED, -1,
			       "block %lld in front of the damaged end does not read either",
			       (long long)k);
		else if (r < 0)
			report(w, FSCK_UNREPAIRED, -1, "%s", strerror(-r));
		else if (k < 0)
			report(w, FSCK_REPAIRED, -1, "wrote an empty final block: the file is empty now");
		else if (tail == TAIL_NOT_FINAL)
			report(w, FSCK_REPAIRED, -1, "block %lld re-encrypted as the final block: %llu bytes remain",
			       (long long)k, (unsigned long long)newsize);
		else
			report(w, FSCK_REPAIRED, -1,
			       "dropped block %lld, block %lld re-encrypted as the final block: %llu bytes remain",
			       (long long)tail_block, (long long)k, (unsigned long long)newsize);
	}
out:
	w->st->bytes += (uint64_t)st.st_size;
	if (have_fc)
		content_release(v, &fc);
	close(fd);
}

/* ---- directories ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted entry names of a directory, NULL-terminated; NULL on error (errno). */
static char **read_entries(int dfd, size_t *count)
{
	int fd = dup(dfd);
	DIR *dp;
	struct dirent *de;
	char **list = NULL;
	size_t n = 0, cap = 0;

	if (fd < 0)
		return NULL;
	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return NULL;
	}
	rewinddir(dp);
	for (;;) {
		errno = 0;
		de = readdir(dp);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n + 2 > cap) {
			cap = cap ? 2 * cap : 64;
			char **l = realloc(list, cap * sizeof(*l));
			if (!l) {
				errno = ENOMEM;
				break;
			}
			list = l;
		}
		if (!(list[n] = strdup(de->d_name))) {
			errno = ENOMEM;
			break;
		}
		n++;
	}
	int e = errno;
	closedir(dp);
	if (e) {
		for (size_t i = 0; i < n; i++)
			free(list[i]);
		free(list);
		errno = e;
		return NULL;
	}
	if (!list && !(list = calloc(1, sizeof(*list))))
		return NULL;
	qsort(list, n, sizeof(*list), cmp_str);
	list[n] = NULL;
	*count = n;
	return list;
}

static int has_entry(char **list, size_t n, const char *name)
{
	return bsearch(&name, list, n, sizeof(*list), cmp_str) != NULL;
}

static int is_side_file(const char *e)
{
	size_t s = strlen(NAME_LONG_SUFFIX);
	return strlen(e) == NAME_LONG_CHARS + s && !strncmp(e, NAME_LONG_PREFIX, 2) &&
	       !strcmp(e + NAME_LONG_CHARS, NAME_LONG_SUFFIX);
}

static void progress(struct walk *w)
{
	if (w->o->progress)
		w->o->progress(w->o->ctx, w->st, w->files_total, w->bytes_total);
}

static void walk_dir(struct walk *w, int dfd);

static void check_entry(struct walk *w, int dfd, const uint8_t *dirid, char **list, size_t count,
			const char *entry)
{
	char enc[NAME_ENC_MAX + 1], name[NAME_PLAIN_MAX + 1];
	struct stat st;
	size_t psave, plsave;
	int known = 0, r;

	psave = pb_push(&w->path, entry);
	plsave = w->plain.len;
	w->plain_unknown++; /* until the name decrypts */
	w->entry_damaged = 0;
	if (dirid) {
		r = 0;
		if (name_is_long_entry(entry)) {
			char side[NAME_LONG_CHARS + sizeof(NAME_LONG_SUFFIX)];
			snprintf(side, sizeof(side), "%s%s", entry, NAME_LONG_SUFFIX);
			if (!has_entry(list, count, side)) {
				report(w, FSCK_DAMAGED, -1, "long name: side file %s is missing", side);
				r = -1;
			} else if ((r = bname_encoding(dfd, entry, enc)) == -EBADMSG) {
				report(w, FSCK_DAMAGED, -1, "long name: side file %s does not match its hash",
				       side);
			} else if (r < 0) {
				report(w, FSCK_UNCHECKED, -1, "cannot read side file %s: %s", side,
				       strerror(-r));
			}
		} else {
			snprintf(enc, sizeof(enc), "%s", entry);
			r = (int)strlen(enc);
		}
		if (r > 0) {
			if (decrypt_name(w, dirid, enc, (size_t)r, name) < 0) {
				report(w, FSCK_DAMAGED, -1, "name fails authentication");
			} else {
				known = 1;
				w->plain_unknown--;
				pb_push(&w->plain, name);
			}
			sodium_memzero(name, sizeof(name));
		}
	}

	if (fstatat(dfd, entry, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		report(w, FSCK_UNCHECKED, -1, "cannot stat: %s", strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		check_file(w, dfd, entry, &st);
		progress(w);
	} else if (S_ISDIR(st.st_mode)) {
		int sub = openat(dfd, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			report(w, FSCK_UNCHECKED, -1, "cannot open directory: %s", strerror(errno));
		} else {
			walk_dir(w, sub);
			close(sub);
		}
	} else if (S_ISLNK(st.st_mode)) {
		check_symlink(w, dfd, entry);
	} else {
		w->st->others++; /* FIFOs and sockets carry nothing encrypted */
	}

	if (known)
		pb_pop(&w->plain, plsave);
	else
		w->plain_unknown--;
	pb_pop(&w->path, psave);
}

static void walk_dir(struct walk *w, int dfd)
{
	uint8_t dirid[BYOKFS_DIR_ID_BYTES];
	int have_id = 0, r;
	size_t count = 0, save;
	char **list;

	w->st->dirs++;
	check_xattrs(w, dfd);
	r = dirid_read(dfd, dirid);
	if (r == 0) {
		have_id = 1;
	} else {
		save = pb_push(&w->path, DIRID_FILE);
		if (r == -EIO)
			report(w, FSCK_DAMAGED, -1,
			       "directory id missing or damaged: no name in this directory can be decrypted");
		else
			report(w, FSCK_UNCHECKED, -1, "cannot read the directory id: %s", strerror(-r));
		pb_pop(&w->path, save);
	}
	list = read_entries(dfd, &count);
	if (!list) {
		report(w, FSCK_UNCHECKED, -1, "cannot read directory: %s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < count; i++) {
		const char *e = list[i];
		if (!strncmp(e, BACKING_RESERVED_PREFIX, strlen(BACKING_RESERVED_PREFIX)))
			continue; /* the descriptor, directory ids, and what readers ignore */
		if (is_side_file(e)) {
			char entry[NAME_LONG_CHARS + 1];
			memcpy(entry, e, NAME_LONG_CHARS);
			entry[NAME_LONG_CHARS] = '\0';
			if (has_entry(list, count, entry))
				continue; /* checked with its entry */
			save = pb_push(&w->path, e);
			w->plain_unknown++;
			report(w, FSCK_ORPHAN, -1, "long-name side file without its entry");
			if (w->o->repair) {
				if (unlinkat(dfd, e, 0) == 0)
					report(w, FSCK_REPAIRED, -1, "removed the orphaned side file");
				else
					report(w, FSCK_UNREPAIRED, -1, "%s", strerror(errno));
			}
			w->plain_unknown--;
			pb_pop(&w->path, save);
			continue;
		}
		check_entry(w, dfd, have_id ? dirid : NULL, list, count, e);
	}
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

/* First pass for progress: files and their backing bytes. */
static void count_dir(struct walk *w, int dfd, unsigned depth)
{
	size_t count = 0;
	char **list = read_entries(dfd, &count);
	struct stat st;

	if (!list)
		return;
	for (size_t i = 0; i < count; i++) {
		if (list[i][0] == '.' && !name_is_long_entry(list[i]))
			continue;
		if (fstatat(dfd, list[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			if (st.st_nlink > 1 &&
			    iset_add(&w->counted, (uint64_t)st.st_dev, (uint64_t)st.st_ino))
				continue;
			w->files_total++;
			w->bytes_total += (uint64_t)st.st_size;
		} else if (S_ISDIR(st.st_mode) && depth < 4096) {
			int sub = openat(dfd, list[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				count_dir(w, sub, depth + 1);
				close(sub);
			}
		}
	}
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

int fsck_run(struct vol *v, const struct fsck_opts *opts, struct fsck_stats *st)
{
	struct walk w = {.v = v, .o = opts, .st = st, .plain = {.rooted = 1}};
	int root, r = 0;

	memset(st, 0, sizeof(*st));
	root = openat(v->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	w.ct = malloc(vol_slot_size(v));
	w.pt = sodium_malloc(v->block_size); /* plaintext: locked, not in core dumps */
	w.xlist = malloc(65536);
	w.xval = malloc(XATTR_VALUE_MAX + SEAL_OVERHEAD);
	w.xplain = sodium_malloc(XATTR_VALUE_MAX);
	if (!w.ct || !w.pt || !w.xlist || !w.xval || !w.xplain) {
		r = -ENOMEM;
		goto out;
	}
	if (opts->progress) {
		count_dir(&w, root, 0);
		progress(&w);
	}
	walk_dir(&w, root);
	if (w.path.oom || w.plain.oom)
		r = -ENOMEM;
out:
	close(root);
	free(w.ct);
	if (w.pt)
		sodium_free(w.pt);
	free(w.xlist);
	free(w.xval);
	if (w.xplain)
		sodium_free(w.xplain);
	free(w.links.k);
	free(w.counted.k);
	free(w.path.s);
	if (w.plain.s)
		sodium_memzero(w.plain.s, w.plain.cap);
	free(w.plain.s);
	secmem_wipe_stack();
	return r;
}
