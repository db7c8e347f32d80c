/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the INI reading of the providers (kms/ini.c: inih fed through the
 * long-line reader) and the AWS shared credentials / config file parser
 * (aws_parse_profile) on arbitrary text. Invariants:
 *   - every value handed to the callback is NUL-terminated and comes with a
 *     line number within the text; a continued value follows a value of the
 *     same name (as far as inih keeps names: 49 bytes) and section;
 *   - the profile's fields stay NUL-terminated within their buffers; the
 *     region holds only a-z, 0-9 and '-'.
 * Corpus: tests/fuzz/corpus/kms_ini/ (credentials and config files, byokfs.conf).
 */
#include <string.h>

#include "crypto/secmem.h"
#include "kms/ini.h"
#include "kms/parse.h"
#include "tests/fuzz/fuzz.h"

static struct aws_profile *prof;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (secmem_init() < 0 || !(prof = secmem_alloc(sizeof(*prof))))
		abort();
	return 0;
}

struct seen {
	int lines;
	char section[64], name[64];
	int any;
};

static int on_value(void *u, const char *section, const char *name, const char *value, int continued,
		    int line)
{
	struct seen *s = u;
	FUZZ_CHECK(line >= 1 && line <= s->lines);
	FUZZ_CHECK(strlen(value) < 200);
	/* inih keeps the name of a continued value in 50 bytes: compare 49 */
	if (continued)
		FUZZ_CHECK(s->any && !strncmp(s->section, section, sizeof(s->section) - 1) &&
			   !strncmp(s->name, name, 49));
	snprintf(s->section, sizeof(s->section), "%s", section);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->any = 1;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct seen s = {1, "", "", 0};

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < size; i++)
		if (text[i] == '\n')
			s.lines++;
	(void)kms_ini_parse(text, strlen(text), on_value, &s);

	memset(prof, 0, sizeof(*prof));
	(void)aws_parse_profile(text, strlen(text), "default", 0, prof);
	(void)aws_parse_profile(text, strlen(text), size % 2 ? "byokfs" : "default", 1, prof);
	FUZZ_CHECK(strnlen(prof->creds.akid, sizeof(prof->creds.akid)) < sizeof(prof->creds.akid));
	FUZZ_CHECK(strnlen(prof->creds.secret, sizeof(prof->creds.secret)) < sizeof(prof->creds.secret));
	FUZZ_CHECK(strnlen(prof->creds.token, sizeof(prof->creds.token)) < sizeof(prof->creds.token));
	FUZZ_CHECK(strspn(prof->region, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(prof->region));
	FUZZ_CHECK(strnlen(prof->unsupported, sizeof(prof->unsupported)) < sizeof(prof->unsupported));
	free(text);
	return 0;
}
