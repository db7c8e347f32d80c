/* SPDX-License-Identifier: MIT */
/*
 * The block layer (see content.h).
 *
 * Writes: blocks touched by a write are encrypted into one buffer and
 * written with one pwrite per contiguous run, highest offset first, so an
 * interrupted extension leaves the old final block still marked final. A
 * full old final block that only loses its final flag is a run of its own:
 * written last, after the blocks behind it, a crash at any point before
 * leaves it readable (docs/CRASH.md).
 * Partial blocks are read, decrypted and merged first (read-modify-write);
 * whole blocks are encrypted straight from the caller's buffer. Before any
 * byte of an existing block is overwritten, the space a growing file needs
 * is reserved with fallocate(KEEP_SIZE), so a full disk fails the write
 * with ENOSPC instead of tearing a block that held acknowledged data.
 *
 * Reads: one pread covers every block of the request; a block whose stored
 * bytes are all zero is a hole. A non-final block that authenticates only
 * as "final" is accepted: it is what an extension interrupted between its
 * two writes leaves behind, and it gives an attacker nothing a rollback of
 * that block would not.
 */
#include "fs/content.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/io.h"
#include "fs/log.h"
#include "fs/par.h"

#define WRITE_CHUNK (1u << 20) /* content_write works in pieces of this size */
#define FS_BLOCK 4096          /* allocation granularity assumed for ENOSPC checks */
#define PAR_MIN_BLOCKS 32      /* requests of at least this many blocks are split over the CPUs */

/* ---- per-thread buffers (ciphertext and plaintext), never in core dumps ---- */

struct tbuf {
	uint8_t *p;
	size_t cap;
};

static pthread_key_t tbuf_key;
static pthread_once_t tbuf_once = PTHREAD_ONCE_INIT;

struct tbufs {
	struct tbuf ct, pt;
};

static void tbuf_destroy(void *arg)
{
	struct tbufs *t = arg;
	if (t->ct.p)
		munmap(t->ct.p, t->ct.cap);
	if (t->pt.p) {
		sodium_memzero(t->pt.p, t->pt.cap);
		munmap(t->pt.p, t->pt.cap);
	}
	free(t);
}

static void tbuf_init_key(void)
{
	pthread_key_create(&tbuf_key, tbuf_destroy);
}

static uint8_t *tbuf_get(struct tbuf *t, size_t need)
{
	if (t->cap >= need)
		return t->p;
	size_t cap = (need + 65535) & ~(size_t)65535;
	void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, cap, MADV_DONTDUMP);
	if (t->p) {
		sodium_memzero(t->p, t->cap);
		munmap(t->p, t->cap);
	}
	t->p = p;
	t->cap = cap;
	return t->p;
}

static struct tbufs *tbufs(void)
{
	struct tbufs *t;

	pthread_once(&tbuf_once, tbuf_init_key);
	t = pthread_getspecific(tbuf_key);
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (t)
			pthread_setspecific(tbuf_key, t);
	}
	return t;
}

/* ---- layout ---- */

static uint64_t nblocks(const struct vol *v, uint64_t size)
{
	return size == 0 ? 1 : ((size - 1) >> v->block_shift) + 1;
}

static uint64_t blk_pos(const struct vol *v, uint64_t i)
{
	return FHDR_BYTES + i * vol_slot_size(v);
}

/* Plaintext length of block i in a file of size bytes. */
static size_t blk_len(const struct vol *v, uint64_t size, uint64_t i)
{
	uint64_t start = i << v->block_shift;
	if (start >= size)
		return 0;
	return size - start >= v->block_size ? v->block_size : (size_t)(size - start);
}

uint64_t content_plain_size(const struct vol *v, uint64_t s)
{
	if (s <= FHDR_BYTES)
		return 0;
	uint64_t n = (s - FHDR_BYTES) / vol_slot_size(v);
	uint64_t r = (s - FHDR_BYTES) % vol_slot_size(v);
	return (n << v->block_shift) + (r > v->overhead ? r - v->overhead : 0);
}

uint64_t content_backing_size(const struct vol *v, uint64_t size)
{
	uint64_t last = nblocks(v, size) - 1;
	return blk_pos(v, last) + blk_len(v, size, last) + v->overhead;
}

uint64_t content_size(struct fcontent *fc)
{
	pthread_rwlock_rdlock(&fc->lock);
	uint64_t s = fc->size;
	pthread_rwlock_unlock(&fc->lock);
	return s;
}

/* ---- I/O helpers ---- */



