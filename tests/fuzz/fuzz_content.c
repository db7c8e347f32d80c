/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the block layer (fs/content.c) without FUSE. Byte 0: bit 0 picks
 * the volume (AES-256-GCM or XChaCha20-Poly1305, 4 KiB blocks, the fixed
 * keys of fuzz.h), bits 1-2 the mode:
 *   0  size arithmetic: bytes 1..8 a backing size S, 9..16 a plaintext size
 *      P, byte 17 the block shift and cipher. content_plain_size() never
 *      exceeds S; content_backing_size(P) maps back to P; for every backing
 *      size some plaintext size produces, the two are inverse.
 *   1  the rest is a backing file: content_init() (header, tail checks),
 *      then content_read() in one piece and in pieces of byte 1's size;
 *      both give the same bytes or fail, never more than the file holds.
 *   2  the rest is a list of operations (write, truncate, punch a hole,
 *      read) on a new file, checked against an in-memory model, then the
 *      file is reopened and read back whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/kdf.h"
#include "crypto/secmem.h"
#include "fs/content.h"
#include "tests/fuzz/fuzz.h"

#define MODEL_MAX (6 * 4096 + 100)

static struct vol vols[2];
static int have_vol[2];
static char tmpdir[64];
static char file[96];

static void make_vol(int i, enum byokfs_cipher c)
{
	struct vdesc d;
	struct vkeys *k = secmem_alloc(sizeof(*k));
	uint8_t blob[72] = {1};
	char dir[128], err[256];

	if (!k || !cipher_available(c))
		return;
	memset(&d, 0, sizeof(d));
	d.format = 1;
	memcpy(d.id, fuzz_volume_id, sizeof(d.id));
	d.cipher = c;
	d.block_shift = 12;
	d.longname_max = 255;
	strcpy(d.created, "2026-11-28T19:11:05Z");
	vkeys_derive(k, fuzz_vkey);
	if (vdesc_add_slot(&d, "primary", "local", "/none", blob, sizeof(blob)) != 0)
		abort();
	vdesc_seal(&d, k->desc_mac);
	snprintf(dir, sizeof(dir), "%s/vol%d", tmpdir, i);
	if (mkdir(dir, 0700) < 0 || vdesc_store(&d, dir) != 0)
		abort();
	vdesc_release(&d);
	if (vol_open(&vols[i], dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "vol_open: %s\n", err);
		abort();
	}
	if (vol_unlock(&vols[i], fuzz_vkey) != 0)
		abort();
	secmem_free(k);
	have_vol[i] = 1;
}

