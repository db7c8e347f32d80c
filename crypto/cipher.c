/* SPDX-License-Identifier: MIT */
/* Cipher names and availability (format version 1). */
#include "crypto/params.h"

#include <sodium.h>
#include <string.h>

const char *cipher_name(enum byokfs_cipher c)
{
	switch (c) {
	case CIPHER_AES256GCM:
		return "aes-256-gcm";
	case CIPHER_XCHACHA20POLY1305:
		return "xchacha20-poly1305";
	default:
		return "none";
	}
}

enum byokfs_cipher cipher_from_name(const char *name)
{
	if (!strcmp(name, "aes-256-gcm"))
		return CIPHER_AES256GCM;
	if (!strcmp(name, "xchacha20-poly1305"))
		return CIPHER_XCHACHA20POLY1305;
	return CIPHER_NONE;
}

int cipher_available(enum byokfs_cipher c)
{
	switch (c) {
	case CIPHER_AES256GCM:
		return crypto_aead_aes256gcm_is_available();
	case CIPHER_XCHACHA20POLY1305:
		return 1;
	default:
		return 0;
	}
}

enum byokfs_cipher cipher_default(void)
{
	return cipher_available(CIPHER_AES256GCM) ? CIPHER_AES256GCM : CIPHER_XCHACHA20POLY1305;
}