static void log_auth_failure(struct vol *v, struct fcontent *fc, const char *what, uint64_t blk)
{
	char proc[64], path[PATH_MAX];
	ssize_t n;

	atomic_fetch_add(&v->stats.auth_failures, 1);
	if (atomic_exchange(&fc->auth_logged, 1))
		return;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fc->fd);
	n = readlink(proc, path, sizeof(path) - 1);
	if (n < 0)
		n = snprintf(path, sizeof(path), "(fd %d)", fc->fd);
	path[n] = '\0';
	if (blk == UINT64_MAX)
		log_err("authentication failed: %s of backing file '%s'", what, path);
	else
		log_err("authentication failed: %s %llu of backing file '%s'", what,
			(unsigned long long)blk, path);
}

/* Loads the data key for the current key generation. Caller holds the gate. */
static int content_key(struct vol *v, struct fcontent *fc)
{
	uint64_t gen = atomic_load(&v->key_gen);
	int r = 0;

	if (atomic_load_explicit(&fc->key_gen, memory_order_acquire) == gen)
		return 0;
	pthread_mutex_lock(&fc->key_lock);
	if (atomic_load(&fc->key_gen) != gen) {
		const uint8_t *hk = vol_header_key(v, fc->hdr.key_epoch);
		if (!hk || fhdr_unwrap(&fc->hdr, hk, v->desc.id, fc->key->raw) != 0) {
			log_auth_failure(v, fc, "header", UINT64_MAX);
			r = -EIO;
		} else if (blk_key_init(fc->key, (enum byokfs_cipher)fc->hdr.cipher, fc->key->raw) != 0) {
			r = -EIO;
		} else {
			atomic_store_explicit(&fc->key_gen, gen, memory_order_release);
		}
	}
	pthread_mutex_unlock(&fc->key_lock);
	return r;
}

