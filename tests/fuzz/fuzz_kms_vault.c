/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the vault-transit answer parsers (kms/parse.c) with one input used
 * as every kind of answer: an error body (vault_classify, the status from
 * the input's length), an encrypt/rewrap answer, a decrypt answer, a
 * ciphertext (vault_blob_version) and, NUL-terminated, a MOUNT/KEY spec.
 * Invariants:
 *   - the class is denied, transient or invalid (never ok), the message
 *     NUL-terminated printable ASCII;
 *   - an accepted ciphertext answer fits the buffer and is itself a valid
 *     "vault:vN:base64" ciphertext; a decrypt answer refused leaves the
 *     caller's key untouched;
 *   - an accepted spec splits into a mount and a key name of the allowed
 *     characters that join back to the input, with no empty, "." or ".."
 *     segment in the mount.
 * Corpus: tests/fuzz/corpus/kms_vault/.
 */
#include <string.h>

#include "crypto/secmem.h"
#include "kms/parse.h"
#include "tests/fuzz/fuzz.h"

#define LETTERS_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (secmem_init() < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {200, 307, 400, 401, 403, 404, 412, 429, 500, 503};
	uint8_t *in = fuzz_dup(data, size);
	char msg[PARSE_MSG_MAX], err[200], mount[256], name[256], joined[600];
	uint8_t key[KMS_KEY_BYTES], blob[KMS_BLOB_MAX];
	size_t bl = size % 2 ? sizeof(blob) : 90;
	enum kms_status s;

	s = vault_classify(statuses[size % 10], in, size, msg, sizeof(msg));
	FUZZ_CHECK(s == KMS_DENIED || s == KMS_TRANSIENT || s == KMS_INVALID);
	FUZZ_CHECK(strnlen(msg, sizeof(msg)) < sizeof(msg));
	for (const char *p = msg; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);

	s = vault_parse_ciphertext_reply(in, size, blob, &bl, err, sizeof(err));
	FUZZ_CHECK(s == KMS_OK || s == KMS_TRANSIENT);
	if (s == KMS_OK) {
		FUZZ_CHECK(bl <= (size % 2 ? sizeof(blob) : 90));
		FUZZ_CHECK(vault_blob_version(blob, bl) >= 1);
	}
	memset(key, 0xa5, sizeof(key));
	s = vault_parse_plaintext_reply(in, size, key, err, sizeof(err));
	FUZZ_CHECK(s == KMS_OK || s == KMS_DENIED || s == KMS_TRANSIENT);
	if (s != KMS_OK)
		for (size_t i = 0; i < sizeof(key); i++)
			FUZZ_CHECK(key[i] == 0xa5);

	long v = vault_blob_version(in, size);
	FUZZ_CHECK(v == -1 || v >= 1);
	if (v >= 1)
		FUZZ_CHECK(size >= 10 && !memcmp(in, "vault:v", 7));

	char *str = malloc(size + 1);
	if (!str)
		abort();
	memcpy(str, data, size);
	str[size] = '\0';
	if (vault_parse_spec(str, mount, sizeof(mount), name, sizeof(name), err, sizeof(err)) == 0) {
		FUZZ_CHECK(mount[0] && name[0] && !strchr(name, '/') && name[0] != '.');
		FUZZ_CHECK(strspn(name, LETTERS_DIGITS "._-@") == strlen(name));
		FUZZ_CHECK(strspn(mount, LETTERS_DIGITS "._-/") == strlen(mount));
		snprintf(joined, sizeof(joined), "%s/%s", mount, name);
		FUZZ_CHECK(!strcmp(joined, str));
		/* no empty, "." or ".." segment: the URL path is the one named */
		for (char *seg = mount, *e;; seg = e + 1) {
			size_t n = (e = strchr(seg, '/')) ? (size_t)(e - seg) : strlen(seg);
			FUZZ_CHECK(n > 0 && !(n == 1 && seg[0] == '.') &&
				   !(n == 2 && seg[0] == '.' && seg[1] == '.'));
			if (!e)
				break;
		}
	}
	free(str);
	free(in);
	return 0;
}