static void cleanup(void)
{
	char path[160];
	unlink(file);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/vol%d/%s", tmpdir, i, VDESC_FILE);
		unlink(path);
		snprintf(path, sizeof(path), "%s/vol%d", tmpdir, i);
		rmdir(path);
	}
	rmdir(tmpdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (secmem_init() < 0)
		abort();
	/* tmpfs when there is one: every input writes a file */
	snprintf(tmpdir, sizeof(tmpdir), "%s/byokfs-fuzz-content.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(tmpdir))
		abort();
	snprintf(file, sizeof(file), "%s/f", tmpdir);
	atexit(cleanup);
	make_vol(0, CIPHER_AES256GCM);
	make_vol(1, CIPHER_XCHACHA20POLY1305);
	return 0;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* ---- mode 0 ---- */

static void arith(const uint8_t *data, size_t size)
{
	struct vol v;
	uint64_t s, p, n, r, back;

	if (size < 17)
		return;
	memset(&v, 0, sizeof(v));
	v.block_shift = BYOKFS_BLOCK_SHIFT_MIN + data[16] % 5;
	v.block_size = (size_t)1 << v.block_shift;
	v.cipher = data[16] & 0x80 ? CIPHER_XCHACHA20POLY1305 : CIPHER_AES256GCM;
	v.overhead = v.cipher == CIPHER_AES256GCM ? 28 : 40;
	s = get64(data) >> (data[16] & 0x40 ? 0 : 20); /* mostly realistic sizes */
	p = get64(data + 8) >> 8;                       /* no overflow of the layout */

	FUZZ_CHECK(content_plain_size(&v, s) <= s);
	back = content_backing_size(&v, p);
	FUZZ_CHECK(back > p && content_plain_size(&v, back) == p);
	/* the layouts a writer produces (docs/FORMAT.md 3.2) round-trip */
	if (s > FHDR_BYTES) {
		n = (s - FHDR_BYTES) / vol_slot_size(&v);
		r = (s - FHDR_BYTES) % vol_slot_size(&v);
		if ((r == 0 && n > 0) || r > v.overhead || (r == v.overhead && n == 0))
			FUZZ_CHECK(content_backing_size(&v, content_plain_size(&v, s)) == s);
	}
}

/* ---- mode 1 ---- */

struct sink {
	uint8_t *buf;
	size_t cap, len;
	int calls;
};

static int collect(void *ctx, const void *data, size_t len)
{
	struct sink *s = ctx;
	s->calls++;
	FUZZ_CHECK(s->len + len <= s->cap);
	if (len)
		memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

static int put_file(const uint8_t *data, size_t size, int flags)
{
	int fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	fd = open(file, flags | O_CLOEXEC);
	if (fd < 0)
		abort();
	return fd;
}

/* Reads the whole file in pieces of `piece`; 0, or the first error. */
static ssize_t read_all(struct vol *v, struct fcontent *fc, uint64_t fsize, size_t piece,
			struct sink *s)
{
	uint64_t off = 0;

	s->len = 0;
	do {
		size_t before = s->len;
		ssize_t n = content_read(v, fc, piece, off, collect, s);
		if (n < 0)
			return n;
		FUZZ_CHECK((size_t)n == s->len - before);
		FUZZ_CHECK((uint64_t)n == (fsize - off < piece ? fsize - off : piece));
		off += (uint64_t)n;
		if (n == 0)
			break;
	} while (off < fsize);
	FUZZ_CHECK(off == fsize);
	return 0;
}

static void read_file(struct vol *v, const uint8_t *data, size_t size)
{
	struct fcontent fc;
	struct sink a = {0}, b = {0};
	uint64_t fsize;
	size_t piece;
	ssize_t ra, rb;
	int r;

	if (size < 1)
		return;
	piece = (size_t)data[0] * 61 + 1;
	r = content_init(v, &fc, put_file(data + 1, size - 1, O_RDONLY), 0, 0);
	FUZZ_CHECK(r == 0 || r == -EIO);
	if (r != 0)
		return;
	fsize = content_size(&fc);
	FUZZ_CHECK(fsize <= size);
	a.cap = b.cap = (size_t)fsize;
	a.buf = malloc(a.cap + 1);
	b.buf = malloc(b.cap + 1);
	if (!a.buf || !b.buf)
		abort();
	ra = read_all(v, &fc, fsize, (size_t)fsize + 1, &a);
	rb = read_all(v, &fc, fsize, piece, &b);
	FUZZ_CHECK(ra == 0 || ra == -EIO);
	FUZZ_CHECK(rb == 0 || rb == -EIO);
	if (ra == 0 && rb == 0)
		FUZZ_CHECK(!memcmp(a.buf, b.buf, (size_t)fsize));
	free(a.buf);
	free(b.buf);
	content_release(v, &fc);
}

/* ---- mode 2 ---- */

static uint8_t model[MODEL_MAX];

static void check_read(struct vol *v, struct fcontent *fc, uint64_t msize, uint64_t off,
		       size_t len)
{
	struct sink s = {0};
	ssize_t n;

	s.cap = len;
	s.buf = malloc(len + 1);
	if (!s.buf)
		abort();
	n = content_read(v, fc, len, off, collect, &s);
	FUZZ_CHECK(n >= 0);
	FUZZ_CHECK((uint64_t)n == (off >= msize ? 0 : (msize - off < len ? msize - off : len)));
	FUZZ_CHECK(!memcmp(s.buf, model + off, (size_t)n));
	free(s.buf);
}

static void ops(struct vol *v, const uint8_t *data, size_t size)
{
	struct fcontent fc;
	uint64_t msize = 0;
	int fd;

	fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || content_create(v, fd) != 0)
		abort();
	FUZZ_CHECK(content_init(v, &fc, fd, 1, 0) == 0);
	memset(model, 0, sizeof(model));
	for (size_t i = 0; i + 6 <= size; i += 6) {
		const uint8_t *o = data + i;
		uint64_t off = ((uint64_t)o[1] | (uint64_t)o[2] << 8) % (MODEL_MAX - 1);
		size_t len = ((size_t)o[3] | (size_t)o[4] << 8) % (MODEL_MAX - off);
		uint8_t *buf;

		switch (o[0] % 4) {
		case 0: /* write len bytes of a pattern at off */
			buf = malloc(len + 1);
			if (!buf)
				abort();
			for (size_t j = 0; j < len; j++)
				buf[j] = (uint8_t)(o[5] + j);
			FUZZ_CHECK(content_write(v, &fc, buf, len, off) == (ssize_t)len);
			memcpy(model + off, buf, len);
			if (len && off + len > msize)
				msize = off + len;
			free(buf);
			break;
		case 1: /* truncate to off */
			FUZZ_CHECK(content_truncate(v, &fc, off) == 0);
			if (off < msize)
				memset(model + off, 0, (size_t)(msize - off));
			msize = off;
			break;
		case 2: /* punch a hole, keeping the size */
			if (content_fallocate(v, &fc, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
					      len) == 0 &&
			    off < msize)
				memset(model + off, 0,
				       (size_t)(off + len > msize ? msize - off : len));
			break;
		case 3:
			check_read(v, &fc, msize, off, len);
			break;
		}
		FUZZ_CHECK(content_size(&fc) == msize);
	}
	content_release(v, &fc);
	/* reopened from disk: the same bytes */
	fd = open(file, O_RDONLY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0 && content_init(v, &fc, fd, 0, 0) == 0);
	FUZZ_CHECK(content_size(&fc) == msize);
	check_read(v, &fc, msize, 0, (size_t)msize + 1);
	content_release(v, &fc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vol *v;

	if (size < 1)
		return 0;
	v = &vols[data[0] & 1];
	if (!have_vol[data[0] & 1])
		return 0;
	switch ((data[0] >> 1) & 3) {
	case 0:
		arith(data + 1, size - 1);
		break;
	case 1:
		read_file(v, data + 1, size - 1);
		break;
	case 2:
		ops(v, data + 1, size - 1);
		break;
	default:
		break;
	}
	return 0;
}
