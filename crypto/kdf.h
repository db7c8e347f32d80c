/* SPDX-License-Identifier: MIT */
/*
 * Keys derived from the volume key (BLAKE2b via crypto_kdf, context
 * "byokfsV1"). One volume key yields every key the volume uses except the
 * per-file data keys, which are random and wrapped with vkeys.header.
 */
#ifndef BYOKFS_CRYPTO_KDF_H
#define BYOKFS_CRYPTO_KDF_H

#include <stdint.h>

#include "crypto/params.h"

/* Subkey ids: part of the format. */
enum kdf_subkey {
	KDF_HEADER = 1,   /* wraps per-file data keys */
	KDF_NAME_MAC = 2, /* SIV tag of file names */
	KDF_NAME_ENC = 3, /* stream key of file names */
	KDF_DESC_MAC = 4, /* authenticates the volume descriptor */
	KDF_LINK = 5,     /* symlink targets */
	KDF_XATTR = 6,    /* extended attribute values */
	KDF_REKEY = 7,    /* seals the previous volume key during a rekey */
};

/* Every key a mounted volume holds. Lives in secure memory only. */
struct vkeys {
	uint8_t volume[BYOKFS_KEY_BYTES];
	uint8_t header[BYOKFS_KEY_BYTES];
	uint8_t name_mac[BYOKFS_KEY_BYTES];
	uint8_t name_enc[BYOKFS_KEY_BYTES];
	uint8_t desc_mac[BYOKFS_KEY_BYTES];
	uint8_t link[BYOKFS_KEY_BYTES];
	uint8_t xattr[BYOKFS_KEY_BYTES];
};

/* Fills keys->volume with vkey and derives the rest. */
void vkeys_derive(struct vkeys *keys, const uint8_t vkey[BYOKFS_KEY_BYTES]);

/* Derives one subkey; exposed for tests and docs. */
void kdf_derive(uint8_t out[BYOKFS_KEY_BYTES], enum kdf_subkey id,
		const uint8_t vkey[BYOKFS_KEY_BYTES]);

#endif
