/* SPDX-License-Identifier: MIT */
/*
 * byokfs keyslot list|add|remove: the master keys that open a volume.
 *
 * Every slot wraps the same volume key, so adding one costs one unwrap
 * (through any working slot), one wrap and one unwrap to check the new
 * slot; removing one costs the unwrap that proves the caller may change
 * the descriptor (its MAC needs the volume key). No file but the
 * descriptor is touched, and it is replaced atomically (vdesc_store)
 * under the volume's update lock.
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
	"usage: byokfs keyslot list BACKING\n"
	"       byokfs keyslot add BACKING --key PROVIDER:ID [--name NAME] [--with PROVIDER:ID]\n"
	"       byokfs keyslot remove BACKING NAME [--with PROVIDER:ID]\n"
	"\n"
	"A volume's key is wrapped by up to 8 master keys, one per key slot; any one\n"
	"opens the volume.\n"
	"\n"
	"  list     one line per slot: name, provider and key id, tab-separated (needs no\n"
	"           key, and so is not authenticated)\n"
	"  add      wraps the volume key under the master key --key in a new slot called\n"
	"           NAME (default slotN); unlocks the volume with any working slot, or\n"
	"           with the key --with\n"
	"  remove   removes the slot NAME; refuses to remove the last one. Copies of the\n"
	"           old descriptor still open the volume with that key: rekey to cut it\n"
	"           off for good\n"
	"\n"
	"Both work while the volume is mounted: mounts renewing their lease through a\n"
	"removed slot are revoked at their next renewal.\n";

static int open_volume(struct vol *v, const char *backing)
{
	char err[512];
	int r = vol_open(v, backing, err, sizeof(err));

	if (r < 0) {
		cli_error("%s", err);
		return r == -EBADMSG || r == -ENOENT || r == -ENOTSUP ? EXIT_VOLUME : EXIT_ERROR;
	}
	return EXIT_OK;
}

/* Seals d with the unlocked volume's MAC key and stores it. */
static int seal_store(struct vol *v, struct vdesc *d)
{
	int r;

	if (vol_gate_enter(v) < 0) {
		cli_error("the volume is not unlocked");
		return EXIT_ERROR;
	}
	vdesc_seal(d, v->keys->desc_mac);
	vol_gate_leave(v);
	r = vdesc_store(d, v->backing);
	if (r < 0) {
		cli_error("cannot write the volume descriptor in '%s': %s (it is unchanged)", v->backing,
			  strerror(-r));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static int keyslot_list(int argc, char **argv)
{
	struct vdesc d;
	char err[512];
	int r;

	if (argc != 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	r = vdesc_load(&d, argv[1], err, sizeof(err));
	if (r == -ENOENT) {
		cli_error("'%s' is not a byokfs volume: no %s", argv[1], VDESC_FILE);
		return EXIT_VOLUME;
	}
	if (r < 0) {
		cli_error("%s", err);
		return r == -EBADMSG ? EXIT_VOLUME : EXIT_ERROR;
	}
	for (unsigned i = 0; i < d.nslots; i++)
		printf("%s\t%s\t%s\n", d.slots[i].name, d.slots[i].provider, d.slots[i].key_id);
	vdesc_release(&d);
	return EXIT_OK;
}

static int keyslot_add(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"key", required_argument, NULL, 'k'},
		{"name", required_argument, NULL, 'n'},
		{"with", required_argument, NULL, 'w'},
		{NULL, 0, NULL, 0},
	};
	const char *keyspec = NULL, *name = NULL, *with = NULL;
	char autoname[VDESC_SLOT_NAME_MAX + 1];
	struct kms_key *nk = NULL, *key = NULL;
	struct kms_err kerr = {0};
	uint8_t blob[KMS_BLOB_MAX];
	size_t bloblen = sizeof(blob);
	struct vdesc d = {0};
	struct vol v;
	unsigned slot;
	int opt, code, lockfd, r, have_vol = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			keyspec = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'w':
			with = optarg;
			break;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (!keyspec) {
		cli_error("keyslot add needs --key PROVIDER:ID (byokfs keyslot --help)");
		return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if ((code = cli_lock_volume(argv[optind], &lockfd)) != EXIT_OK)
		return code;
	if ((code = open_volume(&v, argv[optind])) != EXIT_OK)
		goto out;
	have_vol = 1;
	if (kms_open(keyspec, &nk, &kerr) != KMS_OK) {
		cli_error("%s", kerr.msg);
		code = cli_kms_exit(kerr.status);
		goto out;
	}
	for (unsigned i = 0; i < v.desc.nslots; i++) {
		const struct vslot *s = &v.desc.slots[i];
		if (!strcmp(s->provider, kms_provider_name(nk)) && !strcmp(s->key_id, kms_key_id(nk))) {
			cli_error("key %s:%s already has key slot '%s'", s->provider, s->key_id, s->name);
			code = EXIT_EXISTS;
			goto out;
		}
	}
	if (!name) {
		for (unsigned n = v.desc.nslots; ; n++) {
			snprintf(autoname, sizeof(autoname), "slot%u", n);
			if (!vdesc_slot(&v.desc, autoname))
				break;
		}
		name = autoname;
	}
	if (vdesc_slot(&v.desc, name)) {
		cli_error("key slot '%s' exists already", name);
		code = EXIT_EXISTS;
		goto out;
	}
	if (v.desc.nslots == VDESC_MAX_SLOTS) {
		cli_error("'%s' has %d key slots, the most a volume can have: remove one first",
			  v.backing, VDESC_MAX_SLOTS);
		code = EXIT_ERROR;
		goto out;
	}
	if ((code = cli_unlock(&v, with, &key, &slot)) != EXIT_OK)
		goto out;
	if ((code = cli_wrap_vkey(&v, nk, blob, &bloblen)) != EXIT_OK)
		goto out;
	if (vdesc_copy(&d, &v.desc) < 0) {
		cli_error("out of memory");
		code = EXIT_ERROR;
		goto out;
	}
	r = vdesc_add_slot(&d, name, kms_provider_name(nk), kms_key_id(nk), blob, bloblen);
	if (r < 0) {
		if (r == -EINVAL)
			cli_error("bad key slot name '%s': 1 to %d letters, digits, '_', '.' or '-'", name,
				  VDESC_SLOT_NAME_MAX);
		else
			cli_error("cannot add key slot '%s': %s", name, strerror(-r));
		code = r == -EINVAL ? EXIT_USAGE : EXIT_ERROR;
		goto out;
	}
	if ((code = seal_store(&v, &d)) != EXIT_OK)
		goto out;
	printf("added key slot '%s' (%s:%s) to volume %s\n", name, kms_provider_name(nk),
	       kms_key_id(nk), v.volume_id_hex);
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

static int keyslot_remove(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"with", required_argument, NULL, 'w'},
		{NULL, 0, NULL, 0},
	};
	const char *with = NULL, *name;
	struct kms_key *key = NULL;
	struct vdesc d = {0};
	struct vol v;
	char removed[VDESC_PROVIDER_MAX + VDESC_KEY_ID_MAX + 2];
	unsigned slot;
	int opt, code, lockfd, have_vol = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'w':
			with = optarg;
			break;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	name = argv[optind + 1];
	if ((code = cli_lock_volume(argv[optind], &lockfd)) != EXIT_OK)
		return code;
	if ((code = open_volume(&v, argv[optind])) != EXIT_OK)
		goto out;
	have_vol = 1;
	const struct vslot *s = vdesc_slot(&v.desc, name);
	if (!s) {
		cli_error("'%s' has no key slot '%s'", v.backing, name);
		code = EXIT_USAGE;
		goto out;
	}
	if (v.desc.nslots == 1) {
		cli_error("refusing to remove key slot '%s': it is the last one, and nothing would open the volume",
			  name);
		code = EXIT_ERROR;
		goto out;
	}
	snprintf(removed, sizeof(removed), "%s:%s", s->provider, s->key_id);
	if ((code = cli_unlock(&v, with, &key, &slot)) != EXIT_OK)
		goto out;
	if (vdesc_copy(&d, &v.desc) < 0 || vdesc_remove_slot(&d, name) < 0) {
		cli_error("out of memory");
		code = EXIT_ERROR;
		goto out;
	}
	if ((code = seal_store(&v, &d)) != EXIT_OK)
		goto out;
	printf("removed key slot '%s' (%s) from volume %s: %u left\n", name, removed,
	       v.volume_id_hex, d.nslots);
	cli_error("note: copies of the old descriptor (backups, snapshots) still open the volume with that key; rekey it to cut the key off for good");
out:
	vdesc_release(&d);
	kms_close(key);
	if (have_vol) {
		vol_wipe(&v, VOL_LOCKED);
		vol_close(&v);
	}
	close(lockfd);
	return code;
}

int cmd_keyslot(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "list"))
		return keyslot_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "add"))
		return keyslot_add(argc - 1, argv + 1);
	if (!strcmp(argv[1], "remove"))
		return keyslot_remove(argc - 1, argv + 1);
	cli_error("unknown keyslot command '%s' (list, add or remove)", argv[1]);
	return EXIT_USAGE;
}
