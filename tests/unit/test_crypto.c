/* SPDX-License-Identifier: MIT */
/*
 * crypto/ unit tests: known answers from the independent oracle
 * (tests/unit/vectors.h), round trips, and tamper rejection: every single
 * byte flip of a header, a block and an encrypted name; blocks moved
 * between positions and files; the final flag.
 */
#include <errno.h>
#include <sodium.h>

#include "crypto/blk.h"
#include "crypto/fhdr.h"
#include "crypto/kdf.h"
#include "crypto/name.h"
#include "crypto/seal.h"
#include "crypto/secmem.h"
#include "tests/unit/unit.h"
#include "tests/unit/vectors.h"

static const uint8_t *U(const char *s)
{
	return (const uint8_t *)s;
}

static void test_kdf(void)
{
	struct vkeys *k = secmem_alloc(sizeof(*k));

	TEST_START("kdf: subkeys match the oracle");
	vkeys_derive(k, U(KAT_VKEY));
	ASSERT_MEM_EQ(k->header, KAT_SUBKEY_HEADER, 32);
	ASSERT_MEM_EQ(k->name_mac, KAT_SUBKEY_NAME_MAC, 32);
	ASSERT_MEM_EQ(k->name_enc, KAT_SUBKEY_NAME_ENC, 32);
	ASSERT_MEM_EQ(k->desc_mac, KAT_SUBKEY_DESC_MAC, 32);
	ASSERT_MEM_EQ(k->link, KAT_SUBKEY_LINK, 32);
	ASSERT_MEM_EQ(k->xattr, KAT_SUBKEY_XATTR, 32);
	secmem_free(k);
	TEST_DONE();
}

static void block_kat(enum byokfs_cipher c, const char *stored, size_t stored_len,
		      const uint8_t *nonce)
{
	struct blk_key *k = secmem_alloc(sizeof(*k));
	uint8_t out[256], pt[256];

	ASSERT_INT_EQ(blk_key_init(k, c, U(KAT_DEK)), 0);
	ASSERT_INT_EQ(blk_overhead(c) + KAT_BLOCK_PT_LEN, stored_len);
	ASSERT_INT_EQ(blk_encrypt(k, U(KAT_FILE_ID), 5, 1, nonce, U(KAT_BLOCK_PT), KAT_BLOCK_PT_LEN, out), 0);
	ASSERT_MEM_EQ(out, stored, stored_len);
	ASSERT_INT_EQ(blk_decrypt(k, U(KAT_FILE_ID), 5, 1, U(stored), stored_len, pt), KAT_BLOCK_PT_LEN);
	ASSERT_MEM_EQ(pt, KAT_BLOCK_PT, KAT_BLOCK_PT_LEN);
	/* the same bytes at another index, in another file, or not final */
	ASSERT_INT_EQ(blk_decrypt(k, U(KAT_FILE_ID), 4, 1, U(stored), stored_len, pt), -EBADMSG);
	ASSERT_INT_EQ(blk_decrypt(k, U(KAT_FILE_ID), 5, 0, U(stored), stored_len, pt), -EBADMSG);
	uint8_t other[BYOKFS_FILE_ID_BYTES];
	memcpy(other, KAT_FILE_ID, sizeof(other));
	other[15] ^= 1;
	ASSERT_INT_EQ(blk_decrypt(k, other, 5, 1, U(stored), stored_len, pt), -EBADMSG);
	secmem_free(k);
}

static void test_block_kat(void)
{
	uint8_t n[24];

	TEST_START("block: AES-256-GCM known answer, index/file/final bound");
	for (int i = 0; i < 24; i++)
		n[i] = (uint8_t)(0x10 + i);
	if (cipher_available(CIPHER_AES256GCM))
		block_kat(CIPHER_AES256GCM, KAT_BLOCK_GCM, KAT_BLOCK_GCM_LEN, n);
	TEST_DONE();
	TEST_START("block: XChaCha20-Poly1305 known answer, index/file/final bound");
	block_kat(CIPHER_XCHACHA20POLY1305, KAT_BLOCK_XCHACHA, KAT_BLOCK_XCHACHA_LEN, n);
	TEST_DONE();
}

