/* SPDX-License-Identifier: MIT */
/* Helpers shared by the subcommands: messages, exit codes, unlocking. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "crypto/secmem.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("byokfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_kms_exit(enum kms_status s)
{
	switch (s) {
	case KMS_OK:
		return EXIT_OK;
	case KMS_DENIED:
		return EXIT_KEY_DENIED;
	case KMS_TRANSIENT:
		return EXIT_KEY_UNAVAILABLE;
	case KMS_INVALID:
		return EXIT_USAGE;
	}
	return EXIT_ERROR;
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

int cli_unlock(struct vol *v, const char *keyspec, struct kms_key **key_out, unsigned *slot_out)
{
	struct kms_key *given = NULL, *key = NULL;
	struct kms_err kerr = {0}, last = {0};
	uint8_t *vkey = secmem_alloc(KMS_KEY_BYTES);
	int tried = 0, code = EXIT_ERROR;

	*key_out = NULL;
	if (!vkey) {
		cli_error("out of secure memory");
		return EXIT_ERROR;
	}
	if (keyspec && kms_open(keyspec, &given, &kerr) != KMS_OK) {
		cli_error("%s", kerr.msg);
		code = cli_kms_exit(kerr.status);
		goto out;
	}
	last.status = KMS_DENIED;
	for (unsigned i = 0; i < v->desc.nslots; i++) {
		struct vslot *s = &v->desc.slots[i];
		enum kms_status st;

		if (given) {
			if (strcmp(kms_provider_name(given), s->provider))
				continue;
			key = given;
		} else if ((st = kms_open2(s->provider, s->key_id, &key, &kerr)) != KMS_OK) {
			if (st == KMS_INVALID) {
				/* a slot naming no provider we know, or a key id it cannot
				 * parse: the descriptor is damaged (or from a newer byokfs) */
				cli_error("corrupt volume descriptor of '%s': key slot '%s': %s", v->backing,
					  s->name, kerr.msg);
				code = EXIT_VOLUME;
				goto out;
			}
			last = kerr;
			tried++;
			continue;
		}
		tried++;
		st = kms_unwrap(key, v->volume_id_hex, s->wrapped, s->wrapped_len, vkey, &kerr);
		if (st == KMS_INVALID) {
			cli_error("corrupt volume descriptor of '%s': key slot '%s': %s", v->backing,
				  s->name, kerr.msg);
			code = EXIT_VOLUME;
			if (key != given)
				kms_close(key);
			goto out;
		}
		if (st == KMS_OK) {
			int r = vol_unlock(v, vkey);
			if (r == -EBADMSG) {
				cli_error("volume descriptor of '%s' failed authentication: it was modified",
					  v->backing);
				code = EXIT_VOLUME;
				if (key != given)
					kms_close(key);
				goto out;
			}
			if (r < 0) {
				cli_error("cannot unlock volume: %s", strerror(-r));
				if (key != given)
					kms_close(key);
				goto out;
			}
			*key_out = key;
			*slot_out = i;
			if (given)
				given = NULL; /* transferred */
			code = EXIT_OK;
			goto out;
		}
		/* prefer reporting a denial over an outage: it is the actionable one */
		if (last.status != KMS_DENIED || st == KMS_DENIED || tried == 1)
			last = kerr;
		if (key != given)
			kms_close(key);
		key = NULL;
	}
	if (tried == 0) {
		cli_error("no key slot of '%s' uses provider '%s'", v->backing,
			  given ? kms_provider_name(given) : "?");
		code = EXIT_KEY_DENIED;
	} else {
		cli_error("%s", last.msg[0] ? last.msg : "no key slot could be unlocked");
		code = cli_kms_exit(last.status);
	}
out:
	kms_close(given);
	secmem_free(vkey);
	return code;
}
