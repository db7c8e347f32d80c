/* SPDX-License-Identifier: MIT */
/* Per-file header: encoding and data-key wrapping (layout in fhdr.h). */
#include "crypto/fhdr.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#define FHDR_AD_FIXED 32

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void fhdr_encode(const struct fhdr *h, uint8_t out[FHDR_BYTES])
{
	memset(out, 0, FHDR_BYTES);
	memcpy(out, FHDR_MAGIC, 4);
	out[4] = h->version;
	out[5] = h->cipher;
	out[6] = h->block_shift;
	put32(out + 8, h->key_epoch);
	memcpy(out + 16, h->file_id, BYOKFS_FILE_ID_BYTES);
	memcpy(out + 32, h->wrap_nonce, sizeof(h->wrap_nonce));
	memcpy(out + 56, h->wrapped, sizeof(h->wrapped));
}

int fhdr_decode(struct fhdr *h, const uint8_t in[FHDR_BYTES])
{
	static const uint8_t zero[4];

	if (memcmp(in, FHDR_MAGIC, 4) != 0 || in[4] != BYOKFS_FORMAT_VERSION)
		return -EBADMSG;
	if (in[5] != CIPHER_AES256GCM && in[5] != CIPHER_XCHACHA20POLY1305)
		return -EBADMSG;
	if (in[6] < BYOKFS_BLOCK_SHIFT_MIN || in[6] > BYOKFS_BLOCK_SHIFT_MAX)
		return -EBADMSG;
	if (in[7] != 0 || memcmp(in + 12, zero, 4) != 0)
		return -EBADMSG;
	h->version = in[4];
	h->cipher = in[5];
	h->block_shift = in[6];
	h->key_epoch = get32(in + 8);
	memcpy(h->file_id, in + 16, BYOKFS_FILE_ID_BYTES);
	memcpy(h->wrap_nonce, in + 32, sizeof(h->wrap_nonce));
	memcpy(h->wrapped, in + 56, sizeof(h->wrapped));
	return 0;
}

static void fhdr_ad(const struct fhdr *h, const uint8_t volume_id[BYOKFS_VOLUME_ID_BYTES],
		    uint8_t ad[FHDR_AD_FIXED + BYOKFS_VOLUME_ID_BYTES])
{
	uint8_t enc[FHDR_BYTES];

	fhdr_encode(h, enc);
	memcpy(ad, enc, FHDR_AD_FIXED);
	memcpy(ad + FHDR_AD_FIXED, volume_id, BYOKFS_VOLUME_ID_BYTES);
}

void fhdr_rewrap(struct fhdr *h, const uint8_t dek[BYOKFS_KEY_BYTES], uint32_t key_epoch,
		 const uint8_t header_key[BYOKFS_KEY_BYTES],
		 const uint8_t volume_id[BYOKFS_VOLUME_ID_BYTES])
{
	uint8_t ad[FHDR_AD_FIXED + BYOKFS_VOLUME_ID_BYTES];

	h->key_epoch = key_epoch;
	randombytes_buf(h->wrap_nonce, sizeof(h->wrap_nonce));
	fhdr_ad(h, volume_id, ad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(h->wrapped, NULL, dek, BYOKFS_KEY_BYTES, ad,
						   sizeof(ad), NULL, h->wrap_nonce, header_key);
}

void fhdr_create(struct fhdr *h, enum byokfs_cipher cipher, unsigned block_shift,
		 uint32_t key_epoch, const uint8_t header_key[BYOKFS_KEY_BYTES],
		 const uint8_t volume_id[BYOKFS_VOLUME_ID_BYTES], uint8_t dek[BYOKFS_KEY_BYTES])
{
	memset(h, 0, sizeof(*h));
	h->version = BYOKFS_FORMAT_VERSION;
	h->cipher = (uint8_t)cipher;
	h->block_shift = (uint8_t)block_shift;
	randombytes_buf(h->file_id, sizeof(h->file_id));
	randombytes_buf(dek, BYOKFS_KEY_BYTES);
	fhdr_rewrap(h, dek, key_epoch, header_key, volume_id);
}

int fhdr_unwrap(const struct fhdr *h, const uint8_t header_key[BYOKFS_KEY_BYTES],
		const uint8_t volume_id[BYOKFS_VOLUME_ID_BYTES], uint8_t dek[BYOKFS_KEY_BYTES])
{
	uint8_t ad[FHDR_AD_FIXED + BYOKFS_VOLUME_ID_BYTES];

	fhdr_ad(h, volume_id, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(dek, NULL, NULL, h->wrapped,
						       sizeof(h->wrapped), ad, sizeof(ad),
						       h->wrap_nonce, header_key) != 0) {
		sodium_memzero(dek, BYOKFS_KEY_BYTES);
		return -EBADMSG;
	}
	return 0;
}
