/* SPDX-License-Identifier: MIT */
/* Sealed small values and symlink targets (see seal.h). */
#include "crypto/seal.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/b64.h"

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SYMLINK_AD "byokfs-symlink-v1"
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

void seal(const uint8_t key[BYOKFS_KEY_BYTES], const uint8_t *ad, size_t adlen,
	  const uint8_t *pt, size_t len, uint8_t *out)
{
	randombytes_buf(out, NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE, NULL, pt, len, ad, adlen, NULL,
						   out, key);
}

long unseal(const uint8_t key[BYOKFS_KEY_BYTES], const uint8_t *ad, size_t adlen,
	    const uint8_t *in, size_t inlen, uint8_t *pt)
{
	if (inlen < SEAL_OVERHEAD)
		return -EBADMSG;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL, in + NONCE, inlen - NONCE,
						       ad, adlen, in, key) != 0)
		return -EBADMSG;
	return (long)(inlen - SEAL_OVERHEAD);
}

int symlink_encrypt(const uint8_t key[BYOKFS_KEY_BYTES], const char *target, size_t len,
		    char *out, size_t cap)
{
	size_t slen = len + SEAL_OVERHEAD;
	uint8_t *buf;

	if (sodium_base64_ENCODED_LEN(slen, B64) > cap)
		return -ENAMETOOLONG;
	buf = malloc(slen);
	if (!buf)
		return -ENOMEM;
	seal(key, (const uint8_t *)SYMLINK_AD, strlen(SYMLINK_AD), (const uint8_t *)target, len,
	     buf);
	sodium_bin2base64(out, cap, buf, slen, B64);
	free(buf);
	return (int)strlen(out);
}

int symlink_decrypt(const uint8_t key[BYOKFS_KEY_BYTES], const char *enc, size_t enclen,
		    char *out, size_t cap)
{
	size_t binlen;
	const char *end;
	uint8_t *buf = malloc(enclen);
	long n = -EBADMSG;

	if (!buf)
		return -ENOMEM;
	if (!b64_ascii(enc, enclen) ||
	    sodium_base642bin(buf, enclen, enc, enclen, NULL, &binlen, &end, B64) != 0 ||
	    end != enc + enclen || binlen < SEAL_OVERHEAD || binlen - SEAL_OVERHEAD + 1 > cap)
		goto out;
	n = unseal(key, (const uint8_t *)SYMLINK_AD, strlen(SYMLINK_AD), buf, binlen,
		   (uint8_t *)out);
	if (n >= 0)
		out[n] = '\0';
out:
	free(buf);
	return (int)n;
}

size_t symlink_plain_len(size_t enclen)
{
	size_t bin = enclen / 4 * 3 + (enclen % 4 ? enclen % 4 - 1 : 0);
	return bin >= SEAL_OVERHEAD ? bin - SEAL_OVERHEAD : 0;
}