static void flip_every_byte(enum byokfs_cipher c, size_t len)
{
	struct blk_key *k = secmem_alloc(sizeof(*k));
	size_t o = blk_overhead(c);
	uint8_t *pt = malloc(len + 1), *st = malloc(len + o), *back = malloc(len + 1);
	uint8_t nonce[24], fid[16];

	randombytes_buf(pt, len);
	randombytes_buf(nonce, sizeof(nonce));
	randombytes_buf(fid, sizeof(fid));
	ASSERT_INT_EQ(blk_key_init(k, c, U(KAT_DEK)), 0);
	ASSERT_INT_EQ(blk_encrypt(k, fid, 9, 0, nonce, pt, len, st), 0);
	ASSERT_INT_EQ(blk_decrypt(k, fid, 9, 0, st, len + o, back), (long)len);
	ASSERT_MEM_EQ(back, pt, len);
	for (size_t i = 0; i < len + o; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			st[i] ^= (uint8_t)(1 << bit);
			if (blk_decrypt(k, fid, 9, 0, st, len + o, back) != -EBADMSG)
				UNIT_FAIL("flip of bit %d in byte %zu of a %zu-byte block accepted", bit, i, len);
			st[i] ^= (uint8_t)(1 << bit);
		}
	}
	/* a truncated stored block (cut inside) fails too */
	if (len > 0)
		ASSERT_INT_EQ(blk_decrypt(k, fid, 9, 0, st, len + o - 1, back), -EBADMSG);
	free(pt);
	free(st);
	free(back);
	secmem_free(k);
}

static void test_block_flips(void)
{
	TEST_START("block: every single-byte flip rejected (both ciphers, 0/1/100/4096 bytes)");
	size_t sizes[] = {0, 1, 100, 4096};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (cipher_available(CIPHER_AES256GCM))
			flip_every_byte(CIPHER_AES256GCM, sizes[i]);
		flip_every_byte(CIPHER_XCHACHA20POLY1305, sizes[i]);
	}
	TEST_DONE();
}

static void test_hole(void)
{
	uint8_t z[4124] = {0};

	TEST_START("block: all-zero stored blocks are holes, others are not");
	ASSERT_TRUE(blk_is_hole(z, sizeof(z)));
	z[4000] = 1;
	ASSERT_TRUE(!blk_is_hole(z, sizeof(z)));
	z[4000] = 0;
	z[0] = 1;
	ASSERT_TRUE(!blk_is_hole(z, sizeof(z)));
	TEST_DONE();
}

static void test_header(void)
{
	uint8_t *dek = secmem_alloc(32), raw[FHDR_BYTES], hk[32];
	struct fhdr h, h2;

	TEST_START("header: oracle's header decodes and unwraps");
	memcpy(hk, KAT_SUBKEY_HEADER, 32);
	ASSERT_INT_EQ(KAT_HEADER_LEN, FHDR_BYTES);
	ASSERT_INT_EQ(fhdr_decode(&h, U(KAT_HEADER)), 0);
	ASSERT_INT_EQ(h.cipher, CIPHER_AES256GCM);
	ASSERT_INT_EQ(h.block_shift, 12);
	ASSERT_INT_EQ(h.key_epoch, 7);
	ASSERT_MEM_EQ(h.file_id, KAT_FILE_ID, 16);
	ASSERT_INT_EQ(fhdr_unwrap(&h, hk, U(KAT_VOLUME_ID), dek), 0);
	ASSERT_MEM_EQ(dek, KAT_DEK, 32);
	fhdr_encode(&h, raw);
	ASSERT_MEM_EQ(raw, KAT_HEADER, FHDR_BYTES);
	TEST_DONE();

	TEST_START("header: every single-byte flip rejected; wrong volume rejected");
	for (size_t i = 0; i < FHDR_BYTES; i++) {
		memcpy(raw, KAT_HEADER, FHDR_BYTES);
		raw[i] ^= 0x01;
		if (fhdr_decode(&h2, raw) == 0 && fhdr_unwrap(&h2, hk, U(KAT_VOLUME_ID), dek) == 0)
			UNIT_FAIL("flip of header byte %zu accepted", i);
	}
	uint8_t vid[16];
	memcpy(vid, KAT_VOLUME_ID, 16);
	vid[0] ^= 0x80;
	ASSERT_INT_EQ(fhdr_decode(&h2, U(KAT_HEADER)), 0);
	ASSERT_INT_EQ(fhdr_unwrap(&h2, hk, vid, dek), -EBADMSG);
	TEST_DONE();

	TEST_START("header: create/rewrap round trip");
	uint8_t *dek2 = secmem_alloc(32);
	fhdr_create(&h, CIPHER_XCHACHA20POLY1305, 16, 3, hk, U(KAT_VOLUME_ID), dek);
	fhdr_encode(&h, raw);
	ASSERT_INT_EQ(fhdr_decode(&h2, raw), 0);
	ASSERT_INT_EQ(fhdr_unwrap(&h2, hk, U(KAT_VOLUME_ID), dek2), 0);
	ASSERT_MEM_EQ(dek, dek2, 32);
	uint8_t hk2[32];
	randombytes_buf(hk2, 32);
	fhdr_rewrap(&h2, dek, 4, hk2, U(KAT_VOLUME_ID));
	ASSERT_INT_EQ(fhdr_unwrap(&h2, hk, U(KAT_VOLUME_ID), dek2), -EBADMSG);
	ASSERT_INT_EQ(fhdr_unwrap(&h2, hk2, U(KAT_VOLUME_ID), dek2), 0);
	ASSERT_MEM_EQ(dek, dek2, 32);
	ASSERT_INT_EQ(h2.key_epoch, 4);
	secmem_free(dek2);
	secmem_free(dek);
	TEST_DONE();
}

