/* SPDX-License-Identifier: MIT */
/*
 * Volume descriptor (parse, render, MAC, atomic store) and the local key
 * provider (keygen, permissions, wrap/unwrap, oracle's blob).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/kdf.h"
#include "crypto/secmem.h"
#include "crypto/vdesc.h"
#include "kms/kms.h"
#include "kms/local.h"
#include "tests/unit/unit.h"
#include "tests/unit/vectors.h"

static char tmpdir[] = "/tmp/byokfs-unit.XXXXXX";

static void make_desc(struct vdesc *d, const uint8_t *mac_key)
{
	uint8_t blob[300];

	memset(d, 0, sizeof(*d));
	d->format = 1;
	memcpy(d->id, KAT_VOLUME_ID, 16);
	d->cipher = CIPHER_XCHACHA20POLY1305;
	d->block_shift = 13;
	d->longname_max = 200;
	d->key_epoch = 9;
	strcpy(d->created, "2026-11-28T00:00:00Z");
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)i;
	ASSERT_INT_EQ(vdesc_add_slot(d, "primary", "local", "/keys/a key; with spaces  and   gaps/master.key", blob, 72), 0);
	ASSERT_INT_EQ(vdesc_add_slot(d, "dr-region2", "aws-kms",
				     "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
				     blob, sizeof(blob)), 0);
	vdesc_seal(d, mac_key);
}

static void test_roundtrip(void)
{
	struct vdesc d, e;
	char err[200];
	uint8_t mk[32];

	TEST_START("descriptor: render, parse, MAC round trip with long values");
	randombytes_buf(mk, sizeof(mk));
	make_desc(&d, mk);
	char *text = vdesc_format(&d);
	ASSERT_TRUE(text != NULL);
	/* every line fits Debian inih's 200-byte line buffer */
	for (char *p = text, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		ASSERT_TRUE(nl != NULL);
		ASSERT_TRUE(nl - p < 199);
	}
	if (vdesc_parse(&e, text, err, sizeof(err)) != 0)
		UNIT_FAIL("parse: %s", err);
	ASSERT_INT_EQ(vdesc_verify(&e, mk), 0);
	ASSERT_INT_EQ(e.nslots, 2);
	ASSERT_STR_EQ(e.slots[0].key_id, d.slots[0].key_id);
	ASSERT_STR_EQ(e.slots[1].key_id, d.slots[1].key_id);
	ASSERT_INT_EQ(e.slots[1].wrapped_len, 300);
	ASSERT_MEM_EQ(e.slots[1].wrapped, d.slots[1].wrapped, 300);
	ASSERT_INT_EQ(e.block_shift, 13);
	ASSERT_INT_EQ(e.cipher, CIPHER_XCHACHA20POLY1305);
	ASSERT_INT_EQ(e.key_epoch, 9);
	uint8_t wrong[32];
	memcpy(wrong, mk, 32);
	wrong[31] ^= 1;
	ASSERT_INT_EQ(vdesc_verify(&e, wrong), -EBADMSG);
	vdesc_release(&e);
	free(text);
	TEST_DONE();

	TEST_START("descriptor: a change to any value or any slot fails the MAC");
	const char *edits[][2] = {
		{"cipher = xchacha20-poly1305", "cipher = aes-256-gcm"},
		{"block_size = 8192", "block_size = 4096"},
		{"longname_max = 200", "longname_max = 201"},
		{"key_epoch = 9", "key_epoch = 8"},
		{"provider = aws-kms", "provider = local"},
		{"[slot dr-region2]", "[slot dr-region3]"},
		{"created = 2026-11-28T00:00:00Z", "created = 2026-11-28T00:00:01Z"},
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		text = vdesc_format(&d);
		char *at = strstr(text, edits[i][0]);
		ASSERT_TRUE(at != NULL);
		size_t a = strlen(edits[i][0]), b = strlen(edits[i][1]);
		char *t2 = malloc(strlen(text) + b + 1);
		memcpy(t2, text, (size_t)(at - text));
		strcpy(t2 + (at - text), edits[i][1]);
		strcat(t2, at + a);
		int r = vdesc_parse(&e, t2, err, sizeof(err));
		if (r == 0) {
			if (vdesc_verify(&e, mk) == 0)
				UNIT_FAIL("edit '%s' passed the MAC", edits[i][1]);
			vdesc_release(&e);
		}
		free(t2);
		free(text);
	}
	/* dropping the second slot */
	text = vdesc_format(&d);
	*strstr(text, "\n[slot dr-region2]") = '\0';
	ASSERT_INT_EQ(vdesc_parse(&e, text, err, sizeof(err)), 0);
	ASSERT_INT_EQ(vdesc_verify(&e, mk), -EBADMSG);
	vdesc_release(&e);
	free(text);
	TEST_DONE();

	TEST_START("descriptor: malformed input gives a reason");
	const char *bad[][2] = {
		{"", "missing field"},
		{"[volume]\nformat = 2\n", "unsupported format version 2"},
		{"[volume]\nbogus = 1\n", "unknown field 'bogus'"},
		{"[other]\nx = 1\n", "unknown section [other]"},
		{"[volume]\ncipher = rot13\n", "unknown cipher 'rot13'"},
		{"[volume]\nblock_size = 3000\n", "bad block_size"},
		{"[volume]\nformat = 1\nformat = 1\n", "duplicate field 'format'"},
		{"garbage without section\n", "syntax error on line 1"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		ASSERT_INT_EQ(vdesc_parse(&e, bad[i][0], err, sizeof(err)), -EBADMSG);
		if (!strstr(err, bad[i][1]))
			UNIT_FAIL("input %zu: error '%s' lacks '%s'", i, err, bad[i][1]);
	}
	TEST_DONE();

	TEST_START("descriptor: atomic store and load");
	ASSERT_INT_EQ(vdesc_store(&d, tmpdir), 0);
	ASSERT_INT_EQ(vdesc_load(&e, tmpdir, err, sizeof(err)), 0);
	ASSERT_INT_EQ(vdesc_verify(&e, mk), 0);
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", tmpdir, VDESC_FILE);
	ASSERT_INT_EQ(access(tmp, F_OK), -1);
	vdesc_release(&e);
	vdesc_release(&d);
	TEST_DONE();
}

