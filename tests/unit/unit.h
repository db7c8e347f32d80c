/* SPDX-License-Identifier: MIT */
/*
 * A minimal unit-test harness (after OpenSSH's regress/unittests): each
 * test binary calls TEST_START/TEST_DONE around checks; the first failed
 * ASSERT prints file, line and values and exits 1. main() is the test's.
 */
#ifndef BYOKFS_UNIT_H
#define BYOKFS_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *unit_current = "?";
static int unit_count;

#define TEST_START(name)                                                                  \
	do {                                                                              \
		unit_current = (name);                                                    \
	} while (0)
#define TEST_DONE()                                                                       \
	do {                                                                              \
		unit_count++;                                                             \
		printf("ok %d - %s\n", unit_count, unit_current);                         \
	} while (0)

#define UNIT_FAIL(...)                                                                    \
	do {                                                                              \
		fprintf(stderr, "%s:%d: test '%s' failed: ", __FILE__, __LINE__, unit_current); \
		fprintf(stderr, __VA_ARGS__);                                             \
		fputc('\n', stderr);                                                      \
		exit(1);                                                                  \
	} while (0)

#define ASSERT_TRUE(x)                                                                    \
	do {                                                                              \
		if (!(x))                                                                 \
			UNIT_FAIL("%s is false", #x);                                     \
	} while (0)
#define ASSERT_INT_EQ(a, b)                                                               \
	do {                                                                              \
		long long _a = (long long)(a), _b = (long long)(b);                       \
		if (_a != _b)                                                             \
			UNIT_FAIL("%s == %lld, expected %s == %lld", #a, _a, #b, _b);    \
	} while (0)
#define ASSERT_INT_NE(a, b)                                                               \
	do {                                                                              \
		long long _a = (long long)(a), _b = (long long)(b);                       \
		if (_a == _b)                                                             \
			UNIT_FAIL("%s == %s == %lld", #a, #b, _a);                        \
	} while (0)
#define ASSERT_STR_EQ(a, b)                                                               \
	do {                                                                              \
		const char *_a = (a), *_b = (b);                                          \
		if (strcmp(_a, _b))                                                       \
			UNIT_FAIL("%s == \"%s\", expected \"%s\"", #a, _a, _b);           \
	} while (0)
#define ASSERT_MEM_EQ(a, b, n)                                                            \
	do {                                                                              \
		if (memcmp((a), (b), (n)))                                                \
			UNIT_FAIL("%s differs from %s (%zu bytes)", #a, #b, (size_t)(n)); \
	} while (0)

#define UNIT_END()                                                                        \
	do {                                                                              \
		printf("%d tests passed\n", unit_count);                                  \
		return 0;                                                                 \
	} while (0)

#endif