static void test_names(void)
{
	struct name_keys nk = {U(KAT_SUBKEY_NAME_MAC), U(KAT_SUBKEY_NAME_ENC)};
	char enc[NAME_ENC_MAX + 1], out[NAME_PLAIN_MAX + 1], entry[NAME_LONG_CHARS + 1];
	uint8_t dirid[16];
	int n;

	TEST_START("names: oracle's encodings, both directions");
	memcpy(dirid, KAT_DIRID, 16);
	n = name_encrypt(&nk, dirid, KAT_NAME1_PLAIN, strlen(KAT_NAME1_PLAIN), enc);
	ASSERT_INT_EQ(n, (int)strlen(KAT_NAME1_ENC));
	ASSERT_STR_EQ(enc, KAT_NAME1_ENC);
	n = name_encrypt(&nk, dirid, KAT_NAME2_PLAIN, KAT_NAME2_PLAIN_LEN, enc);
	ASSERT_STR_EQ(enc, KAT_NAME2_ENC);
	ASSERT_INT_EQ(name_decrypt(&nk, dirid, KAT_NAME2_ENC, strlen(KAT_NAME2_ENC), out),
		      KAT_NAME2_PLAIN_LEN);
	ASSERT_MEM_EQ(out, KAT_NAME2_PLAIN, KAT_NAME2_PLAIN_LEN);
	name_long_entry(KAT_NAME2_ENC, strlen(KAT_NAME2_ENC), entry);
	ASSERT_STR_EQ(entry, KAT_NAME2_LONG_ENTRY);
	ASSERT_TRUE(name_is_long_entry(entry));
	ASSERT_TRUE(!name_is_long_entry(KAT_NAME1_ENC));
	TEST_DONE();

	TEST_START("names: every length 1..255 round trips; bound to the directory");
	for (int len = 1; len <= 255; len++) {
		char name[256];
		for (int i = 0; i < len; i++)
			name[i] = (char)('a' + (i * 7 + len) % 26);
		name[len] = '\0';
		n = name_encrypt(&nk, dirid, name, (size_t)len, enc);
		ASSERT_TRUE(n > 0 && n <= NAME_ENC_MAX && enc[0] != '.');
		ASSERT_INT_EQ(name_decrypt(&nk, dirid, enc, (size_t)n, out), len);
		ASSERT_STR_EQ(out, name);
		dirid[3] ^= 1;
		ASSERT_INT_EQ(name_decrypt(&nk, dirid, enc, (size_t)n, out), -EBADMSG);
		dirid[3] ^= 1;
	}
	TEST_DONE();

	TEST_START("names: every single-character change of an encoding rejected");
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	n = name_encrypt(&nk, dirid, "train-2026.jsonl", 16, enc);
	for (int i = 0; i < n; i++) {
		char saved = enc[i];
		/* two different replacements per position */
		for (int k = 1; k <= 2; k++) {
			enc[i] = alphabet[((strchr(alphabet, saved) - alphabet) + 13 * k) % 64];
			if (name_decrypt(&nk, dirid, enc, (size_t)n, out) >= 0)
				UNIT_FAIL("changed character %d of an encoding accepted", i);
		}
		enc[i] = saved;
	}
	ASSERT_INT_EQ(name_decrypt(&nk, dirid, enc, (size_t)n - 1, out), -EBADMSG);
	TEST_DONE();

	TEST_START("names: invalid names refused");
	ASSERT_INT_EQ(name_encrypt(&nk, dirid, "a/b", 3, enc), -EINVAL);
	ASSERT_INT_EQ(name_encrypt(&nk, dirid, ".", 1, enc), -EINVAL);
	ASSERT_INT_EQ(name_encrypt(&nk, dirid, "..", 2, enc), -EINVAL);
	ASSERT_INT_EQ(name_encrypt(&nk, dirid, "", 0, enc), -EINVAL);
	char big[257];
	memset(big, 'x', 256);
	big[256] = 0;
	ASSERT_INT_EQ(name_encrypt(&nk, dirid, big, 256, enc), -ENAMETOOLONG);
	ASSERT_INT_EQ(name_decrypt(&nk, dirid, "not base64!", 11, out), -EBADMSG);
	TEST_DONE();
}