int content_init(struct vol *v, struct fcontent *fc, int fd, int writable, int truncating)
{
	uint8_t raw[FHDR_BYTES];
	struct stat st;
	ssize_t n;
	int r;

	memset(fc, 0, sizeof(*fc));
	fc->fd = fd;
	fc->old_fd = -1;
	fc->writable = writable;
	pthread_rwlock_init(&fc->lock, NULL);
	pthread_mutex_init(&fc->key_lock, NULL);
	fc->key = keypool_get(v->pool);
	if (!fc->key) {
		r = -ENOMEM;
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (st.st_size == 0) {
		/* created but never written (a crash between create and the
		 * header write): an empty file; the first write adds the header */
		return 0;
	}
	n = io_pread_full(fd, raw, FHDR_BYTES, 0);
	if (n < 0) {
		r = (int)n;
		goto fail;
	}
	if (n < FHDR_BYTES || fhdr_decode(&fc->hdr, raw) != 0 || fc->hdr.cipher != v->cipher ||
	    fc->hdr.block_shift != v->block_shift) {
		log_auth_failure(v, fc, "header", UINT64_MAX);
		r = -EIO;
		goto fail;
	}
	fc->have_hdr = 1;
	fc->size = content_plain_size(v, (uint64_t)st.st_size);
	{
		/* cut inside a block, or after the header or a full block with no
		 * final block behind it: reads reaching the end fail */
		uint64_t body = (uint64_t)st.st_size - FHDR_BYTES;
		uint64_t nfull = body / vol_slot_size(v), rem = body % vol_slot_size(v);
		fc->tail_bad = body == 0 || (rem > 0 && rem < v->overhead) ||
			       (rem == v->overhead && nfull > 0);
	}
	if (fc->tail_bad && fc->size == 0 && !truncating) {
		/* nothing readable, and the kernel sends no read for an empty
		 * file: refuse the open itself (O_TRUNC may still start afresh) */
		log_auth_failure(v, fc, "final block (missing)", UINT64_MAX);
		r = -EIO;
		goto fail;
	}
	if ((r = vol_gate_enter(v)) < 0)
		goto fail;
	r = content_key(v, fc);
	vol_gate_leave(v);
	if (r < 0)
		goto fail;
	return 0;
fail:
	content_release(v, fc);
	return r;
}

void content_set_fd(struct fcontent *fc, int fd, int writable)
{
	/* a thread may be using the old fd without the lock (fsync): it stays
	 * open, so its number cannot be reused by another file meanwhile */
	if (fc->old_fd >= 0)
		close(fc->old_fd);
	fc->old_fd = fc->fd;
	fc->fd = fd;
	fc->writable = writable;
}

void content_release(struct vol *v, struct fcontent *fc)
{
	if (fc->fd >= 0)
		close(fc->fd);
	if (fc->old_fd >= 0)
		close(fc->old_fd);
	fc->fd = fc->old_fd = -1;
	keypool_put(v->pool, fc->key);
	fc->key = NULL;
	pthread_rwlock_destroy(&fc->lock);
	pthread_mutex_destroy(&fc->key_lock);
}

/*
 * Decrypts stored block i (inlen bytes at in) of a file whose last block is
 * `last` into pt. Returns the plaintext length or -EIO. Gate held.
 */
static long decrypt_block(struct vol *v, struct fcontent *fc, uint64_t i, uint64_t last,
			  const uint8_t *in, size_t inlen, uint8_t *pt)
{
	long n;

	if (inlen < v->overhead)
		goto bad;
	if (i != last && blk_is_hole(in, inlen)) {
		memset(pt, 0, inlen - v->overhead);
		return (long)(inlen - v->overhead);
	}
	n = blk_decrypt(fc->key, fc->hdr.file_id, i, i == last, in, inlen, pt);
	if (n == -EBADMSG && i != last)
		n = blk_decrypt(fc->key, fc->hdr.file_id, i, 1, in, inlen, pt);
	if (n >= 0)
		return n;
bad:
	log_auth_failure(v, fc, "block", i);
	return -EIO;
}

/* Blocks b0 + [lo, hi) of a read, decrypted (par_run: the caller holds the gate). */
struct dec_ctx {
	struct vol *v;
	struct fcontent *fc;
	uint64_t b0, last, pos;
	const uint8_t *ct;
	uint8_t *pt;
	atomic_int err;
};

static void decrypt_range(void *arg, size_t lo, size_t hi)
{
	struct dec_ctx *d = arg;
	struct vol *v = d->v;

	for (size_t k = lo; k < hi && atomic_load(&d->err) == 0; k++) {
		uint64_t i = d->b0 + k;
		size_t len = blk_len(v, d->fc->size, i);
		long got = decrypt_block(v, d->fc, i, d->last, d->ct + (size_t)(blk_pos(v, i) - d->pos),
					 len + v->overhead, d->pt + (k << v->block_shift));
		if (got < 0) {
			int zero = 0;
			atomic_compare_exchange_strong(&d->err, &zero, (int)got);
		}
	}
	secmem_wipe_stack(); /* a helper thread used the key too */
}

ssize_t content_read(struct vol *v, struct fcontent *fc, size_t size, uint64_t off,
		     int (*deliver)(void *ctx, const void *data, size_t len), void *ctx)
{
	struct tbufs *tb = tbufs();
	uint64_t end, b0, b1, last, pos;
	size_t need, outlen;
	uint8_t *ct, *pt;
	ssize_t n, r;

	if (!tb)
		return -ENOMEM;
	pthread_rwlock_rdlock(&fc->lock);
	if (fc->tail_bad && off + size >= fc->size) {
		log_auth_failure(v, fc, "truncated after block", nblocks(v, fc->size) - 1);
		r = -EIO;
		goto out_unlock;
	}
	if (off >= fc->size || size == 0 || !fc->have_hdr) {
		pthread_rwlock_unlock(&fc->lock);
		if ((r = vol_gate_enter(v)) < 0)
			return r;
		r = deliver(ctx, NULL, 0);
		vol_gate_leave(v);
		return r < 0 ? r : 0;
	}
	end = off + size < fc->size ? off + size : fc->size;
	b0 = off >> v->block_shift;
	b1 = (end - 1) >> v->block_shift;
	last = nblocks(v, fc->size) - 1;
	pos = blk_pos(v, b0);
	need = (size_t)(blk_pos(v, b1) + blk_len(v, fc->size, b1) + v->overhead - pos);
	outlen = (size_t)(end - off);
	ct = tbuf_get(&tb->ct, need);
	pt = tbuf_get(&tb->pt, (size_t)((b1 - b0 + 1) << v->block_shift));
	if (!ct || !pt) {
		r = -ENOMEM;
		goto out_unlock;
	}
	n = io_pread_full(fc->fd, ct, need, pos);
	if (n < 0) {
		r = n;
		goto out_unlock;
	}
	if ((size_t)n < need) {
		/* the backing file is shorter than its blocks say: truncated */
		log_auth_failure(v, fc, "truncated at block", b1);
		r = -EIO;
		goto out_unlock;
	}
	if ((r = vol_gate_enter(v)) < 0)
		goto out_unlock;
	if ((r = content_key(v, fc)) < 0)
		goto out_gate;
	/* decrypt every block into pt (block-aligned), split over the CPUs if
	 * large, then hand out the slice */
	{
		struct dec_ctx dc = {.v = v, .fc = fc, .b0 = b0, .last = last, .pos = pos, .ct = ct,
				     .pt = pt, .err = 0};
		par_run(decrypt_range, &dc, (size_t)(b1 - b0 + 1), PAR_MIN_BLOCKS);
		if ((r = atomic_load(&dc.err)) < 0)
			goto out_gate;
	}
	/* fc is not touched after the reply: the kernel may send RELEASE as
	 * soon as it has the data, and release frees fc. pt is this thread's
	 * own buffer; the gate stays held, so no plaintext leaves after a
	 * revocation has returned. */
	pthread_rwlock_unlock(&fc->lock);
	r = deliver(ctx, pt + (off - (b0 << v->block_shift)), outlen);
	if (r == 0) {
		r = (ssize_t)outlen;
		atomic_fetch_add(&v->stats.bytes_read, outlen);
	}
	vol_gate_leave(v);
	return r;
out_gate:
	vol_gate_leave(v);
out_unlock:
	pthread_rwlock_unlock(&fc->lock);
	return r;
}

/* ---- writing ---- */

struct job {
	uint64_t idx;
	size_t len;         /* plaintext length after the write */
	size_t oldlen;      /* plaintext length before, if the block existed */
	int final;
	int rmw;            /* old bytes survive: read and merge them */
	int alone;          /* written by a pwrite of its own (see plan_runs) */
	const uint8_t *src; /* whole block straight from the caller, or NULL */
};

struct run {
	size_t first, count; /* jobs[first .. first+count) */
	size_t ctoff, len;   /* slice of the ciphertext buffer */
	uint64_t pos;        /* offset in the backing file */
};

/* Reserves the bytes of [start, end) that lie beyond the old end of file. */
static int reserve(struct fcontent *fc, uint64_t old_eof, uint64_t start, uint64_t end)
{
	if (end <= old_eof)
		return 0;
	if (start < old_eof)
		start = old_eof;
	/* a partly used filesystem block at the old end needs no new space */
	if (old_eof > 0 && (end - 1) / FS_BLOCK == (old_eof - 1) / FS_BLOCK)
		return 0;
	if (io_fallocate(fc->fd, FALLOC_FL_KEEP_SIZE, (off_t)start, (off_t)(end - start)) < 0) {
		if (errno == EOPNOTSUPP || errno == ENOSYS)
			return 0; /* best effort on stores without fallocate */
		return -errno;
	}
	return 0;
}

/*
 * Chooses the blocks a write touches. src == NULL writes zeros from off to
 * off + size and leaves whole blocks beyond the old end as holes (truncate
 * up). Returns the number of jobs.
 */
static size_t plan_jobs(const struct vol *v, const struct fcontent *fc, const uint8_t *src,
			size_t size, uint64_t off, struct job *jobs)
{
	uint64_t old = fc->have_hdr ? fc->size : 0, end = off + size;
	uint64_t newsize = end > old ? end : old;
	uint64_t oldn = fc->have_hdr ? nblocks(v, old) : 0;
	uint64_t old_last = oldn ? oldn - 1 : 0;
	uint64_t new_last = nblocks(v, newsize) - 1;
	uint64_t b0 = off >> v->block_shift, b1 = (end - 1) >> v->block_shift;
	size_t n = 0;

	/* the old final block becomes a full, non-final block once the file
	 * grows past it */
	if (oldn && old_last < b0 && new_last > old_last) {
		size_t ol = blk_len(v, old, old_last);
		jobs[n++] = (struct job){.idx = old_last, .len = v->block_size, .oldlen = ol,
					 .rmw = ol > 0, .alone = ol == v->block_size};
	}
	for (uint64_t i = b0; i <= b1; i++) {
		int existed = oldn && i <= old_last;
		if (!src && !existed && i != new_last)
			continue; /* stays a hole */
		uint64_t bs = i << v->block_shift;
		struct job *j = &jobs[n++];
		*j = (struct job){.idx = i, .len = blk_len(v, newsize, i), .final = i == new_last,
				  .oldlen = existed ? blk_len(v, old, i) : 0};
		j->rmw = j->oldlen > 0 && (off > bs || end < bs + j->oldlen);
		if (src && !j->rmw && off <= bs && end >= bs + j->len)
			j->src = src + (bs - off);
	}
	return n;
}

/* Groups consecutive jobs into runs that one pwrite can write. */
static size_t plan_runs(const struct vol *v, const struct job *jobs, size_t njobs,
			struct run *runs)
{
	size_t nruns = 0, ctoff = 0;

	for (size_t k = 0; k < njobs; k++) {
		size_t stored = jobs[k].len + v->overhead;
		if (nruns && jobs[k - 1].idx + 1 == jobs[k].idx &&
		    jobs[k - 1].len == v->block_size && !jobs[k - 1].alone) {
			runs[nruns - 1].count++;
			runs[nruns - 1].len += stored;
		} else {
			runs[nruns++] = (struct run){.first = k, .count = 1, .ctoff = ctoff,
						     .len = stored, .pos = blk_pos(v, jobs[k].idx)};
		}
		ctoff += stored;
	}
	return nruns;
}

/* Blocks [lo, hi) of a write, encrypted (par_run: the caller holds the gate). */
struct enc_ctx {
	struct vol *v;
	struct fcontent *fc;
	const struct job *jobs;
	uint8_t *pt, *ct;
	const size_t *ctoff;
	const uint8_t *nonces;
	size_t nlen;
};

static void encrypt_range(void *arg, size_t lo, size_t hi)
{
	struct enc_ctx *e = arg;

	for (size_t k = lo; k < hi; k++) {
		const struct job *j = &e->jobs[k];
		const uint8_t *plain = j->src ? j->src : e->pt + k * e->v->block_size;
		blk_encrypt(e->fc->key, e->fc->hdr.file_id, j->idx, j->final, e->nonces + k * e->nlen,
			    plain, j->len, e->ct + e->ctoff[k]);
	}
	secmem_wipe_stack(); /* a helper thread used the key too */
}

/*
 * Gives the 0-byte file of fc a new file id and data key and writes its
 * header and empty final block with one pwrite (within the first page, so
 * a crash leaves all of it or none). On failure the file is 0 bytes again.
 */
static int start_file(struct vol *v, struct fcontent *fc)
{
	uint8_t buf[FHDR_BYTES + 64];
	uint8_t nonce[BLK_NONCE_MAX];
	int r;

	if ((r = vol_gate_enter(v)) < 0)
		return r;
	fhdr_create(&fc->hdr, v->cipher, v->block_shift, v->desc.key_epoch, v->keys->header,
		    v->desc.id, fc->key->raw);
	blk_key_init(fc->key, v->cipher, fc->key->raw);
	atomic_store(&fc->key_gen, atomic_load(&v->key_gen));
	fhdr_encode(&fc->hdr, buf);
	randombytes_buf(nonce, blk_nonce_bytes(v->cipher));
	blk_encrypt(fc->key, fc->hdr.file_id, 0, 1, nonce, NULL, 0, buf + FHDR_BYTES);
	vol_gate_leave(v);
	if ((r = io_pwrite_full(fc->fd, buf, FHDR_BYTES + v->overhead, 0)) < 0) {
		if (io_ftruncate(fc->fd, 0) < 0)
			log_err("cannot reset new file: %s", strerror(errno));
		atomic_store(&fc->key_gen, 0);
		return r;
	}
	fc->have_hdr = 1;
	fc->size = 0;
	return 0;
}

/* The write engine (see plan_jobs). Caller holds fc->lock exclusively. */
static ssize_t write_locked(struct vol *v, struct fcontent *fc, const uint8_t *src, size_t size,
			    uint64_t off)
{
	struct tbufs *tb = tbufs();
	struct job jobs[(WRITE_CHUNK >> BYOKFS_BLOCK_SHIFT_MIN) + 3];
	struct run runs[(WRITE_CHUNK >> BYOKFS_BLOCK_SHIFT_MIN) + 3];
	size_t njobs, nruns, nrmw = 0, ctlen = 0, nlen = blk_nonce_bytes(v->cipher);
	uint64_t old = fc->have_hdr ? fc->size : 0, end = off + size;
	uint64_t newsize = end > old ? end : old;
	uint64_t old_last, old_eof;
	uint8_t *ct, *pt, *nonces, *oldct;
	int r, wrote = 0;

	if (!tb)
		return -ENOMEM;
	if (!fc->writable)
		return -EBADF;
	if (size == 0)
		return 0;
	if (fc->tail_bad)
		return -EIO; /* damaged: only truncation to zero (or fsck) repairs it */
	if (end < off || newsize > ((uint64_t)INT64_MAX >> 1))
		return -EFBIG;
	/* a 0-byte file (a crash or failure between creation or truncation
	 * and the header) first becomes an empty file with a header: a header
	 * with no final block behind it would not open */
	if (!fc->have_hdr && (r = start_file(v, fc)) < 0)
		return r;
	old_last = nblocks(v, old) - 1;
	old_eof = content_backing_size(v, old);

	njobs = plan_jobs(v, fc, src, size, off, jobs);
	nruns = plan_runs(v, jobs, njobs, runs);
	for (size_t k = 0; k < njobs; k++) {
		ctlen += jobs[k].len + v->overhead;
		nrmw += jobs[k].rmw;
	}
	/* ct buffer: new ciphertext | nonces | old ciphertext of merged blocks */
	ct = tbuf_get(&tb->ct, ctlen + njobs * nlen + nrmw * vol_slot_size(v));
	pt = tbuf_get(&tb->pt, njobs * v->block_size);
	if (!ct || !pt)
		return -ENOMEM;
	nonces = ct + ctlen;
	oldct = nonces + njobs * nlen;
	randombytes_buf(nonces, njobs * nlen);

	/* old ciphertext of the blocks whose bytes partly survive */
	uint8_t *o = oldct;
	for (size_t k = 0; k < njobs; k++) {
		if (!jobs[k].rmw)
			continue;
		size_t want = jobs[k].oldlen + v->overhead;
		ssize_t got = io_pread_full(fc->fd, o, want, blk_pos(v, jobs[k].idx));
		if (got < 0)
			return got;
		if ((size_t)got != want) {
			log_auth_failure(v, fc, "truncated at block", jobs[k].idx);
			return -EIO;
		}
		o += vol_slot_size(v);
	}

	if ((r = vol_gate_enter(v)) < 0)
		return r;
	if ((r = content_key(v, fc)) < 0) {
		vol_gate_leave(v);
		return r;
	}
	/* merge partial blocks first (at most the first, last and old final
	 * block), then encrypt every block, split over the CPUs if large */
	o = oldct;
	for (size_t k = 0; k < njobs; k++) {
		struct job *j = &jobs[k];
		if (j->src)
			continue;
		uint8_t *p = pt + k * v->block_size;
		uint64_t bs = j->idx << v->block_shift;
		size_t keep = 0;
		if (j->rmw) {
			long got = decrypt_block(v, fc, j->idx, old_last, o, j->oldlen + v->overhead, p);
			o += vol_slot_size(v);
			if (got < 0) {
				vol_gate_leave(v);
				return got;
			}
			keep = j->oldlen;
		}
		if (j->len > keep)
			memset(p + keep, 0, j->len - keep);
		if (src && end > bs && off < bs + j->len) {
			uint64_t from = off > bs ? off : bs;
			uint64_t to = end < bs + j->len ? end : bs + j->len;
			memcpy(p + (from - bs), src + (from - off), (size_t)(to - from));
		}
	}
	size_t ctoff[sizeof(jobs) / sizeof(jobs[0])], acc = 0;
	for (size_t k = 0; k < njobs; k++) {
		ctoff[k] = acc;
		acc += jobs[k].len + v->overhead;
	}
	struct enc_ctx ec = {.v = v, .fc = fc, .jobs = jobs, .pt = pt, .ct = ct, .ctoff = ctoff,
			     .nonces = nonces, .nlen = nlen};
	par_run(encrypt_range, &ec, njobs, PAR_MIN_BLOCKS);
	vol_gate_leave(v);

	/* reserve what the file grows by before touching any old block */
	for (size_t k = 0; k < nruns; k++)
		if ((r = reserve(fc, old_eof, runs[k].pos, runs[k].pos + runs[k].len)) < 0)
			goto undo;
	/* highest run first: the old final block is cleared last */
	wrote = 1;
	for (size_t k = nruns; k-- > 0;)
		if ((r = io_pwrite_full(fc->fd, ct + runs[k].ctoff, runs[k].len, runs[k].pos)) < 0)
			goto undo;
	fc->size = newsize;
	atomic_fetch_add(&v->stats.bytes_written, size);
	return (ssize_t)size;

undo:
	/* cut what a failed extension wrote past the old end; a store that
	 * failed part way through a run may also have overwritten blocks whose
	 * bytes were acknowledged before (the old final block, partial blocks):
	 * put their old ciphertext back */
	if (io_ftruncate(fc->fd, (off_t)old_eof) < 0)
		log_err("cannot restore size after failed write: %s", strerror(errno));
	o = oldct;
	for (size_t k = 0; wrote && k < njobs; k++) {
		if (!jobs[k].rmw)
			continue;
		if (io_pwrite_full(fc->fd, o, jobs[k].oldlen + v->overhead, blk_pos(v, jobs[k].idx)) < 0)
			log_err("cannot restore block %llu after failed write",
				(unsigned long long)jobs[k].idx);
		o += vol_slot_size(v);
	}
	return r;
}

ssize_t content_write(struct vol *v, struct fcontent *fc, const void *buf, size_t size,
		      uint64_t off)
{
	ssize_t done = 0;

	pthread_rwlock_wrlock(&fc->lock);
	while ((size_t)done < size) {
		size_t n = size - (size_t)done;
		if (n > WRITE_CHUNK)
			n = WRITE_CHUNK;
		ssize_t r = write_locked(v, fc, (const uint8_t *)buf + done, n, off + (uint64_t)done);
		if (r < 0) {
			if (done == 0)
				done = r;
			break;
		}
		done += r;
	}
	pthread_rwlock_unlock(&fc->lock);
	return done;
}

/*
 * Re-encrypts block idx of the current file as the final block with newlen
 * bytes into out (newlen + overhead bytes). in is scratch for one stored block.
 */
static int rewrite_final(struct vol *v, struct fcontent *fc, uint64_t idx, size_t newlen,
			 uint8_t *in, uint8_t *pt, uint8_t *out)
{
	uint64_t last = nblocks(v, fc->size) - 1;
	size_t oldlen = blk_len(v, fc->size, idx);
	uint8_t nonce[BLK_NONCE_MAX];
	ssize_t n;
	int r;

	n = io_pread_full(fc->fd, in, oldlen + v->overhead, blk_pos(v, idx));
	if (n < 0)
		return (int)n;
	if ((size_t)n != oldlen + v->overhead) {
		log_auth_failure(v, fc, "truncated at block", idx);
		return -EIO;
	}
	if ((r = vol_gate_enter(v)) < 0)
		return r;
	if ((r = content_key(v, fc)) == 0) {
		long got = decrypt_block(v, fc, idx, last, in, oldlen + v->overhead, pt);
		if (got < 0) {
			r = (int)got;
		} else {
			if (newlen > oldlen)
				memset(pt + oldlen, 0, newlen - oldlen);
			randombytes_buf(nonce, blk_nonce_bytes(v->cipher));
			blk_encrypt(fc->key, fc->hdr.file_id, idx, 1, nonce, pt, newlen, out);
		}
	}
	vol_gate_leave(v);
	return r;
}

static int truncate_locked(struct vol *v, struct fcontent *fc, uint64_t size)
{
	uint8_t buf[FHDR_BYTES + 64];
	int r;

	if (!fc->writable)
		return -EBADF;
	if (size > ((uint64_t)INT64_MAX >> 1))
		return -EFBIG;
	if (!fc->have_hdr && size == 0)
		return io_ftruncate(fc->fd, 0) < 0 ? -errno : 0;
	if (fc->tail_bad && size != 0)
		return -EIO;
	if ((size > fc->size && !fc->tail_bad) || !fc->have_hdr) {
		ssize_t w = write_locked(v, fc, NULL, (size_t)(size - fc->size), fc->size);
		return w < 0 ? (int)w : 0;
	}
	if (size == fc->size && !fc->tail_bad)
		return io_ftruncate(fc->fd, (off_t)content_backing_size(v, size)) < 0 ? -errno : 0;
	if (size == 0) {
		/* a fresh file id and data key: the old key never sees new data */
		size_t nlen = blk_nonce_bytes(v->cipher);
		uint8_t nonce[BLK_NONCE_MAX];
		struct fhdr h;
		if ((r = vol_gate_enter(v)) < 0)
			return r;
		fhdr_create(&h, v->cipher, v->block_shift, v->desc.key_epoch, v->keys->header,
			    v->desc.id, fc->key->raw);
		blk_key_init(fc->key, v->cipher, fc->key->raw);
		atomic_store(&fc->key_gen, atomic_load(&v->key_gen));
		fhdr_encode(&h, buf);
		randombytes_buf(nonce, nlen);
		blk_encrypt(fc->key, h.file_id, 0, 1, nonce, NULL, 0, buf + FHDR_BYTES);
		vol_gate_leave(v);
		fc->hdr = h;
		if (io_ftruncate(fc->fd, 0) < 0)
			return -errno;
		fc->size = 0;
		fc->have_hdr = 0; /* a 0-byte file is an empty file, should the next write fail */
		if ((r = io_pwrite_full(fc->fd, buf, FHDR_BYTES + v->overhead, 0)) < 0) {
			if (io_ftruncate(fc->fd, 0) < 0)
				log_err("cannot reset file after failed truncate: %s", strerror(errno));
			return r;
		}
		fc->have_hdr = 1;
		fc->tail_bad = 0;
		return 0;
	}
	/* shrink: the new last block is re-encrypted as final */
	uint64_t L = (size - 1) >> v->block_shift;
	size_t lenL = (size_t)(size - (L << v->block_shift)), ctlen = lenL + v->overhead;
	struct tbufs *tb = tbufs();
	uint8_t *ct = tb ? tbuf_get(&tb->ct, 2 * vol_slot_size(v)) : NULL;
	uint8_t *pt = tb ? tbuf_get(&tb->pt, v->block_size) : NULL;
	if (!ct || !pt)
		return -ENOMEM;
	uint8_t *out = ct + vol_slot_size(v);
	if ((r = rewrite_final(v, fc, L, lenL, ct, pt, out)) < 0)
		return r;
	uint64_t newsize_b = content_backing_size(v, size);
	if (lenL == v->block_size) {
		/* same stored length: rewrite in place, then cut */
		if ((r = io_pwrite_full(fc->fd, out, ctlen, blk_pos(v, L))) < 0)
			return r;
		if (io_ftruncate(fc->fd, (off_t)newsize_b) < 0)
			return -errno;
	} else {
		if (io_ftruncate(fc->fd, (off_t)newsize_b) < 0)
			return -errno;
		fc->size = size;
		if ((r = io_pwrite_full(fc->fd, out, ctlen, blk_pos(v, L))) < 0)
			return r;
	}
	fc->size = size;
	return 0;
}

int content_truncate(struct vol *v, struct fcontent *fc, uint64_t size)
{
	pthread_rwlock_wrlock(&fc->lock);
	int r = truncate_locked(v, fc, size);
	pthread_rwlock_unlock(&fc->lock);
	return r;
}

int content_fallocate(struct vol *v, struct fcontent *fc, int mode, uint64_t off, uint64_t len)
{
	int r = 0;
	uint64_t end = off + len;

	if (len == 0 || end < off)
		return -EINVAL;
	pthread_rwlock_wrlock(&fc->lock);
	if (mode == 0 || mode == FALLOC_FL_KEEP_SIZE) {
		uint64_t b0 = off >> v->block_shift, b1 = (end - 1) >> v->block_shift;
		uint64_t p0 = blk_pos(v, b0), p1 = blk_pos(v, b1) + vol_slot_size(v);
		if (mode == 0 && end > fc->size) {
			r = truncate_locked(v, fc, end);
			if (r < 0)
				goto out;
			p1 = content_backing_size(v, end);
		}
		/* zeros on disk read as holes, so reserving space changes no content */
		if (io_fallocate(fc->fd, FALLOC_FL_KEEP_SIZE, (off_t)p0, (off_t)(p1 - p0)) < 0 &&
		    errno != EOPNOTSUPP)
			r = -errno;
	} else if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
		static const uint8_t zeros[1 << BYOKFS_BLOCK_SHIFT_MAX];
		if (end > fc->size)
			end = fc->size;
		uint64_t last = nblocks(v, fc->size) - 1;
		for (uint64_t i = off >> v->block_shift; off < end && i <= last; i++) {
			uint64_t bs = i << v->block_shift, be = bs + blk_len(v, fc->size, i);
			uint64_t from = off > bs ? off : bs, to = end < be ? end : be;
			if (from >= to)
				continue;
			if (from == bs && to == be && be - bs == v->block_size && i != last) {
				/* a whole inner block: make it a hole */
				if (io_fallocate(fc->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					      (off_t)blk_pos(v, i), (off_t)vol_slot_size(v)) == 0)
					continue;
				if (errno != EOPNOTSUPP) {
					r = -errno;
					break;
				}
			}
			ssize_t w = write_locked(v, fc, zeros, (size_t)(to - from), from);
			if (w < 0) {
				r = (int)w;
				break;
			}
		}
	} else {
		r = -EOPNOTSUPP;
	}
out:
	pthread_rwlock_unlock(&fc->lock);
	return r;
}

