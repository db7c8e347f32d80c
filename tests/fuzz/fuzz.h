/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer targets tests/fuzz/fuzz_*.c: the fixed keys and
 * ids they decrypt with, and a check macro.
 *
 * The keys are those of the worked example in docs/FORMAT.md section 3.3
 * (the golden volume, tests/format/golden-v1), so the seed corpus made by
 * tests/fuzz/make-corpus with the independent oracle, and the golden
 * volume's own files, authenticate: the fuzzer starts past the MAC checks
 * and mutates from there. Nothing here is secret.
 */
#ifndef BYOKFS_TESTS_FUZZ_H
#define BYOKFS_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* volume key 66805c60...c2ac; subkeys are derived from it */
static const uint8_t fuzz_vkey[32] = {
	0x66, 0x80, 0x5c, 0x60, 0x8f, 0x87, 0x5e, 0xad, 0xb0, 0x84, 0x57, 0x44, 0x6c, 0xe3, 0xc7, 0xf4,
	0x3e, 0x1f, 0xb8, 0xb6, 0x3a, 0xd5, 0x7b, 0x3b, 0xdf, 0x4f, 0x6e, 0x5a, 0x68, 0x70, 0xc2, 0xac,
};
/* volume id 615a59b5cb14ca4e0a00c70ff5da663c */
static const uint8_t fuzz_volume_id[16] = {
	0x61, 0x5a, 0x59, 0xb5, 0xcb, 0x14, 0xca, 0x4e, 0x0a, 0x00, 0xc7, 0x0f, 0xf5, 0xda, 0x66, 0x3c,
};
/* the data key and file id of a.txt */
static const uint8_t fuzz_data_key[32] = {
	0xa8, 0x62, 0x72, 0xc7, 0xc8, 0xc4, 0x03, 0xc8, 0xba, 0x8e, 0xed, 0xc4, 0x5a, 0x22, 0xbc, 0xef,
	0x51, 0x14, 0xd8, 0xa8, 0x44, 0xe8, 0x1a, 0x02, 0xdb, 0xfe, 0x27, 0x39, 0x15, 0x5d, 0x38, 0x04,
};
static const uint8_t fuzz_file_id[16] = {
	0x48, 0xbf, 0x11, 0x15, 0x0f, 0x33, 0x21, 0x00, 0xff, 0x45, 0x9b, 0xb4, 0x9e, 0x21, 0x11, 0xb1,
};
/* the root directory's id */
static const uint8_t fuzz_dirid[16] = {
	0x7b, 0xf2, 0x18, 0x00, 0x8f, 0x00, 0x20, 0xf0, 0x2d, 0x09, 0xfc, 0xdc, 0x10, 0x1e, 0x3f, 0x04,
};

/* An invariant of the code under test broke: report it as a crash. */
#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                    \
			abort();                                                           \
		}                                                                          \
	} while (0)

/* A heap copy of exactly len bytes, so ASan sees any read past the input. */
static inline uint8_t *fuzz_dup(const uint8_t *data, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	if (!p)
		abort();
	for (size_t i = 0; i < len; i++)
		p[i] = data[i];
	return p;
}

#endif
