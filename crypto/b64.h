/* SPDX-License-Identifier: MIT */
/*
 * Base64 text the format accepts. libsodium 1.0.18 (Debian 12) checks the
 * ASCII digits right but decodes bytes >= 0x80 as if they were digits, so
 * one value would have many spellings. Every base64 field of the format
 * (backing names, symlink targets, descriptor values) is refused before
 * decoding when it holds such a byte. Found by fuzzing
 * (tests/fuzz/corpus/name/regress-b64-high-byte).
 */
#ifndef BYOKFS_CRYPTO_B64_H
#define BYOKFS_CRYPTO_B64_H

#include <stddef.h>

/* 1 when the n bytes of s are all ASCII (< 0x80). */
static inline int b64_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

#endif
