/* SPDX-License-Identifier: MIT */
/*
 * Sizes and identifiers fixed by the byokfs on-disk format (docs/FORMAT.md).
 * Everything here is part of format version 1: changing a value is a format
 * change.
 */
#ifndef BYOKFS_CRYPTO_PARAMS_H
#define BYOKFS_CRYPTO_PARAMS_H

#define BYOKFS_FORMAT_VERSION 1

#define BYOKFS_KEY_BYTES        32 /* master, volume, data and derived keys */
#define BYOKFS_VOLUME_ID_BYTES  16
#define BYOKFS_FILE_ID_BYTES    16
#define BYOKFS_DIR_ID_BYTES     16

#define BYOKFS_BLOCK_SHIFT_MIN  12 /* 4 KiB */
#define BYOKFS_BLOCK_SHIFT_MAX  16 /* 64 KiB */
#define BYOKFS_BLOCK_SHIFT_DEFAULT 12

/* Block ciphers. The number is what the file header stores. */
enum byokfs_cipher {
	CIPHER_NONE = 0,
	CIPHER_AES256GCM = 1,
	CIPHER_XCHACHA20POLY1305 = 2,
};

/* Canonical names, as written in the volume descriptor. */
const char *cipher_name(enum byokfs_cipher c);
/* Returns the cipher for a canonical name, or CIPHER_NONE. */
enum byokfs_cipher cipher_from_name(const char *name);
/* 1 when this machine can run the cipher (AES-GCM needs AES-NI/PCLMUL). */
int cipher_available(enum byokfs_cipher c);
/* The default for new volumes: AES-256-GCM when available. */
enum byokfs_cipher cipher_default(void);

#endif
