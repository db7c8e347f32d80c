/* SPDX-License-Identifier: MIT */
/*
 * Small sealed values: symlink targets, extended attribute values and the
 * local provider's wrapped volume key. XChaCha20-Poly1305 with a random
 * nonce: sealed = nonce (24) || ciphertext || tag (16).
 */
#ifndef BYOKFS_CRYPTO_SEAL_H
#define BYOKFS_CRYPTO_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/params.h"

#define SEAL_OVERHEAD 40

/* Seals len bytes into out (len + SEAL_OVERHEAD bytes). */
void seal(const uint8_t key[BYOKFS_KEY_BYTES], const uint8_t *ad, size_t adlen,
	  const uint8_t *pt, size_t len, uint8_t *out);

/*
 * Opens a sealed value of inlen bytes into pt (inlen - SEAL_OVERHEAD bytes).
 * Returns the plaintext length or -EBADMSG.
 */
__attribute__((warn_unused_result))
long unseal(const uint8_t key[BYOKFS_KEY_BYTES], const uint8_t *ad, size_t adlen,
	    const uint8_t *in, size_t inlen, uint8_t *pt);

/* The symlink target encoding: base64url(seal(link key, "byokfs-symlink-v1", target)). */
/* Returns the encoding length or -ENAMETOOLONG when it would exceed cap - 1. */
int symlink_encrypt(const uint8_t key[BYOKFS_KEY_BYTES], const char *target, size_t len,
		    char *out, size_t cap);
/* Returns the target length (out NUL terminated, cap bytes) or -EBADMSG. */
__attribute__((warn_unused_result))
int symlink_decrypt(const uint8_t key[BYOKFS_KEY_BYTES], const char *enc, size_t enclen,
		    char *out, size_t cap);
/* Plaintext length of a target encoding of enclen chars (for st_size). */
size_t symlink_plain_len(size_t enclen);

#endif
