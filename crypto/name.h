/* SPDX-License-Identifier: MIT */
/*
 * File-name encryption: deterministic, authenticated, bound to the parent
 * directory's random id (SIV construction from libsodium primitives).
 *
 *   padded = name || n bytes of value n   (n = 16 - len % 16, 1..16)
 *   tag    = BLAKE2b-128(key = name_mac, dirid || padded)
 *   ct     = XChaCha20(key = name_enc, nonce = tag || 0^8, padded)
 *   stored = base64url without padding (tag || ct)
 *
 * Equal names in one directory encrypt equally (so lookups need no listing);
 * in different directories they differ. Names whose encoding is longer than
 * the volume's longname_max are stored as a hashed entry (".L" +
 * base64url(BLAKE2b-256(encoding))) with the encoding in a side file.
 */
#ifndef BYOKFS_CRYPTO_NAME_H
#define BYOKFS_CRYPTO_NAME_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/params.h"

#define NAME_PLAIN_MAX 255 /* NAME_MAX */
#define NAME_TAG_BYTES 16
/* Longest encoding: tag + 256 padded bytes, base64url = 363 chars. */
#define NAME_ENC_MAX 364
#define NAME_LONG_PREFIX ".L"
#define NAME_LONG_SUFFIX ".name"
#define NAME_LONG_CHARS (2 + 43) /* ".L" + base64url(32 bytes) */

struct name_keys {
	const uint8_t *mac; /* BYOKFS_KEY_BYTES, secure memory */
	const uint8_t *enc;
};

/*
 * Encrypts name (len bytes, 1..255, no '/' or NUL, not "." or "..") into a
 * NUL-terminated encoding in out (NAME_ENC_MAX + 1 bytes). Returns the
 * encoding's length, -EINVAL for a bad name or -ENAMETOOLONG.
 */
int name_encrypt(const struct name_keys *k, const uint8_t dirid[BYOKFS_DIR_ID_BYTES],
		 const char *name, size_t len, char *out);

/*
 * Decrypts an encoding back into out (NAME_PLAIN_MAX + 1 bytes, NUL
 * terminated). Returns the name's length, or -EBADMSG when the encoding is
 * malformed or fails authentication.
 */
__attribute__((warn_unused_result))
int name_decrypt(const struct name_keys *k, const uint8_t dirid[BYOKFS_DIR_ID_BYTES],
		 const char *enc, size_t enclen, char *out);

/* The hashed backing name of a long encoding, NUL terminated (NAME_LONG_CHARS + 1). */
void name_long_entry(const char *enc, size_t enclen, char out[NAME_LONG_CHARS + 1]);

/* 1 if a backing entry name is a hashed long-name entry (not its side file). */
int name_is_long_entry(const char *bname);

#endif
