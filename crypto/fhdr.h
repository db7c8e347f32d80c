/* SPDX-License-Identifier: MIT */
/*
 * The per-file header: the first FHDR_BYTES bytes of every backing file.
 *
 *   off len
 *     0   4  magic "BYKF"
 *     4   1  format version (1)
 *     5   1  cipher (enum byokfs_cipher)
 *     6   1  log2 of the block size (12..16)
 *     7   1  reserved, 0
 *     8   4  key epoch, u32 LE: which volume key wrapped the data key
 *    12   4  reserved, 0
 *    16  16  file id (random)
 *    32  24  wrap nonce (random)
 *    56  48  data key (32) wrapped with XChaCha20-Poly1305 under the header
 *            key, tag (16) included; AD = bytes 0..31 || volume id
 *
 * Calling sequence:
 *   new file:   fhdr_create() -> fhdr_encode() -> write; keep the data key
 *   open file:  read -> fhdr_decode() -> fhdr_unwrap() -> blk_key_init()
 *   rekey:      fhdr_unwrap(old key) -> fhdr_rewrap(new key) -> fhdr_encode()
 */
#ifndef BYOKFS_CRYPTO_FHDR_H
#define BYOKFS_CRYPTO_FHDR_H

#include <stdint.h>

#include "crypto/params.h"

#define FHDR_BYTES 104
#define FHDR_MAGIC "BYKF"

struct fhdr {
	uint8_t version;
	uint8_t cipher;
	uint8_t block_shift;
	uint32_t key_epoch;
	uint8_t file_id[BYOKFS_FILE_ID_BYTES];
	uint8_t wrap_nonce[24];
	uint8_t wrapped[BYOKFS_KEY_BYTES + 16];
};

/*
 * Makes a header for a new file: random file id and data key, the data key
 * wrapped under header_key. dek receives the data key (caller wipes it).
 */
void fhdr_create(struct fhdr *h, enum byokfs_cipher cipher, unsigned block_shift,
		 uint32_t key_epoch, const uint8_t header_key[BYOKFS_KEY_BYTES],
		 const uint8_t volume_id[BYOKFS_VOLUME_ID_BYTES], uint8_t dek[BYOKFS_KEY_BYTES]);

void fhdr_encode(const struct fhdr *h, uint8_t out[FHDR_BYTES]);

/*
 * Parses the fixed fields. Returns 0, or -EBADMSG when the magic, version,
 * cipher, block size or reserved bytes are wrong. Does not authenticate:
 * fhdr_unwrap does.
 */
__attribute__((warn_unused_result))
int fhdr_decode(struct fhdr *h, const uint8_t in[FHDR_BYTES]);

/* Authenticates the header and unwraps its data key. 0 or -EBADMSG. */
__attribute__((warn_unused_result))
int fhdr_unwrap(const struct fhdr *h, const uint8_t header_key[BYOKFS_KEY_BYTES],
		const uint8_t volume_id[BYOKFS_VOLUME_ID_BYTES], uint8_t dek[BYOKFS_KEY_BYTES]);

/* Wraps dek again (fresh nonce) under header_key with a new key epoch. */
void fhdr_rewrap(struct fhdr *h, const uint8_t dek[BYOKFS_KEY_BYTES], uint32_t key_epoch,
		 const uint8_t header_key[BYOKFS_KEY_BYTES],
		 const uint8_t volume_id[BYOKFS_VOLUME_ID_BYTES]);

#endif