static void test_symlink(void)
{
	char enc[4096], out[4096];
	int n;

	TEST_START("symlink: oracle's target decrypts; round trip; tamper rejected");
	n = symlink_decrypt(U(KAT_SUBKEY_LINK), KAT_LINK_ENC, strlen(KAT_LINK_ENC), out, sizeof(out));
	ASSERT_INT_EQ(n, (int)strlen(KAT_LINK_TARGET));
	ASSERT_STR_EQ(out, KAT_LINK_TARGET);
	ASSERT_INT_EQ(symlink_plain_len(strlen(KAT_LINK_ENC)), strlen(KAT_LINK_TARGET));
	for (size_t len = 1; len < 3000; len += 97) {
		char t[3000];
		memset(t, 'q', len);
		t[len] = 0;
		n = symlink_encrypt(U(KAT_SUBKEY_LINK), t, len, enc, sizeof(enc));
		ASSERT_TRUE(n > 0);
		ASSERT_INT_EQ(symlink_plain_len((size_t)n), len);
		ASSERT_INT_EQ(symlink_decrypt(U(KAT_SUBKEY_LINK), enc, (size_t)n, out, sizeof(out)), (int)len);
		ASSERT_STR_EQ(out, t);
		enc[n / 2] = enc[n / 2] == 'A' ? 'B' : 'A';
		ASSERT_INT_EQ(symlink_decrypt(U(KAT_SUBKEY_LINK), enc, (size_t)n, out, sizeof(out)), -EBADMSG);
	}
	char huge[4000];
	memset(huge, 'z', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = 0;
	ASSERT_INT_EQ(symlink_encrypt(U(KAT_SUBKEY_LINK), huge, strlen(huge), enc, sizeof(enc)), -ENAMETOOLONG);
	TEST_DONE();
}

static void test_keypool(void)
{
	struct keypool *p = keypool_new(sizeof(struct blk_key));
	void *slots[200];

	TEST_START("keypool: slots are distinct, zeroed, wiped and reused");
	for (int i = 0; i < 200; i++) {
		slots[i] = keypool_get(p);
		ASSERT_TRUE(slots[i] != NULL);
		ASSERT_TRUE(sodium_is_zero(slots[i], sizeof(struct blk_key)));
		memset(slots[i], 0xAB, sizeof(struct blk_key));
	}
	ASSERT_INT_EQ(keypool_in_use(p), 200);
	keypool_wipe_all(p);
	for (int i = 0; i < 200; i++)
		ASSERT_TRUE(sodium_is_zero(slots[i], sizeof(struct blk_key)));
	for (int i = 0; i < 200; i += 2)
		keypool_put(p, slots[i]);
	ASSERT_INT_EQ(keypool_in_use(p), 100);
	void *again = keypool_get(p);
	int reused = 0;
	for (int i = 0; i < 200; i += 2)
		reused |= again == slots[i];
	ASSERT_TRUE(reused);
	keypool_free(p);
	TEST_DONE();
}

int main(void)
{
	if (secmem_init() < 0)
		return 1;
	test_kdf();
	test_block_kat();
	test_block_flips();
	test_hole();
	test_header();
	test_names();
	test_symlink();
	test_keypool();
	UNIT_END();
}
