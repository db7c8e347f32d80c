/* SPDX-License-Identifier: MIT */
/*
 * Block AEAD over libsodium: AES-256-GCM (precomputed key schedule) or
 * XChaCha20-Poly1305 (IETF). Layout of a stored block: nonce || ct || tag,
 * using libsodium's combined mode, which appends the tag to the ciphertext.
 */
#include "crypto/blk.h"

#include <errno.h>
#include <string.h>

size_t blk_nonce_bytes(enum byokfs_cipher c)
{
	switch (c) {
	case CIPHER_AES256GCM:
		return crypto_aead_aes256gcm_NPUBBYTES;
	case CIPHER_XCHACHA20POLY1305:
		return crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	default:
		return 0;
	}
}

size_t blk_overhead(enum byokfs_cipher c)
{
	return blk_nonce_bytes(c) + BLK_TAG_BYTES;
}

int blk_key_init(struct blk_key *k, enum byokfs_cipher c, const uint8_t raw[BYOKFS_KEY_BYTES])
{
	if (!cipher_available(c))
		return -EINVAL;
	if (k->raw != raw)
		memcpy(k->raw, raw, BYOKFS_KEY_BYTES);
	if (c == CIPHER_AES256GCM)
		crypto_aead_aes256gcm_beforenm(&k->aes, k->raw);
	k->cipher = c;
	return 0;
}

static void blk_ad(uint8_t ad[BLK_AD_BYTES], const uint8_t file_id[BYOKFS_FILE_ID_BYTES],
		   uint64_t index, int final)
{
	memcpy(ad, file_id, BYOKFS_FILE_ID_BYTES);
	for (int i = 0; i < 8; i++)
		ad[BYOKFS_FILE_ID_BYTES + i] = (uint8_t)(index >> (8 * i));
	ad[BYOKFS_FILE_ID_BYTES + 8] = final ? 1 : 0;
}

int blk_encrypt(const struct blk_key *k, const uint8_t file_id[BYOKFS_FILE_ID_BYTES],
		uint64_t index, int final, const uint8_t *nonce,
		const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t ad[BLK_AD_BYTES];
	size_t nlen = blk_nonce_bytes(k->cipher);

	blk_ad(ad, file_id, index, final);
	memmove(out, nonce, nlen);
	switch (k->cipher) {
	case CIPHER_AES256GCM:
		crypto_aead_aes256gcm_encrypt_afternm(out + nlen, NULL, pt, len, ad, sizeof(ad),
						      NULL, out, &k->aes);
		return 0;
	case CIPHER_XCHACHA20POLY1305:
		crypto_aead_xchacha20poly1305_ietf_encrypt(out + nlen, NULL, pt, len, ad,
							   sizeof(ad), NULL, out, k->raw);
		return 0;
	default:
		return -EINVAL;
	}
}

long blk_decrypt(const struct blk_key *k, const uint8_t file_id[BYOKFS_FILE_ID_BYTES],
		 uint64_t index, int final, const uint8_t *in, size_t inlen, uint8_t *pt)
{
	uint8_t ad[BLK_AD_BYTES];
	size_t nlen = blk_nonce_bytes(k->cipher);
	int r;

	if (nlen == 0 || inlen < nlen + BLK_TAG_BYTES)
		return -EINVAL;
	blk_ad(ad, file_id, index, final);
	switch (k->cipher) {
	case CIPHER_AES256GCM:
		r = crypto_aead_aes256gcm_decrypt_afternm(pt, NULL, NULL, in + nlen, inlen - nlen,
							  ad, sizeof(ad), in, &k->aes);
		break;
	case CIPHER_XCHACHA20POLY1305:
		r = crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL, in + nlen,
							       inlen - nlen, ad, sizeof(ad),
							       in, k->raw);
		break;
	default:
		return -EINVAL;
	}
	if (r != 0) {
		sodium_memzero(pt, inlen - nlen - BLK_TAG_BYTES);
		return -EBADMSG;
	}
	return (long)(inlen - nlen - BLK_TAG_BYTES);
}

int blk_is_hole(const uint8_t *in, size_t inlen)
{
	/* sodium_is_zero is constant-time; holes are not secret, but it is
	 * the library's primitive for the job and fast enough. Check the nonce
	 * first: a real block fails there almost always. */
	if (inlen >= 8 && (in[0] | in[1] | in[2] | in[3] | in[4] | in[5] | in[6] | in[7]))
		return 0;
	return sodium_is_zero(in, inlen);
}
