/* SPDX-License-Identifier: MIT */
/* SIV-style name encryption (construction in name.h). */
#include "crypto/name.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "crypto/b64.h"

#define PAD_BLOCK 16
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static void name_tag(const struct name_keys *k, const uint8_t dirid[BYOKFS_DIR_ID_BYTES],
		     const uint8_t *padded, size_t plen, uint8_t tag[NAME_TAG_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, k->mac, BYOKFS_KEY_BYTES, NAME_TAG_BYTES);
	crypto_generichash_update(&st, dirid, BYOKFS_DIR_ID_BYTES);
	crypto_generichash_update(&st, padded, plen);
	crypto_generichash_final(&st, tag, NAME_TAG_BYTES);
	sodium_memzero(&st, sizeof(st));
}

static void name_stream(const struct name_keys *k, const uint8_t tag[NAME_TAG_BYTES],
			uint8_t *buf, size_t len)
{
	uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES] = {0};

	memcpy(nonce, tag, NAME_TAG_BYTES);
	crypto_stream_xchacha20_xor(buf, buf, len, nonce, k->enc);
}

int name_encrypt(const struct name_keys *k, const uint8_t dirid[BYOKFS_DIR_ID_BYTES],
		 const char *name, size_t len, char *out)
{
	uint8_t buf[NAME_TAG_BYTES + NAME_PLAIN_MAX + PAD_BLOCK];
	size_t pad, plen;

	if (len == 0 || memchr(name, '/', len) || memchr(name, '\0', len))
		return -EINVAL;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	if (len > NAME_PLAIN_MAX)
		return -ENAMETOOLONG;
	pad = PAD_BLOCK - len % PAD_BLOCK;
	plen = len + pad;
	memcpy(buf + NAME_TAG_BYTES, name, len);
	memset(buf + NAME_TAG_BYTES + len, (int)pad, pad);
	name_tag(k, dirid, buf + NAME_TAG_BYTES, plen, buf);
	name_stream(k, buf, buf + NAME_TAG_BYTES, plen);
	sodium_bin2base64(out, NAME_ENC_MAX + 1, buf, NAME_TAG_BYTES + plen, B64);
	return (int)strlen(out);
}

int name_decrypt(const struct name_keys *k, const uint8_t dirid[BYOKFS_DIR_ID_BYTES],
		 const char *enc, size_t enclen, char *out)
{
	uint8_t buf[NAME_TAG_BYTES + NAME_PLAIN_MAX + PAD_BLOCK];
	uint8_t tag[NAME_TAG_BYTES];
	size_t binlen, plen, pad, len;
	const char *end;

	if (enclen > NAME_ENC_MAX)
		return -EBADMSG;
	/* one name, one backing spelling */
	if (!b64_ascii(enc, enclen) ||
	    sodium_base642bin(buf, sizeof(buf), enc, enclen, NULL, &binlen, &end, B64) != 0 ||
	    end != enc + enclen)
		return -EBADMSG;
	if (binlen < NAME_TAG_BYTES + PAD_BLOCK || (binlen - NAME_TAG_BYTES) % PAD_BLOCK != 0)
		return -EBADMSG;
	plen = binlen - NAME_TAG_BYTES;
	name_stream(k, buf, buf + NAME_TAG_BYTES, plen);
	name_tag(k, dirid, buf + NAME_TAG_BYTES, plen, tag);
	if (sodium_memcmp(tag, buf, NAME_TAG_BYTES) != 0)
		goto bad;
	pad = buf[binlen - 1];
	if (pad < 1 || pad > PAD_BLOCK || pad > plen)
		goto bad;
	len = plen - pad;
	for (size_t i = len; i < plen; i++)
		if (buf[NAME_TAG_BYTES + i] != pad)
			goto bad;
	if (len == 0 || len > NAME_PLAIN_MAX || memchr(buf + NAME_TAG_BYTES, '/', len) ||
	    memchr(buf + NAME_TAG_BYTES, '\0', len))
		goto bad;
	if (buf[NAME_TAG_BYTES] == '.' && (len == 1 || (len == 2 && buf[NAME_TAG_BYTES + 1] == '.')))
		goto bad;
	memcpy(out, buf + NAME_TAG_BYTES, len);
	out[len] = '\0';
	sodium_memzero(buf, sizeof(buf));
	return (int)len;
bad:
	sodium_memzero(buf, sizeof(buf));
	return -EBADMSG;
}

void name_long_entry(const char *enc, size_t enclen, char out[NAME_LONG_CHARS + 1])
{
	uint8_t h[32];

	crypto_generichash(h, sizeof(h), (const uint8_t *)enc, enclen, NULL, 0);
	memcpy(out, NAME_LONG_PREFIX, 2);
	sodium_bin2base64(out + 2, NAME_LONG_CHARS + 1 - 2, h, sizeof(h), B64);
}

int name_is_long_entry(const char *bname)
{
	return strlen(bname) == NAME_LONG_CHARS && !strncmp(bname, NAME_LONG_PREFIX, 2);
}
