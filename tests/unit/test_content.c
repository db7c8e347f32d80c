/* SPDX-License-Identifier: MIT */
/*
 * The block layer without FUSE: thousands of random writes, truncates,
 * reads and reopens on a backing file, checked against an in-memory model,
 * for both ciphers and several block sizes; then truncation at a block
 * boundary, tampering and swapping of stored blocks must fail with EIO.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/fhdr.h"
#include "crypto/kdf.h"
#include "crypto/secmem.h"
#include "fs/content.h"
#include "fs/log.h"
#include "fs/names.h"
#include "tests/unit/unit.h"

static char tmpdir[] = "/tmp/byokfs-unit-content.XXXXXX";
static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

/* A volume in dir with the given parameters, unlocked with a random key. */
static void make_vol(struct vol *v, const char *dir, enum byokfs_cipher c, unsigned shift)
{
	struct vdesc d;
	struct vkeys *k = secmem_alloc(sizeof(*k));
	uint8_t blob[72] = {1};
	char err[256];

	memset(&d, 0, sizeof(d));
	d.format = 1;
	randombytes_buf(d.id, 16);
	d.cipher = c;
	d.block_shift = shift;
	d.longname_max = 255;
	strcpy(d.created, "now");
	randombytes_buf(k->volume, 32);
	vkeys_derive(k, k->volume);
	ASSERT_INT_EQ(vdesc_add_slot(&d, "primary", "local", "/none", blob, sizeof(blob)), 0);
	vdesc_seal(&d, k->desc_mac);
	mkdir(dir, 0700);
	ASSERT_INT_EQ(vdesc_store(&d, dir), 0);
	vdesc_release(&d);
	if (vol_open(v, dir, err, sizeof(err)) != 0)
		UNIT_FAIL("vol_open: %s", err);
	ASSERT_INT_EQ(vol_unlock(v, k->volume), 0);
	secmem_free(k);
}

struct sink {
	uint8_t *buf;
	size_t len;
};

static int collect(void *ctx, const void *data, size_t len)
{
	struct sink *s = ctx;
	if (len)
		memcpy(s->buf, data, len);
	s->len = len;
	return 0;
}

static void check_all(struct vol *v, struct fcontent *fc, const uint8_t *model, size_t size)
{
	uint8_t *buf = malloc(size + 1);
	struct sink s = {buf, 0};
	size_t off = 0;

	ASSERT_INT_EQ(content_size(fc), size);
	while (off < size) {
		size_t n = size - off > (1u << 20) ? (1u << 20) : size - off;
		ssize_t r = content_read(v, fc, n, off, collect, &s);
		if (r != (ssize_t)n)
			UNIT_FAIL("read %zu at %zu of %zu: %zd", n, off, size, r);
		if (memcmp(buf, model + off, n))
			UNIT_FAIL("content differs in [%zu, %zu) of a %zu-byte file", off, off + n, size);
		off += n;
	}
	ASSERT_INT_EQ(content_read(v, fc, 10, size, collect, &s), 0);
	free(buf);
}

static void open_fc(struct vol *v, struct fcontent *fc, const char *path)
{
	int fd = open(path, O_RDWR);
	ASSERT_TRUE(fd >= 0);
	ASSERT_INT_EQ(content_init(v, fc, fd, 1, 0), 0);
}

static int open_fc_r(struct vol *v, struct fcontent *fc, const char *path, int truncating)
{
	int fd = open(path, O_RDWR);
	ASSERT_TRUE(fd >= 0);
	return content_init(v, fc, fd, 1, truncating);
}