static void test_local(void)
{
	char path[256], other[256], ctx[] = "00112233445566778899aabbccddeeff";
	struct kms_key *k = NULL, *k2 = NULL;
	struct kms_err err;
	uint8_t vkey[32], back[32], blob[KMS_BLOB_MAX];
	size_t bloblen = sizeof(blob);
	struct stat st;

	TEST_START("local: keygen makes a 0600 32-byte file and never overwrites");
	snprintf(path, sizeof(path), "%s/keys/master.key", tmpdir);
	ASSERT_INT_EQ(kms_local_keygen(path, &err), KMS_OK);
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0600);
	ASSERT_INT_EQ(st.st_size, 32);
	ASSERT_INT_NE(kms_local_keygen(path, &err), KMS_OK);
	TEST_DONE();

	TEST_START("local: wrap/unwrap round trip bound to the context");
	char spec[300];
	snprintf(spec, sizeof(spec), "local:%s", path);
	ASSERT_INT_EQ(kms_open(spec, &k, &err), KMS_OK);
	ASSERT_STR_EQ(kms_key_id(k), path);
	randombytes_buf(vkey, 32);
	ASSERT_INT_EQ(kms_wrap(k, ctx, vkey, blob, &bloblen, &err), KMS_OK);
	ASSERT_INT_EQ(kms_unwrap(k, ctx, blob, bloblen, back, &err), KMS_OK);
	ASSERT_MEM_EQ(back, vkey, 32);
	ctx[0] = '1';
	ASSERT_INT_EQ(kms_unwrap(k, ctx, blob, bloblen, back, &err), KMS_DENIED);
	ASSERT_TRUE(strstr(err.msg, "wrong key") != NULL);
	ctx[0] = '0';
	TEST_DONE();

	TEST_START("local: another key is denied");
	snprintf(other, sizeof(other), "%s/keys/other.key", tmpdir);
	ASSERT_INT_EQ(kms_local_keygen(other, &err), KMS_OK);
	snprintf(spec, sizeof(spec), "local:%s", other);
	ASSERT_INT_EQ(kms_open(spec, &k2, &err), KMS_OK);
	ASSERT_INT_EQ(kms_unwrap(k2, ctx, blob, bloblen, back, &err), KMS_DENIED);
	kms_close(k2);
	TEST_DONE();

	TEST_START("local: loose permissions, missing file, wrong size, symlink: denied");
	ASSERT_INT_EQ(chmod(path, 0640), 0);
	ASSERT_INT_EQ(kms_unwrap(k, ctx, blob, bloblen, back, &err), KMS_DENIED);
	ASSERT_TRUE(strstr(err.msg, "group or others") != NULL);
	ASSERT_INT_EQ(chmod(path, 0604), 0);
	ASSERT_INT_EQ(kms_unwrap(k, ctx, blob, bloblen, back, &err), KMS_DENIED);
	ASSERT_INT_EQ(chmod(path, 0600), 0);
	ASSERT_INT_EQ(kms_unwrap(k, ctx, blob, bloblen, back, &err), KMS_OK);
	char moved[300];
	snprintf(moved, sizeof(moved), "%s.moved", path);
	ASSERT_INT_EQ(rename(path, moved), 0);
	ASSERT_INT_EQ(kms_unwrap(k, ctx, blob, bloblen, back, &err), KMS_DENIED);
	ASSERT_TRUE(strstr(err.msg, "missing") != NULL);
	ASSERT_INT_EQ(symlink(moved, path), 0);
	ASSERT_INT_EQ(kms_unwrap(k, ctx, blob, bloblen, back, &err), KMS_DENIED);
	ASSERT_TRUE(strstr(err.msg, "symlink") != NULL);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_INT_EQ(write(fd, "short", 5), 5);
	close(fd);
	ASSERT_INT_EQ(kms_unwrap(k, ctx, blob, bloblen, back, &err), KMS_DENIED);
	ASSERT_TRUE(strstr(err.msg, "not 32") != NULL);
	unlink(path);
	ASSERT_INT_EQ(rename(moved, path), 0);
	ASSERT_INT_EQ(kms_unwrap(k, ctx, blob, bloblen, back, &err), KMS_OK);
	kms_close(k);
	TEST_DONE();

	TEST_START("local: the oracle's wrapped key unwraps");
	snprintf(other, sizeof(other), "%s/kat.key", tmpdir);
	fd = open(other, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_INT_EQ(write(fd, KAT_MASTER, 32), 32);
	close(fd);
	snprintf(spec, sizeof(spec), "local:%s", other);
	ASSERT_INT_EQ(kms_open(spec, &k, &err), KMS_OK);
	ASSERT_INT_EQ(kms_unwrap(k, KAT_CONTEXT, (const uint8_t *)KAT_LOCAL_BLOB, KAT_LOCAL_BLOB_LEN,
				 back, &err), KMS_OK);
	ASSERT_MEM_EQ(back, KAT_VKEY, 32);
	kms_close(k);
	TEST_DONE();

	TEST_START("kms: bad specs are invalid, unknown providers named");
	ASSERT_INT_EQ(kms_open("nocolon", &k, &err), KMS_INVALID);
	ASSERT_INT_EQ(kms_open("warp:key", &k, &err), KMS_INVALID);
	ASSERT_TRUE(strstr(err.msg, "unknown key provider 'warp'") != NULL);
	ASSERT_INT_EQ(kms_open("local:", &k, &err), KMS_INVALID);
	TEST_DONE();
}

int main(void)
{
	if (secmem_init() < 0 || !mkdtemp(tmpdir))
		return 1;
	test_roundtrip();
	test_local();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	UNIT_END();
}
