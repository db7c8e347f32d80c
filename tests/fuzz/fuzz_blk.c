/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes block decryption: blk_is_hole() and blk_decrypt() on a stored
 * block under the fixed data key and file id (docs/FORMAT.md 3.3).
 * Input: byte 0 = flags (bit 0: cipher, 0 AES-256-GCM / 1 XChaCha20;
 * bit 1: final), bytes 1..8 = block index (u64 LE), the rest = the stored
 * block (nonce || ciphertext || tag) in a buffer of exactly its size.
 * Invariants:
 *   - blk_is_hole() is 1 exactly when every byte is zero;
 *   - blk_decrypt() returns inlen - overhead, -EBADMSG (plaintext wiped)
 *     or -EINVAL (too short), and never writes past inlen - overhead;
 *   - a block that decrypts encrypts back, with its own nonce, to itself;
 *     the same block under the other final flag or index fails.
 */
#include <errno.h>
#include <string.h>

#include "crypto/blk.h"
#include "crypto/secmem.h"
#include "tests/fuzz/fuzz.h"

static struct blk_key *keys[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (secmem_init() < 0)
		abort();
	for (int i = 0; i < 2; i++) {
		enum byokfs_cipher c = i ? CIPHER_XCHACHA20POLY1305 : CIPHER_AES256GCM;
		keys[i] = secmem_alloc(sizeof(struct blk_key));
		if (!keys[i])
			abort();
		if (blk_key_init(keys[i], c, fuzz_data_key) != 0) {
			/* no AES-NI: only XChaCha20 can be fuzzed */
			secmem_free(keys[i]);
			keys[i] = NULL;
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct blk_key *k;
	uint64_t index = 0;
	size_t inlen, ovh, ptlen, i;
	uint8_t *in, *pt, *again;
	int final, zero = 1;
	long n;

	if (size < 9)
		return 0;
	k = keys[data[0] & 1];
	if (!k)
		return 0;
	final = (data[0] >> 1) & 1;
	for (i = 0; i < 8; i++)
		index |= (uint64_t)data[1 + i] << (8 * i);
	inlen = size - 9;
	in = fuzz_dup(data + 9, inlen);
	for (i = 0; i < inlen; i++)
		zero &= in[i] == 0;
	FUZZ_CHECK(blk_is_hole(in, inlen) == zero);

	ovh = blk_overhead((enum byokfs_cipher)k->cipher);
	ptlen = inlen >= ovh ? inlen - ovh : 0;
	pt = malloc(ptlen ? ptlen : 1); /* exactly the room the contract promises */
	if (!pt)
		abort();
	n = blk_decrypt(k, fuzz_file_id, index, final, in, inlen, pt);
	if (inlen < ovh) {
		FUZZ_CHECK(n == -EINVAL);
		goto out;
	}
	FUZZ_CHECK(n == (long)ptlen || n == -EBADMSG);
	if (n == -EBADMSG) {
		for (i = 0; i < ptlen; i++)
			FUZZ_CHECK(pt[i] == 0);
		goto out;
	}
	again = malloc(inlen);
	if (!again)
		abort();
	FUZZ_CHECK(blk_encrypt(k, fuzz_file_id, index, final, in, pt, ptlen, again) == 0);
	FUZZ_CHECK(!memcmp(again, in, inlen));
	FUZZ_CHECK(blk_decrypt(k, fuzz_file_id, index, !final, in, inlen, pt) == -EBADMSG);
	FUZZ_CHECK(blk_decrypt(k, fuzz_file_id, index ^ 1, final, in, inlen, pt) == -EBADMSG);
	free(again);
out:
	free(pt);
	free(in);
	return 0;
}