static void random_ops(enum byokfs_cipher c, unsigned shift, int ops)
{
	char dir[256], path[300];
	struct vol v;
	struct fcontent fc;
	size_t cap = 8u << 20, size = 0, B = (size_t)1 << shift;
	uint8_t *model = calloc(1, cap), *data = malloc(3u << 20);
	struct sink s;
	uint8_t *rbuf = malloc(3u << 20);

	snprintf(dir, sizeof(dir), "%s/v-%d-%u", tmpdir, c, shift);
	make_vol(&v, dir, c, shift);
	snprintf(path, sizeof(path), "%s/file", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_TRUE(fd >= 0);
	ASSERT_INT_EQ(content_create(&v, fd), 0);
	close(fd);
	open_fc(&v, &fc, path);
	s.buf = rbuf;

	int trace = getenv("TRACE") != NULL;
	for (int i = 0; i < ops; i++) {
		int op = (int)rnd(100);
		if (trace)
			fprintf(stderr, "op %d kind %d size %zu\n", i, op, size);
		if (op < 50) { /* write: mostly near the end, some anywhere, some big */
			size_t len = rnd(10) == 0 ? rnd(3u << 20) + 1 : rnd(3 * B) + 1;
			size_t off = rnd(3) == 0 ? rnd(size + 1) : (size > B ? size - rnd(B) : rnd(size + 1));
			if (rnd(20) == 0)
				off = size + rnd(4 * B); /* leave a gap: a hole */
			if (off + len > cap)
				continue;
			randombytes_buf(data, len);
			if (trace)
				fprintf(stderr, "  write %zu at %zu\n", len, off);
			ASSERT_INT_EQ(content_write(&v, &fc, data, len, off), (ssize_t)len);
			if (off > size)
				memset(model + size, 0, off - size); /* the gap reads as zeros */
			memcpy(model + off, data, len);
			if (off + len > size)
				size = off + len;
		} else if (op < 65) { /* truncate */
			size_t ns = rnd(4) == 0 ? 0 : rnd(size + 3 * B);
			if (rnd(10) == 0)
				ns = size + rnd(cap - size); /* sparse growth */
			if (ns > cap)
				ns = cap;
			if (trace)
				fprintf(stderr, "  truncate %zu\n", ns);
			ASSERT_INT_EQ(content_truncate(&v, &fc, ns), 0);
			if (ns > size)
				memset(model + size, 0, ns - size);
			size = ns;
		} else if (op < 90) { /* read a random range */
			size_t off = rnd(size + 2), len = rnd(3 * B) + 1;
			ssize_t r = content_read(&v, &fc, len, off, collect, &s);
			size_t want = off >= size ? 0 : (size - off < len ? size - off : len);
			if (r != (ssize_t)want)
				UNIT_FAIL("op %d: read %zu at %zu of %zu returned %zd", i, len, off, size, r);
			if (want && memcmp(rbuf, model + off, want)) {
				size_t k = 0;
				while (rbuf[k] == model[off + k])
					k++;
				fprintf(stderr, "first difference at %zu: got %02x want %02x\n", off + k, rbuf[k], model[off + k]);
			}
			if (want && memcmp(rbuf, model + off, want))
				UNIT_FAIL("op %d: read %zu at %zu of %zu: wrong bytes", i, len, off, size);
		} else if (op < 95) { /* punch a hole */
			if (size == 0)
				continue;
			size_t off = rnd(size), len = rnd(3 * B) + 1;
			ASSERT_INT_EQ(content_fallocate(&v, &fc, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len), 0);
			size_t end = off + len < size ? off + len : size;
			if (trace)
				fprintf(stderr, "  punch %zu..%zu\n", off, end);
			memset(model + off, 0, end - off);
		} else { /* reopen: the size must come back from the backing size alone */
			content_release(&v, &fc);
			open_fc(&v, &fc, path);
		}
		if (i % 50 == 0)
			check_all(&v, &fc, model, size);
	}
	check_all(&v, &fc, model, size);
	struct stat st;
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ((uint64_t)st.st_size, content_backing_size(&v, size));
	ASSERT_INT_EQ(content_plain_size(&v, (uint64_t)st.st_size), size);
	content_release(&v, &fc);
	vol_close(&v);
	free(model);
	free(data);
	free(rbuf);
}

static void test_random(void)
{
	TEST_START("content: random ops vs model, AES-GCM, 4 KiB blocks");
	if (cipher_available(CIPHER_AES256GCM))
		random_ops(CIPHER_AES256GCM, 12, 3000);
	TEST_DONE();
	TEST_START("content: random ops vs model, XChaCha20-Poly1305, 4 KiB blocks");
	random_ops(CIPHER_XCHACHA20POLY1305, 12, 1500);
	TEST_DONE();
	TEST_START("content: random ops vs model, AES-GCM, 64 KiB blocks");
	if (cipher_available(CIPHER_AES256GCM))
		random_ops(CIPHER_AES256GCM, 16, 800);
	TEST_DONE();
}

static ssize_t read_at(struct vol *v, struct fcontent *fc, uint8_t *buf, size_t len, size_t off)
{
	struct sink s = {buf, 0};
	return content_read(v, fc, len, off, collect, &s);
}

static void test_tamper(void)
{
	char dir[256], path[300], path2[300];
	struct vol v;
	struct fcontent fc, fc2;
	const size_t B = 4096, S = 4096 + 28, H = FHDR_BYTES;
	uint8_t *data = malloc(5 * B), buf[5 * 4096], slot[4124], slot2[4124];

	TEST_START("content: truncation at a block boundary, tampered/swapped blocks give EIO");
	snprintf(dir, sizeof(dir), "%s/tamper", tmpdir);
	make_vol(&v, dir, cipher_default(), 12);
	log_set_level(-1);
	snprintf(path, sizeof(path), "%s/a", dir);
	snprintf(path2, sizeof(path2), "%s/b", dir);
	for (int f = 0; f < 2; f++) {
		int fd = open(f ? path2 : path, O_RDWR | O_CREAT | O_EXCL, 0600);
		ASSERT_INT_EQ(content_create(&v, fd), 0);
		close(fd);
	}
	randombytes_buf(data, 5 * B);
	open_fc(&v, &fc, path);
	open_fc(&v, &fc2, path2);
	ASSERT_INT_EQ(content_write(&v, &fc, data, 5 * B, 0), (ssize_t)(5 * B));
	ASSERT_INT_EQ(content_write(&v, &fc2, data, 5 * B, 0), (ssize_t)(5 * B));
	content_release(&v, &fc);
	content_release(&v, &fc2);

	int fd = open(path, O_RDWR), fd2 = open(path2, O_RDWR);
	/* a flipped byte in block 2: only block 2 fails */
	ASSERT_INT_EQ(pread(fd, slot, S, (off_t)(H + 2 * S)), (ssize_t)S);
	slot[100] ^= 4;
	ASSERT_INT_EQ(pwrite(fd, slot, S, (off_t)(H + 2 * S)), (ssize_t)S);
	open_fc(&v, &fc, path);
	ASSERT_INT_EQ(read_at(&v, &fc, buf, 2 * B, 0), (ssize_t)(2 * B));
	ASSERT_MEM_EQ(buf, data, 2 * B);
	ASSERT_INT_EQ(read_at(&v, &fc, buf, B, 2 * B), -EIO);
	ASSERT_INT_EQ(read_at(&v, &fc, buf, 100, 2 * B + 50), -EIO);
	ASSERT_INT_EQ(read_at(&v, &fc, buf, 2 * B, 3 * B), (ssize_t)(2 * B));
	ASSERT_MEM_EQ(buf, data + 3 * B, 2 * B);
	content_release(&v, &fc);
	slot[100] ^= 4;
	ASSERT_INT_EQ(pwrite(fd, slot, S, (off_t)(H + 2 * S)), (ssize_t)S);

	/* blocks 1 and 3 swapped */
	ASSERT_INT_EQ(pread(fd, slot, S, (off_t)(H + 1 * S)), (ssize_t)S);
	ASSERT_INT_EQ(pread(fd, slot2, S, (off_t)(H + 3 * S)), (ssize_t)S);
	ASSERT_INT_EQ(pwrite(fd, slot2, S, (off_t)(H + 1 * S)), (ssize_t)S);
	ASSERT_INT_EQ(pwrite(fd, slot, S, (off_t)(H + 3 * S)), (ssize_t)S);
	open_fc(&v, &fc, path);
	ASSERT_INT_EQ(read_at(&v, &fc, buf, B, 1 * B), -EIO);
	ASSERT_INT_EQ(read_at(&v, &fc, buf, B, 3 * B), -EIO);
	ASSERT_INT_EQ(read_at(&v, &fc, buf, B, 0), (ssize_t)B);
	content_release(&v, &fc);
	ASSERT_INT_EQ(pwrite(fd, slot, S, (off_t)(H + 1 * S)), (ssize_t)S);
	ASSERT_INT_EQ(pwrite(fd, slot2, S, (off_t)(H + 3 * S)), (ssize_t)S);

	/* block 2 taken from the other file (same position, same key? no: other key and id) */
	ASSERT_INT_EQ(pread(fd2, slot2, S, (off_t)(H + 2 * S)), (ssize_t)S);
	ASSERT_INT_EQ(pread(fd, slot, S, (off_t)(H + 2 * S)), (ssize_t)S);
	ASSERT_INT_EQ(pwrite(fd, slot2, S, (off_t)(H + 2 * S)), (ssize_t)S);
	open_fc(&v, &fc, path);
	ASSERT_INT_EQ(read_at(&v, &fc, buf, B, 2 * B), -EIO);
	content_release(&v, &fc);
	ASSERT_INT_EQ(pwrite(fd, slot, S, (off_t)(H + 2 * S)), (ssize_t)S);

	/* intact again */
	open_fc(&v, &fc, path);
	ASSERT_INT_EQ(read_at(&v, &fc, buf, 5 * B, 0), (ssize_t)(5 * B));
	ASSERT_MEM_EQ(buf, data, 5 * B);
	content_release(&v, &fc);

	/* cut at each block boundary: the new last block is not final */
	for (size_t keep = 4; keep >= 1; keep--) {
		ASSERT_INT_EQ(ftruncate(fd, (off_t)(H + keep * S)), 0);
		open_fc(&v, &fc, path);
		ASSERT_INT_EQ(content_size(&fc), keep * B);
		ASSERT_INT_EQ(read_at(&v, &fc, buf, B, (keep - 1) * B), -EIO);
		if (keep > 1)
			ASSERT_INT_EQ(read_at(&v, &fc, buf, B, 0), (ssize_t)B);
		content_release(&v, &fc);
	}
	/* header only: no final block at all; nothing to read, the open fails */
	ASSERT_INT_EQ(ftruncate(fd, (off_t)H), 0);
	ASSERT_INT_EQ(open_fc_r(&v, &fc, path, 0), -EIO);
	ASSERT_INT_EQ(open_fc_r(&v, &fc, path, 1), 0);
	ASSERT_INT_EQ(content_size(&fc), 0);
	ASSERT_INT_EQ(read_at(&v, &fc, buf, B, 0), -EIO);
	ASSERT_INT_EQ(content_write(&v, &fc, data, 10, 0), -EIO);
	content_release(&v, &fc);
	/* a stored length no writer makes: an empty block after a full one,
	 * or a cut inside the nonce */
	ASSERT_INT_EQ(ftruncate(fd, (off_t)(H + S + 28)), 0);
	open_fc(&v, &fc, path);
	ASSERT_INT_EQ(read_at(&v, &fc, buf, B, 0), -EIO);
	content_release(&v, &fc);
	ASSERT_INT_EQ(ftruncate(fd, (off_t)(H + 10)), 0);
	ASSERT_INT_EQ(open_fc_r(&v, &fc, path, 0), -EIO);
	ASSERT_INT_EQ(open_fc_r(&v, &fc, path, 1), 0);
	ASSERT_INT_EQ(read_at(&v, &fc, buf, 1, 0), -EIO);
	/* truncation to zero starts the file afresh */
	ASSERT_INT_EQ(content_truncate(&v, &fc, 0), 0);
	ASSERT_INT_EQ(content_write(&v, &fc, data, 10, 0), 10);
	ASSERT_INT_EQ(read_at(&v, &fc, buf, 10, 0), 10);
	ASSERT_MEM_EQ(buf, data, 10);
	content_release(&v, &fc);
	/* a flipped header byte: open fails */
	ASSERT_INT_EQ(pread(fd, slot, H, 0), (ssize_t)H);
	for (size_t i = 0; i < H; i += 7) {
		slot[i] ^= 0x20;
		ASSERT_INT_EQ(pwrite(fd, slot, H, 0), (ssize_t)H);
		int fd3 = open(path, O_RDWR);
		if (content_init(&v, &fc, fd3, 1, 0) != -EIO)
			UNIT_FAIL("header byte %zu flipped: open did not fail with EIO", i);
		slot[i] ^= 0x20;
	}
	close(fd);
	close(fd2);
	vol_close(&v);
	free(data);
	TEST_DONE();
}

static void test_revoked(void)
{
	char dir[256], path[300];
	struct vol v;
	struct fcontent fc;
	uint8_t buf[100];

	TEST_START("content: after the gate closes nothing decrypts or encrypts");
	snprintf(dir, sizeof(dir), "%s/revoked", tmpdir);
	make_vol(&v, dir, cipher_default(), 12);
	snprintf(path, sizeof(path), "%s/a", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_INT_EQ(content_create(&v, fd), 0);
	close(fd);
	open_fc(&v, &fc, path);
	ASSERT_INT_EQ(content_write(&v, &fc, "secret", 6, 0), 6);
	vol_wipe(&v, VOL_REVOKED);
	ASSERT_INT_EQ(read_at(&v, &fc, buf, 6, 0), -EKEYREVOKED);
	ASSERT_INT_EQ(content_write(&v, &fc, "more", 4, 6), -EKEYREVOKED);
	ASSERT_INT_EQ(content_truncate(&v, &fc, 3), -EKEYREVOKED);
	ASSERT_TRUE(sodium_is_zero((const uint8_t *)fc.key, sizeof(*fc.key)));
	content_release(&v, &fc);
	fd = open(path, O_RDWR);
	ASSERT_INT_EQ(content_init(&v, &fc, fd, 1, 0), -EKEYREVOKED);
	vol_close(&v);
	TEST_DONE();
}

int main(void)
{
	if (secmem_init() < 0 || !mkdtemp(tmpdir))
		return 1;
	test_random();
	test_tamper();
	test_revoked();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	UNIT_END();
}
