/* SPDX-License-Identifier: MIT */
/*
 * Block AEAD: one plaintext block <-> nonce || ciphertext || tag.
 *
 * Associated data (25 bytes) = file id (16) || block index (u64 LE) || final
 * flag (1 byte, 1 for the last block of the file). A block moved to another
 * file or position, or a file cut at a block boundary, fails authentication.
 * A stored block of all zero bytes is a hole (see blk_is_hole).
 */
#ifndef BYOKFS_CRYPTO_BLK_H
#define BYOKFS_CRYPTO_BLK_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/params.h"

#define BLK_TAG_BYTES 16
#define BLK_NONCE_MAX 24
#define BLK_AD_BYTES (BYOKFS_FILE_ID_BYTES + 8 + 1)

/* An expanded data key. Lives in a key-pool slot (secure memory). */
struct blk_key {
	crypto_aead_aes256gcm_state aes; /* first: needs 16-byte alignment */
	uint8_t raw[BYOKFS_KEY_BYTES];
	int cipher;                      /* enum byokfs_cipher; 0 = wiped */
};

/* Nonce bytes stored in front of each block for the cipher. */
size_t blk_nonce_bytes(enum byokfs_cipher c);
/* Nonce + tag: what a block costs on disk beyond its plaintext. */
size_t blk_overhead(enum byokfs_cipher c);

/* Expands raw into k. Returns 0, or -EINVAL for an unusable cipher. */
int blk_key_init(struct blk_key *k, enum byokfs_cipher c, const uint8_t raw[BYOKFS_KEY_BYTES]);

/*
 * Encrypts len bytes (0..block size) of block `index` into out, which must
 * hold len + blk_overhead() bytes. nonce holds blk_nonce_bytes() random bytes
 * (the caller draws them, many blocks at a time). Returns 0 or -EINVAL.
 */
int blk_encrypt(const struct blk_key *k, const uint8_t file_id[BYOKFS_FILE_ID_BYTES],
		uint64_t index, int final, const uint8_t *nonce,
		const uint8_t *pt, size_t len, uint8_t *out);

/*
 * Verifies and decrypts a stored block of inlen bytes into pt (inlen -
 * overhead bytes). Returns the plaintext length, or -EBADMSG when
 * authentication fails (pt is then wiped), -EINVAL when inlen is too short.
 */
__attribute__((warn_unused_result))
long blk_decrypt(const struct blk_key *k, const uint8_t file_id[BYOKFS_FILE_ID_BYTES],
		 uint64_t index, int final, const uint8_t *in, size_t inlen, uint8_t *pt);

/*
 * 1 if a stored block is a hole: all of its bytes are zero (a random nonce
 * is never all zero in practice). Holes read as zeros.
 */
int blk_is_hole(const uint8_t *in, size_t inlen);

#endif
