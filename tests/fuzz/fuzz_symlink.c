/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes symlink target decoding: symlink_decrypt() on a backing target
 * under the fixed link key. Byte 0 picks the output capacity: PATH_MAX
 * (what readlink uses) when even, else a small one (1..128), in a buffer
 * of exactly that size. Invariants: the result is -EBADMSG (or -ENOMEM)
 * or a NUL-terminated target of that length that fits the capacity and
 * equals symlink_plain_len() of the encoding (st_size of the symlink);
 * an accepted encoding holds only base64url digits (no second spelling of
 * a target); the target encrypts and decrypts back to itself.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "crypto/kdf.h"
#include "crypto/seal.h"
#include "crypto/secmem.h"
#include "tests/fuzz/fuzz.h"

#define B64URL_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

static uint8_t link_key[BYOKFS_KEY_BYTES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (secmem_init() < 0)
		abort();
	kdf_derive(link_key, KDF_LINK, fuzz_vkey);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap, enclen;
	char *out, *enc, *again, *back;
	int n, m;

	if (size < 1)
		return 0;
	cap = data[0] & 1 ? (size_t)(data[0] >> 1) + 1 : PATH_MAX;
	enclen = size - 1;
	enc = (char *)fuzz_dup(data + 1, enclen);
	out = malloc(cap);
	if (!out)
		abort();
	n = symlink_decrypt(link_key, enc, enclen, out, cap);
	FUZZ_CHECK(n == -EBADMSG || n == -ENOMEM || (n >= 0 && (size_t)n < cap));
	if (n >= 0) {
		/* one target, one spelling: only base64url digits decode */
		for (size_t i = 0; i < enclen; i++)
			FUZZ_CHECK(strchr(B64URL_DIGITS, enc[i]) && enc[i] != '\0');
		FUZZ_CHECK(out[n] == '\0');
		FUZZ_CHECK(symlink_plain_len(enclen) == (size_t)n);
		again = malloc(PATH_MAX);
		back = malloc(PATH_MAX);
		if (!again || !back)
			abort();
		m = symlink_encrypt(link_key, out, (size_t)n, again, PATH_MAX);
		if (m >= 0) {
			FUZZ_CHECK((size_t)m == enclen); /* same length: fresh nonce, same size */
			FUZZ_CHECK(symlink_decrypt(link_key, again, (size_t)m, back, PATH_MAX) == n);
			FUZZ_CHECK(!memcmp(back, out, (size_t)n + 1));
		}
		free(again);
		free(back);
	}
	free(out);
	free(enc);
	return 0;
}