int content_init_new(struct vol *v, struct fcontent *fc, int fd)
{
	int r;

	memset(fc, 0, sizeof(*fc));
	fc->fd = fd;
	fc->old_fd = -1;
	fc->writable = 1;
	pthread_rwlock_init(&fc->lock, NULL);
	pthread_mutex_init(&fc->key_lock, NULL);
	fc->key = keypool_get(v->pool);
	if (!fc->key) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = start_file(v, fc)) < 0)
		goto fail;
	return 0;
fail:
	content_release(v, fc);
	return r;
}

int content_create(struct vol *v, int fd)
{
	uint8_t buf[FHDR_BYTES + 64];
	uint8_t nonce[BLK_NONCE_MAX];
	struct blk_key *k = keypool_get(v->pool);
	struct fhdr h;
	int r;

	if (!k)
		return -ENOMEM;
	if ((r = vol_gate_enter(v)) < 0)
		goto out;
	fhdr_create(&h, v->cipher, v->block_shift, v->desc.key_epoch, v->keys->header, v->desc.id,
		    k->raw);
	blk_key_init(k, v->cipher, k->raw);
	fhdr_encode(&h, buf);
	randombytes_buf(nonce, blk_nonce_bytes(v->cipher));
	blk_encrypt(k, h.file_id, 0, 1, nonce, NULL, 0, buf + FHDR_BYTES);
	vol_gate_leave(v);
	r = io_pwrite_full(fd, buf, FHDR_BYTES + v->overhead, 0);
	if (r < 0 && io_ftruncate(fd, 0) < 0)
		log_err("cannot reset new file: %s", strerror(errno));
out:
	keypool_put(v->pool, k);
	return r;
}
