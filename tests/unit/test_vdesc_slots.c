/* SPDX-License-Identifier: MIT */
/*
 * Key-slot editing of the volume descriptor (keyslot, rotate): remove,
 * replace, copy and compare slots; the MAC covers every change, and a
 * re-sealed descriptor renders and parses back unchanged.
 */
#include <errno.h>
#include <sodium.h>

#include "crypto/secmem.h"
#include "crypto/vdesc.h"
#include "tests/unit/unit.h"

static void make(struct vdesc *d, const uint8_t *mk, unsigned n)
{
	uint8_t blob[72];
	char name[16], id[32];

	memset(d, 0, sizeof(*d));
	d->format = 1;
	randombytes_buf(d->id, sizeof(d->id));
	d->cipher = CIPHER_XCHACHA20POLY1305;
	d->block_shift = 12;
	d->longname_max = 255;
	strcpy(d->created, "2026-11-28T00:00:00Z");
	for (unsigned i = 0; i < n; i++) {
		randombytes_buf(blob, sizeof(blob));
		snprintf(name, sizeof(name), "s%u", i);
		snprintf(id, sizeof(id), "/keys/%u.key", i);
		ASSERT_INT_EQ(vdesc_add_slot(d, name, "local", id, blob, sizeof(blob)), 0);
	}
	vdesc_seal(d, mk);
}

static void roundtrip(const struct vdesc *d, struct vdesc *out)
{
	char err[200], *text = vdesc_format(d);

	ASSERT_TRUE(text != NULL);
	ASSERT_INT_EQ(vdesc_parse(out, text, err, sizeof(err)), 0);
	free(text);
}

static void test_remove(void)
{
	struct vdesc d, e;
	uint8_t mk[32];

	TEST_START("remove: order kept, MAC broken until re-sealed, last slot refused");
	randombytes_buf(mk, sizeof(mk));
	make(&d, mk, 3);
	ASSERT_INT_EQ(vdesc_remove_slot(&d, "nope"), -ENOENT);
	ASSERT_INT_EQ(vdesc_remove_slot(&d, "s1"), 0);
	ASSERT_INT_EQ(d.nslots, 2);
	ASSERT_STR_EQ(d.slots[0].name, "s0");
	ASSERT_STR_EQ(d.slots[1].name, "s2");
	ASSERT_STR_EQ(d.slots[1].key_id, "/keys/2.key");
	ASSERT_TRUE(d.slots[2].key_id == NULL && d.slots[2].wrapped == NULL);
	ASSERT_INT_EQ(vdesc_verify(&d, mk), -EBADMSG);
	vdesc_seal(&d, mk);
	ASSERT_INT_EQ(vdesc_verify(&d, mk), 0);
	roundtrip(&d, &e);
	ASSERT_INT_EQ(vdesc_verify(&e, mk), 0);
	ASSERT_INT_EQ(e.nslots, 2);
	ASSERT_TRUE(vslot_equal(&e.slots[1], &d.slots[1]));
	vdesc_release(&e);
	ASSERT_INT_EQ(vdesc_remove_slot(&d, "s0"), 0);
	ASSERT_INT_EQ(vdesc_remove_slot(&d, "s2"), -EBUSY);
	ASSERT_INT_EQ(d.nslots, 1);
	vdesc_release(&d);
	TEST_DONE();
}

static void test_set_copy_equal(void)
{
	struct vdesc d, c;
	uint8_t mk[32], blob[80];

	TEST_START("set slot, copy and compare");
	randombytes_buf(mk, sizeof(mk));
	randombytes_buf(blob, sizeof(blob));
	make(&d, mk, 2);
	ASSERT_INT_EQ(vdesc_copy(&c, &d), 0);
	ASSERT_TRUE(c.slots[0].key_id != d.slots[0].key_id);
	ASSERT_TRUE(vslot_equal(&c.slots[0], &d.slots[0]));
	ASSERT_TRUE(!vslot_equal(&c.slots[0], &d.slots[1]));
	ASSERT_INT_EQ(vdesc_verify(&c, mk), 0);
	ASSERT_INT_EQ(vdesc_set_slot(&c.slots[1], "local", "bad\x01id", blob, sizeof(blob)), -EINVAL);
	ASSERT_INT_EQ(vdesc_set_slot(&c.slots[1], "", "/k", blob, sizeof(blob)), -EINVAL);
	ASSERT_INT_EQ(vdesc_set_slot(&c.slots[1], "local", "/k", blob, 0), -EINVAL);
	ASSERT_TRUE(vslot_equal(&c.slots[1], &d.slots[1])); /* unchanged by refusals */
	ASSERT_INT_EQ(vdesc_set_slot(&c.slots[1], "aws-kms", "arn:aws:kms:eu-west-1:1:key/x", blob,
				     sizeof(blob)), 0);
	ASSERT_STR_EQ(c.slots[1].name, "s1");
	ASSERT_STR_EQ(c.slots[1].provider, "aws-kms");
	ASSERT_INT_EQ(c.slots[1].wrapped_len, sizeof(blob));
	ASSERT_TRUE(!vslot_equal(&c.slots[1], &d.slots[1]));
	ASSERT_INT_EQ(vdesc_verify(&c, mk), -EBADMSG);
	vdesc_seal(&c, mk);
	ASSERT_INT_EQ(vdesc_verify(&c, mk), 0);
	/* the original is untouched by changes to the copy */
	ASSERT_STR_EQ(d.slots[1].provider, "local");
	ASSERT_INT_EQ(vdesc_verify(&d, mk), 0);
	vdesc_release(&c);
	vdesc_release(&d);
	TEST_DONE();
}

/*
 * Key ids the writer cannot cut every 64 characters: a long run of ';'
 * (a continuation line cannot start with it) right after a space (nor end
 * with one). Such a value still renders and parses back: on a line of
 * its own when it does not fit after "key_id = ", with one space of
 * indentation when two leave no room (a case found by fuzz_vdesc).
 */
static void test_unsplittable_key_ids(void)
{
	const uint8_t mk[BYOKFS_KEY_BYTES] = {7};
	/* n: length of the ';' run after "+ m": 188 needs a line of its own
	 * (191 > 190 after "key_id = "), 195 one space of indentation (198) */
	const size_t runs[] = {40, 188, 195};
	uint8_t blob[48] = {1};

	TEST_START("key ids without a clean split every 64 characters render and parse back");
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		/* the first starts with "x", the others right with the run's "+ m" */
		const char *head = r == 0 ? "x+ m" : "+ m";
		char id[400];
		struct vdesc d, back;
		size_t n = strlen(head);
		memcpy(id, head, n);
		memset(id + n, ';', runs[r]);
		memcpy(id + n + runs[r], "Omega", 6);
		make(&d, mk, 1);
		ASSERT_INT_EQ(vdesc_set_slot(&d.slots[0], "local", id, blob, sizeof(blob)), 0);
		vdesc_seal(&d, mk);
		roundtrip(&d, &back);
		ASSERT_STR_EQ(back.slots[0].key_id, id);
		ASSERT_INT_EQ(vdesc_verify(&back, mk), 0);
		vdesc_release(&back);
		vdesc_release(&d);
	}
	TEST_DONE();
}

int main(void)
{
	if (secmem_init() < 0)
		return 1;
	test_remove();
	test_set_copy_equal();
	test_unsplittable_key_ids();
	UNIT_END();
}
