/* SPDX-License-Identifier: MIT */
/*
 * byokfs rotate BACKING [--key NEWSPEC] [--slot NAME]: replaces the master
 * key of one key slot. O(1): the slot's wrapped volume key is unwrapped
 * with the slot's current key and wrapped under the new one (or, without
 * --key, rewrapped by the provider under its newest key version); no file
 * but the descriptor changes, and it is replaced atomically under the
 * volume's update lock. Mounts pick the new key up at their next lease
 * renewal (fs/lease.c reads the descriptor each time).
 */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "crypto/secmem.h"
#include "crypto/vdesc.h"

static const char usage_text[] =
	"usage: byokfs rotate BACKING [--key PROVIDER:ID] [--slot NAME] [--with PROVIDER:ID]\n"
	"\n"
	"Replaces the master key of the key slot NAME (needed when the volume has more\n"
	"than one slot): the volume key is unwrapped with the slot's current key and\n"
	"wrapped under the new key --key. Without --key, a provider that versions its\n"
	"keys (aws-kms, vault-transit) rewraps the slot under the key's newest version.\n"
	"No file but the volume descriptor changes. Works while the volume is mounted:\n"
	"mounts use the new key from their next lease renewal on.\n"
	"\n"
	"options:\n"
	"  --key SPEC    the new master key\n"
	"  --slot NAME   the slot to rotate\n"
	"  --with SPEC   the slot's current key, when its recorded key id no longer\n"
	"                names it (for example a key file moved to another path)\n"
	"  -h, --help    this help\n";

int cmd_rotate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"key", required_argument, NULL, 'k'},
		{"slot", required_argument, NULL, 's'},
		{"with", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *keyspec = NULL, *slotname = NULL, *with = NULL;
	struct kms_key *nk = NULL, *key = NULL;
	struct kms_err kerr = {0};
	uint8_t blob[KMS_BLOB_MAX];
	size_t bloblen = sizeof(blob);
	char was[VDESC_PROVIDER_MAX + VDESC_KEY_ID_MAX + 2], err[512];
	struct vdesc d = {0};
	struct vol v;
	int opt, code = EXIT_ERROR, lockfd, have_vol = 0, r;
	unsigned idx;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			keyspec = optarg;
			break;
		case 's':
			slotname = optarg;
			break;
		case 'w':
			with = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if ((code = cli_lock_volume(argv[optind], &lockfd)) != EXIT_OK)
		return code;
	r = vol_open(&v, argv[optind], err, sizeof(err));
	if (r < 0) {
		cli_error("%s", err);
		code = r == -EBADMSG || r == -ENOENT || r == -ENOTSUP ? EXIT_VOLUME : EXIT_ERROR;
		goto out;
	}
	have_vol = 1;

	/* which slot */
	if (!slotname && v.desc.nslots > 1) {
		char names[VDESC_MAX_SLOTS * (VDESC_SLOT_NAME_MAX + 2)] = "";
		for (unsigned i = 0; i < v.desc.nslots; i++) {
			strcat(names, i ? ", " : "");
			strcat(names, v.desc.slots[i].name);
		}
		cli_error("'%s' has %u key slots (%s): name one with --slot", v.backing, v.desc.nslots,
			  names);
		code = EXIT_USAGE;
		goto out;
	}
	const struct vslot *s = slotname ? vdesc_slot(&v.desc, slotname) : &v.desc.slots[0];
	if (!s) {
		cli_error("'%s' has no key slot '%s'", v.backing, slotname);
		code = EXIT_USAGE;
		goto out;
	}
	idx = (unsigned)(s - v.desc.slots);
	snprintf(was, sizeof(was), "%s:%s", s->provider, s->key_id);

	if (keyspec) {
		if (kms_open(keyspec, &nk, &kerr) != KMS_OK) {
			cli_error("%s", kerr.msg);
			code = cli_kms_exit(kerr.status);
			goto out;
		}
		for (unsigned i = 0; i < v.desc.nslots; i++) {
			const struct vslot *o = &v.desc.slots[i];
			if (strcmp(o->provider, kms_provider_name(nk)) || strcmp(o->key_id, kms_key_id(nk)))
				continue;
			if (i == idx)
				cli_error("%s:%s is the key of slot '%s' already: give a new key (or no --key to rewrap under a newer version)",
					  o->provider, o->key_id, o->name);
			else
				cli_error("key %s:%s already has key slot '%s'", o->provider, o->key_id,
					  o->name);
			code = i == idx ? EXIT_USAGE : EXIT_EXISTS;
			goto out;
		}
	}
	/* the slot's current key must open it: that is what is being replaced */
	if ((code = cli_unlock_slot(&v, idx, with, &key)) != EXIT_OK)
		goto out;

	if (keyspec) {
		if ((code = cli_wrap_vkey(&v, nk, blob, &bloblen)) != EXIT_OK)
			goto out;
	} else {
		uint8_t *vkey = secmem_alloc(KMS_KEY_BYTES);
		enum kms_status st;
		if (!vkey) {
			cli_error("out of secure memory");
			code = EXIT_ERROR;
			goto out;
		}
		st = kms_rewrap(key, v.volume_id_hex, s->wrapped, s->wrapped_len, blob, &bloblen, &kerr);
		if (st == KMS_OK)
			st = kms_unwrap(key, v.volume_id_hex, blob, bloblen, vkey, &kerr);
		if (st == KMS_OK && !vol_key_matches(&v, vkey))
			st = kms_fail(&kerr, KMS_DENIED,
				      "the key provider rewrapped a different key: nothing changed");
		secmem_free(vkey);
		secmem_wipe_stack();
		if (st != KMS_OK) {
			if (st == KMS_INVALID)
				cli_error("%s: give the new key with --key", kerr.msg);
			else
				cli_error("%s", kerr.msg);
			code = cli_kms_exit(st);
			goto out;
		}
	}
	if (vdesc_copy(&d, &v.desc) < 0 ||
	    (r = vdesc_set_slot(&d.slots[idx], nk ? kms_provider_name(nk) : s->provider,
				nk ? kms_key_id(nk) : s->key_id, blob, bloblen)) < 0) {
		cli_error("cannot update key slot '%s'", s->name);
		code = EXIT_ERROR;
		goto out;
	}
	if (vol_gate_enter(&v) < 0) {
		code = EXIT_ERROR;
		goto out;
	}
	vdesc_seal(&d, v.keys->desc_mac);
	vol_gate_leave(&v);
	if ((r = vdesc_store(&d, v.backing)) < 0) {
		cli_error("cannot write the volume descriptor in '%s': %s (it is unchanged)", v.backing,
			  strerror(-r));
		code = EXIT_ERROR;
		goto out;
	}
	if (nk)
		printf("rotated key slot '%s' of volume %s: %s:%s (was %s)\n", s->name, v.volume_id_hex,
		       kms_provider_name(nk), kms_key_id(nk), was);
	else
		printf("rewrapped key slot '%s' of volume %s under the newest version of %s\n", s->name,
		       v.volume_id_hex, was);
	code = EXIT_OK;
out:
	sodium_memzero(blob, sizeof(blob));
	vdesc_release(&d);
	kms_close(key);
	kms_close(nk);
	if (have_vol) {
		vol_wipe(&v, VOL_LOCKED);
		vol_close(&v);
	}
	close(lockfd);
	return code;
}
