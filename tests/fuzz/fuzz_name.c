/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes encrypted-name decoding. Byte 0 picks what the rest is:
 *   0: dirid (16) || encoding: name_decrypt() under the fixed name keys.
 *      A name that decrypts is 1..255 bytes with no '/' or NUL, not "."
 *      or "..", and encrypts back to the very same encoding (libsodium's
 *      base64 decoder refuses non-canonical text, so no two backing
 *      names decrypt to one plaintext name).
 *   1: an encoding: name_long_entry() gives a 45-character ".L" entry
 *      that name_is_long_entry() recognises; name_is_long_entry() on the
 *      input as a backing name.
 *   2: the content of a long name's side file, read back by
 *      bname_encoding() from a temporary directory, under its true hashed
 *      entry name (byte 1 bit 0 set) or a wrong one.
 *   3: a backing entry name (up to the first NUL): bname_encoding() on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/kdf.h"
#include "crypto/name.h"
#include "crypto/secmem.h"
#include "fs/names.h"
#include "tests/fuzz/fuzz.h"

static uint8_t mac_key[BYOKFS_KEY_BYTES], enc_key[BYOKFS_KEY_BYTES];
static struct name_keys nk = {mac_key, enc_key};
static char tmpdir[] = "/tmp/byokfs-fuzz-name.XXXXXX";
static int dirfd_ = -1;

/* mode 2 removes its side file after each input: the directory is empty */
static void cleanup(void)
{
	rmdir(tmpdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (secmem_init() < 0)
		abort();
	kdf_derive(mac_key, KDF_NAME_MAC, fuzz_vkey);
	kdf_derive(enc_key, KDF_NAME_ENC, fuzz_vkey);
	if (!mkdtemp(tmpdir))
		abort();
	dirfd_ = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd_ < 0)
		abort();
	atexit(cleanup);
	return 0;
}

static void decrypt(const uint8_t *data, size_t size)
{
	char out[NAME_PLAIN_MAX + 1], again[NAME_ENC_MAX + 1];
	const char *enc;
	size_t enclen;
	int n;

	if (size < BYOKFS_DIR_ID_BYTES)
		return;
	enc = (const char *)data + BYOKFS_DIR_ID_BYTES;
	enclen = size - BYOKFS_DIR_ID_BYTES;
	n = name_decrypt(&nk, data, enc, enclen, out);
	FUZZ_CHECK(n == -EBADMSG || (n >= 1 && n <= NAME_PLAIN_MAX));
	if (n < 0)
		return;
	FUZZ_CHECK(out[n] == '\0' && strlen(out) == (size_t)n && !strchr(out, '/'));
	FUZZ_CHECK(strcmp(out, ".") && strcmp(out, ".."));
	FUZZ_CHECK(name_encrypt(&nk, data, out, (size_t)n, again) == (int)enclen);
	FUZZ_CHECK(!memcmp(again, enc, enclen));
}

static void long_entry(const uint8_t *data, size_t size)
{
	char out[NAME_LONG_CHARS + 1], *s;

	name_long_entry((const char *)data, size, out);
	FUZZ_CHECK(strlen(out) == NAME_LONG_CHARS && name_is_long_entry(out));
	s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	(void)name_is_long_entry(s);
	(void)bname_is_internal(s);
	free(s);
}

static void side_file(const uint8_t *data, size_t size)
{
	char entry[NAME_LONG_CHARS + 1], side[NAME_LONG_CHARS + sizeof(NAME_LONG_SUFFIX)];
	char enc[NAME_ENC_MAX + 1];
	int fd, n, right;

	if (size < 1)
		return;
	right = data[0] & 1;
	data++, size--;
	name_long_entry((const char *)data, size, entry);
	snprintf(side, sizeof(side), "%s%s", entry, NAME_LONG_SUFFIX);
	fd = openat(dirfd_, side, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (!right)
		entry[2] = entry[2] == 'A' ? 'B' : 'A';
	n = bname_encoding(dirfd_, entry, enc);
	if (!right || size == 0 || size > NAME_ENC_MAX) {
		/* a longer file is read only up to NAME_ENC_MAX: its hash differs */
		FUZZ_CHECK(n == -EBADMSG);
	} else {
		FUZZ_CHECK(n == (int)size && !memcmp(enc, data, size) && enc[n] == '\0');
	}
	unlinkat(dirfd_, side, 0);
}

static void entry_name(const uint8_t *data, size_t size)
{
	char *entry = malloc(size + 1), enc[NAME_ENC_MAX + 1];
	int n;

	if (!entry)
		abort();
	memcpy(entry, data, size);
	entry[size] = '\0';
	if (entry[0] && !strchr(entry, '/')) {
		n = bname_encoding(dirfd_, entry, enc);
		FUZZ_CHECK(n == -EBADMSG || (n > 0 && n <= NAME_ENC_MAX && !strcmp(enc, entry)) ||
			   (n < 0 && n != -EBADMSG));
	}
	free(entry);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		decrypt(data + 1, size - 1);
		break;
	case 1:
		long_entry(data + 1, size - 1);
		break;
	case 2:
		side_file(data + 1, size - 1);
		break;
	case 3:
		entry_name(data + 1, size - 1);
		break;
	}
	return 0;
}
