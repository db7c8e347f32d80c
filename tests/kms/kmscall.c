/* SPDX-License-Identifier: MIT */
/*
 * kmscall: drives one key provider through kms.h without a mount, for the
 * tests in tests/kms/ (credentials chains, TLS, error classes, rewrap).
 * Built by the tests themselves (tests/kms/lib.sh kmscall_build) against
 * the objects of `make asan` (or `make`), since it needs the core.
 *
 *   kmscall [-n N] [-i MS] [-k] [-w] SPEC CONTEXT OP [FILE...]
 *     roundtrip          wrap a random key, unwrap it N times, compare
 *     wrap OUT           wrap a random key, blob into OUT
 *     unwrap IN          unwrap the blob in IN (N times, -i MS apart)
 *     rewrap IN OUT      rewrap IN into OUT, then unwrap OUT and compare with IN's key
 *   -k  print the key in hex ("key HEX"): tests that scan memory for it
 *   -w  print whether libcurl's and OpenSSL's allocations are wiped
 * Prints "ok KEYID" and exits 0; on failure prints "CLASS: MESSAGE" on
 * stderr and exits 10 + class (11 denied, 12 transient, 13 invalid).
 * Limits: a test tool; -k prints key material on purpose.
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/secmem.h"
#include "kms/http.h"
#include "kms/kms.h"

static int show_key;

static int fail(const struct kms_err *e)
{
	fprintf(stderr, "%s: %s\n", kms_strerror(e->status), e->msg);
	return 10 + (int)e->status;
}

static int save(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

static long load(const char *path, uint8_t *b, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	if (!f) {
		perror(path);
		return -1;
	}
	n = fread(b, 1, cap, f);
	fclose(f);
	return (long)n;
}

static void print_key(const uint8_t *key)
{
	char hex[2 * KMS_KEY_BYTES + 1];
	if (show_key)
		printf("key %s\n", sodium_bin2hex(hex, sizeof(hex), key, KMS_KEY_BYTES));
}

int main(int argc, char **argv)
{
	struct kms_key *key = NULL;
	struct kms_err e = {0};
	static uint8_t blob[KMS_BLOB_MAX], blob2[KMS_BLOB_MAX];
	uint8_t *k1, *k2;
	size_t bl = sizeof(blob), bl2 = sizeof(blob2);
	long n = 1, interval = 0;
	int opt, wiping = 0, r = 0;
	const char *spec, *ctx, *op;

	while ((opt = getopt(argc, argv, "n:i:kw")) != -1) {
		switch (opt) {
		case 'n':
			n = atol(optarg);
			break;
		case 'i':
			interval = atol(optarg);
			break;
		case 'k':
			show_key = 1;
			break;
		case 'w':
			wiping = 1;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind < 3) {
		fprintf(stderr, "usage: kmscall [-n N] [-i MS] [-k] [-w] SPEC CONTEXT roundtrip|wrap|unwrap|rewrap [FILE...]\n");
		return 2;
	}
	spec = argv[optind];
	ctx = argv[optind + 1];
	op = argv[optind + 2];
	if (secmem_init() < 0)
		return 2;
	k1 = secmem_alloc(KMS_KEY_BYTES);
	k2 = secmem_alloc(KMS_KEY_BYTES);
	if (kms_open(spec, &key, &e) != KMS_OK)
		return fail(&e);
	if (!strcmp(op, "roundtrip") || !strcmp(op, "wrap")) {
		randombytes_buf(k1, KMS_KEY_BYTES);
		if (kms_wrap(key, ctx, k1, blob, &bl, &e) != KMS_OK) {
			r = fail(&e);
			goto out;
		}
		print_key(k1);
		if (!strcmp(op, "wrap")) {
			if (argc - optind < 4 || save(argv[optind + 3], blob, bl) < 0)
				r = 2;
			goto out;
		}
		for (long i = 0; i < n; i++) {
			if (kms_unwrap(key, ctx, blob, bl, k2, &e) != KMS_OK) {
				r = fail(&e);
				goto out;
			}
			if (sodium_memcmp(k1, k2, KMS_KEY_BYTES)) {
				fprintf(stderr, "mismatch: unwrap gave another key\n");
				r = 3;
				goto out;
			}
		}
	} else if (!strcmp(op, "unwrap")) {
		long len = argc - optind >= 4 ? load(argv[optind + 3], blob, sizeof(blob)) : -1;
		if (len <= 0) {
			r = 2;
			goto out;
		}
		for (long i = 0; i < n; i++) {
			if (i && interval)
				usleep((useconds_t)interval * 1000);
			if (kms_unwrap(key, ctx, blob, (size_t)len, k1, &e) != KMS_OK) {
				r = fail(&e);
				goto out;
			}
		}
		print_key(k1);
	} else if (!strcmp(op, "rewrap")) {
		long len = argc - optind >= 5 ? load(argv[optind + 3], blob, sizeof(blob)) : -1;
		if (len <= 0) {
			r = 2;
			goto out;
		}
		if (kms_unwrap(key, ctx, blob, (size_t)len, k1, &e) != KMS_OK ||
		    kms_rewrap(key, ctx, blob, (size_t)len, blob2, &bl2, &e) != KMS_OK ||
		    kms_unwrap(key, ctx, blob2, bl2, k2, &e) != KMS_OK) {
			r = fail(&e);
			goto out;
		}
		if (sodium_memcmp(k1, k2, KMS_KEY_BYTES)) {
			fprintf(stderr, "mismatch: the rewrapped blob holds another key\n");
			r = 3;
			goto out;
		}
		if (save(argv[optind + 4], blob2, bl2) < 0)
			r = 2;
	} else {
		fprintf(stderr, "unknown op '%s'\n", op);
		r = 2;
		goto out;
	}
	if (r == 0)
		printf("ok %s\n", kms_key_id(key));
	if (wiping)
		printf("wiping curl=%d openssl=%d\n", http_wiping_curl(), http_wiping_openssl());
out:
	kms_close(key);
	secmem_free(k1);
	secmem_free(k2);
	return r;
}
