/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the file header: fhdr_decode() on the first 104 bytes, then
 * fhdr_unwrap() under the fixed volume's header key and volume id (the
 * seeds authenticate). Invariants:
 *   - a header that decodes encodes back to the same 104 bytes;
 *   - unwrap fails with the data key wiped, or succeeds, and then a header
 *     rewrapped (fhdr_rewrap) decodes and unwraps to the same data key;
 *   - the same header never authenticates under another volume id.
 * Input: the header; any further bytes are ignored.
 */
#include <errno.h>
#include <string.h>

#include "crypto/fhdr.h"
#include "crypto/kdf.h"
#include "crypto/secmem.h"
#include "tests/fuzz/fuzz.h"

static uint8_t header_key[BYOKFS_KEY_BYTES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (secmem_init() < 0)
		abort();
	kdf_derive(header_key, KDF_HEADER, fuzz_vkey);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[BYOKFS_KEY_BYTES];
	uint8_t enc[FHDR_BYTES], dek[BYOKFS_KEY_BYTES], dek2[BYOKFS_KEY_BYTES];
	uint8_t other_id[BYOKFS_VOLUME_ID_BYTES];
	struct fhdr h, h2;
	int r;

	if (size < FHDR_BYTES)
		return 0;
	r = fhdr_decode(&h, data);
	FUZZ_CHECK(r == 0 || r == -EBADMSG);
	if (r != 0)
		return 0;
	fhdr_encode(&h, enc);
	FUZZ_CHECK(!memcmp(enc, data, FHDR_BYTES));
	FUZZ_CHECK(h.block_shift >= BYOKFS_BLOCK_SHIFT_MIN && h.block_shift <= BYOKFS_BLOCK_SHIFT_MAX);

	memset(dek, 0xaa, sizeof(dek));
	r = fhdr_unwrap(&h, header_key, fuzz_volume_id, dek);
	FUZZ_CHECK(r == 0 || r == -EBADMSG);
	if (r != 0) {
		FUZZ_CHECK(!memcmp(dek, zero, sizeof(dek))); /* wiped on failure */
		return 0;
	}
	memcpy(other_id, fuzz_volume_id, sizeof(other_id));
	other_id[0] ^= 1;
	FUZZ_CHECK(fhdr_unwrap(&h, header_key, other_id, dek2) == -EBADMSG);

	h2 = h;
	fhdr_rewrap(&h2, dek, h.key_epoch + 1, header_key, fuzz_volume_id);
	fhdr_encode(&h2, enc);
	FUZZ_CHECK(fhdr_decode(&h2, enc) == 0);
	FUZZ_CHECK(fhdr_unwrap(&h2, header_key, fuzz_volume_id, dek2) == 0);
	FUZZ_CHECK(!memcmp(dek, dek2, sizeof(dek)));
	FUZZ_CHECK(!memcmp(h2.file_id, h.file_id, sizeof(h.file_id)));
	return 0;
}
