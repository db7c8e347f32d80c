/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the aws-kms answer parsers (kms/parse.c) with one input used as
 * every kind of answer: an error body (aws_classify, with the HTTP status
 * taken from the input's length), a Decrypt answer, an Encrypt/ReEncrypt
 * answer, a container/IMDS credentials answer, and (NUL-terminated) a key
 * spec and an ISO 8601 time. Invariants:
 *   - the class is denied, transient or invalid (never ok); type and
 *     message are NUL-terminated, printable ASCII (they go into logs);
 *   - a Decrypt answer refused leaves the caller's key untouched (the
 *     key buffer is only ever written whole); an Encrypt answer
 *     accepted fits the caller's buffer and AWS's 6144 bytes;
 *   - accepted credentials pass aws_creds_check (no byte that could break a
 *     header), rejected ones are wiped;
 *   - a learned KeyId is a key ARN.
 * Corpus: tests/fuzz/corpus/kms_aws/ (answers as the AWS KMS test server
 * and AWS send them).
 */
#include <string.h>

#include "crypto/secmem.h"
#include "kms/parse.h"
#include "tests/fuzz/fuzz.h"

static struct aws_creds *creds;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (secmem_init() < 0 || !(creds = secmem_alloc(sizeof(*creds))))
		abort();
	return 0;
}

static void printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	FUZZ_CHECK(n < cap);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {200, 400, 403, 404, 409, 429, 500, 502, 503};
	uint8_t *in = fuzz_dup(data, size);
	struct aws_error e;
	uint8_t key[KMS_KEY_BYTES], blob[AWS_BLOB_MAX + 16];
	char keyid[AWS_ID_MAX + 1], err[200], region[AWS_REGION_MAX], part[32];
	size_t bl = size % 2 ? sizeof(blob) : 64;
	enum kms_status s;

	s = aws_classify(statuses[size % 9], in, size, size % 3 ? NULL : "DisabledException:http://x", &e);
	FUZZ_CHECK(s == KMS_DENIED || s == KMS_TRANSIENT || s == KMS_INVALID);
	printable(e.type, sizeof(e.type));
	printable(e.message, sizeof(e.message));
	FUZZ_CHECK(e.auth == 0 || e.auth == 1);

	memset(key, 0xa5, sizeof(key));
	s = aws_parse_plaintext_reply(in, size, key, keyid, sizeof(keyid), err, sizeof(err));
	FUZZ_CHECK(s == KMS_OK || s == KMS_DENIED || s == KMS_TRANSIENT);
	if (s != KMS_OK)
		for (size_t i = 0; i < sizeof(key); i++)
			FUZZ_CHECK(key[i] == 0xa5);
	if (s == KMS_OK && keyid[0])
		FUZZ_CHECK(aws_is_key_arn(keyid));

	s = aws_parse_blob_reply(in, size, blob, &bl, keyid, sizeof(keyid), err, sizeof(err));
	FUZZ_CHECK(s == KMS_OK || s == KMS_TRANSIENT);
	if (s == KMS_OK) {
		FUZZ_CHECK(bl > 0 && bl <= AWS_BLOB_MAX && bl <= (size % 2 ? sizeof(blob) : 64));
		if (keyid[0])
			FUZZ_CHECK(aws_is_key_arn(keyid));
	}

	if (aws_parse_creds_json(in, size, creds, err, sizeof(err)) == 0) {
		FUZZ_CHECK(aws_creds_check(creds, err, sizeof(err)) == 0);
		FUZZ_CHECK(strnlen(creds->token, sizeof(creds->token)) < sizeof(creds->token));
	} else {
		FUZZ_CHECK(creds->akid[0] == '\0' && creds->secret[0] == '\0' && creds->token[0] == '\0');
	}

	/* the same bytes as a key spec and a time */
	char *str = malloc(size + 1);
	int64_t t;
	if (!str)
		abort();
	memcpy(str, data, size);
	str[size] = '\0';
	if (aws_parse_key_spec(str, region, part, err, sizeof(err)) == 0) {
		printable(region, sizeof(region));
		FUZZ_CHECK(strlen(str) <= AWS_ID_MAX);
	}
	(void)aws_parse_time(str, &t);
	free(str);
	free(in);
	return 0;
}
