/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the volume descriptor parser: vdesc_parse() on arbitrary text,
 * then vdesc_verify() with the fixed volume key's descriptor MAC key (the
 * seeds carry the right MAC, so the fuzzer reaches the accepting path).
 * Invariants checked on every descriptor the parser accepts:
 *   - the error buffer is untouched on success, NUL terminated on failure;
 *   - vdesc_format() renders it, and the rendering parses back to the same
 *     descriptor (every field and slot), with the same MAC verdict;
 *   - vdesc_seal() then vdesc_verify() accepts;
 *   - the [rekey] section's sealed previous key, when the MAC holds, opens
 *     to 32 bytes or fails cleanly.
 * Corpus: tests/fuzz/corpus/vdesc/ (tests/fuzz/make-corpus).
 */
#include <errno.h>
#include <string.h>

#include "crypto/kdf.h"
#include "crypto/seal.h"
#include "crypto/secmem.h"
#include "crypto/vdesc.h"
#include "tests/fuzz/fuzz.h"

static uint8_t desc_mac[BYOKFS_KEY_BYTES], rekey_key[BYOKFS_KEY_BYTES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (secmem_init() < 0)
		abort();
	kdf_derive(desc_mac, KDF_DESC_MAC, fuzz_vkey);
	kdf_derive(rekey_key, KDF_REKEY, fuzz_vkey);
	return 0;
}

static void same(const struct vdesc *a, const struct vdesc *b)
{
	FUZZ_CHECK(a->format == b->format);
	FUZZ_CHECK(!memcmp(a->id, b->id, sizeof(a->id)));
	FUZZ_CHECK(a->cipher == b->cipher);
	FUZZ_CHECK(a->block_shift == b->block_shift);
	FUZZ_CHECK(a->longname_max == b->longname_max);
	FUZZ_CHECK(a->key_epoch == b->key_epoch);
	FUZZ_CHECK(!strcmp(a->created, b->created));
	FUZZ_CHECK(!memcmp(a->mac, b->mac, sizeof(a->mac)));
	FUZZ_CHECK(a->rekey == b->rekey);
	if (a->rekey) {
		FUZZ_CHECK(a->rekey_from_epoch == b->rekey_from_epoch);
		FUZZ_CHECK(!memcmp(a->rekey_prev, b->rekey_prev, sizeof(a->rekey_prev)));
	}
	FUZZ_CHECK(a->nslots == b->nslots);
	for (unsigned i = 0; i < a->nslots; i++) {
		const struct vslot *s = &a->slots[i], *t = &b->slots[i];
		FUZZ_CHECK(!strcmp(s->name, t->name));
		FUZZ_CHECK(!strcmp(s->provider, t->provider));
		FUZZ_CHECK(!strcmp(s->key_id, t->key_id));
		FUZZ_CHECK(s->wrapped_len == t->wrapped_len);
		FUZZ_CHECK(!memcmp(s->wrapped, t->wrapped, s->wrapped_len));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *out;
	char err[200];
	struct vdesc d, d2;
	int ok;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 'x', sizeof(err));
	if (vdesc_parse(&d, text, err, sizeof(err)) != 0) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		free(text);
		return 0;
	}
	FUZZ_CHECK(err[0] == 'x'); /* no reason written on success */
	FUZZ_CHECK(d.nslots >= 1 && d.nslots <= VDESC_MAX_SLOTS);
	ok = vdesc_verify(&d, desc_mac) == 0;
	if (ok && d.rekey) {
		char ad[64], hex[2 * BYOKFS_VOLUME_ID_BYTES + 1];
		uint8_t prev[VDESC_REKEY_PREV_BYTES];
		long n;
		vdesc_id_hex(&d, hex);
		snprintf(ad, sizeof(ad), "%s%s", VDESC_REKEY_AD, hex);
		n = unseal(rekey_key, (const uint8_t *)ad, strlen(ad), d.rekey_prev,
			   sizeof(d.rekey_prev), prev);
		FUZZ_CHECK(n == BYOKFS_KEY_BYTES || n == -EBADMSG);
	}

	out = vdesc_format(&d);
	FUZZ_CHECK(out != NULL);
	if (vdesc_parse(&d2, out, err, sizeof(err)) != 0) {
		fprintf(stderr, "accepted descriptor does not parse back: %s\n--- rendered:\n%s\n",
			err, out);
		abort();
	}
	same(&d, &d2);
	FUZZ_CHECK((vdesc_verify(&d2, desc_mac) == 0) == ok);
	vdesc_seal(&d2, desc_mac);
	FUZZ_CHECK(vdesc_verify(&d2, desc_mac) == 0);
	vdesc_release(&d2);
	vdesc_release(&d);
	free(out);
	free(text);
	return 0;
}
