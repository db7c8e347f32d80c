/* SPDX-License-Identifier: MIT */
/*
 * byokfs rekey BACKING [--data]: replaces the volume key.
 *
 *   1. a new volume key, wrapped under every slot's master key (all must
 *      answer: nothing has changed if one does not);
 *   2. the descriptor is stored with key_epoch + 1, the new wrapped keys and
 *      a [rekey] section holding the previous volume key sealed under the
 *      new one: from here on, mounts read both generations;
 *   3. fs/rekey.c moves every name, header, symlink target and xattr (and,
 *      with --data, every file's content to a new data key);
 *   4. the descriptor is stored without [rekey]: the old key is gone.
 * Killed anywhere, the volume mounts and reads; running rekey again resumes
 * at step 3. Offline only: it refuses a volume mounted on this host.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "crypto/kdf.h"
#include "crypto/seal.h"
#include "crypto/secmem.h"
#include "crypto/vdesc.h"
#include "fs/rekey.h"

static const char usage_text[] =
	"usage: byokfs rekey BACKING [--data] [--key PROVIDER:ID]\n"
	"\n"
	"Replaces the volume key: every key slot is rewrapped under a new volume key\n"
	"(every slot's master key must be available), every file header's data key is\n"
	"rewrapped and every name, symlink target and extended attribute re-encrypted.\n"
	"O(files). Afterwards a copy of the old volume key opens nothing of the volume.\n"
	"With --data, every file also gets a new data key and its content is\n"
	"re-encrypted (O(bytes)); hard-linked files keep theirs.\n"
	"The volume must not be mounted. Interrupted, the volume still mounts and reads\n"
	"every file; run the command again to finish.\n"
	"\n"
	"options:\n"
	"  --data             new data keys too (re-encrypts all content)\n"
	"  --key SPEC         unlock with this master key (default: the slots' own)\n"
	"  -h, --help         this help\n";

struct ui {
	struct cli_progress prog;
};

static void report(void *ctx, const char *path, const char *what, int problem)
{
	struct ui *u = ctx;
	cli_progress_done(&u->prog);
	printf("%s %s: %s\n", problem ? "problem" : "notice", path, what);
}

static void progress(void *ctx, const struct rekey_stats *st, uint64_t total)
{
	struct ui *u = ctx;
	cli_progress_update(&u->prog, st->entries, total, 0, 0);
}

/*
 * Step 1 and 2: a new volume key under every slot, the old one sealed in
 * [rekey]. Returns an exit code.
 */
static int begin(struct vol *v)
{
	uint8_t *keys = secmem_alloc(3 * BYOKFS_KEY_BYTES); /* new | rekey key | desc mac key */
	uint8_t *nkey = keys, *rk = keys + BYOKFS_KEY_BYTES, *mk = keys + 2 * BYOKFS_KEY_BYTES;
	uint8_t *back = secmem_alloc(BYOKFS_KEY_BYTES);
	struct vdesc d = {0};
	char ad[64];
	int code = EXIT_ERROR, r;

	if (!keys || !back || vdesc_copy(&d, &v->desc) < 0) {
		cli_error("out of memory");
		goto out;
	}
	randombytes_buf(nkey, BYOKFS_KEY_BYTES);
	for (unsigned i = 0; i < d.nslots; i++) {
		struct vslot *s = &d.slots[i];
		struct kms_key *k = NULL;
		struct kms_err kerr = {0};
		uint8_t blob[KMS_BLOB_MAX];
		size_t len = sizeof(blob);
		enum kms_status st = kms_open2(s->provider, s->key_id, &k, &kerr);
		if (st == KMS_OK)
			st = kms_wrap(k, v->volume_id_hex, nkey, blob, &len, &kerr);
		if (st == KMS_OK)
			st = kms_unwrap(k, v->volume_id_hex, blob, len, back, &kerr);
		if (st == KMS_OK && sodium_memcmp(back, nkey, BYOKFS_KEY_BYTES) != 0)
			st = kms_fail(&kerr, KMS_DENIED, "the key does not unwrap what it wrapped");
		kms_close(k);
		if (st != KMS_OK) {
			cli_error("key slot '%s' (%s:%s): %s; nothing changed (every slot's key is needed)",
				  s->name, s->provider, s->key_id, kerr.msg);
			code = cli_kms_exit(st);
			goto out;
		}
		free(s->wrapped);
		s->wrapped = malloc(len);
		if (!s->wrapped) {
			cli_error("out of memory");
			goto out;
		}
		memcpy(s->wrapped, blob, len);
		s->wrapped_len = len;
		sodium_memzero(blob, sizeof(blob));
	}
	/* the previous key, sealed under the new one, for mounts meanwhile */
	d.rekey = 1;
	d.rekey_from_epoch = v->desc.key_epoch;
	d.key_epoch = v->desc.key_epoch + 1;
	kdf_derive(rk, KDF_REKEY, nkey);
	snprintf(ad, sizeof(ad), "%s%s", VDESC_REKEY_AD, v->volume_id_hex);
	if (vol_gate_enter(v) < 0) {
		cli_error("the volume is locked");
		goto out;
	}
	seal(rk, (const uint8_t *)ad, strlen(ad), v->keys->volume, BYOKFS_KEY_BYTES, d.rekey_prev);
	vol_gate_leave(v);
	kdf_derive(mk, KDF_DESC_MAC, nkey);
	vdesc_seal(&d, mk);
	if ((r = vdesc_store(&d, v->backing)) < 0) {
		cli_error("cannot write the volume descriptor in '%s': %s; nothing changed", v->backing,
			  strerror(-r));
		goto out;
	}
	code = EXIT_OK;
out:
	if (keys)
		secmem_free(keys);
	if (back)
		secmem_free(back);
	vdesc_release(&d);
	secmem_wipe_stack();
	return code;
}

/* Step 4: the descriptor without [rekey]. */
static int finish(struct vol *v)
{
	struct vdesc d = {0};
	int r;

	if (vdesc_copy(&d, &v->desc) < 0) {
		cli_error("out of memory");
		return EXIT_ERROR;
	}
	d.rekey = 0;
	d.rekey_from_epoch = 0;
	sodium_memzero(d.rekey_prev, sizeof(d.rekey_prev));
	if ((r = vol_gate_enter(v)) < 0) {
		vdesc_release(&d);
		cli_error("the volume is locked");
		return EXIT_ERROR;
	}
	vdesc_seal(&d, v->keys->desc_mac);
	vol_gate_leave(v);
	r = vdesc_store(&d, v->backing);
	vdesc_release(&d);
	if (r < 0) {
		cli_error("cannot write the volume descriptor in '%s': %s; run byokfs rekey again",
			  v->backing, strerror(-r));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* Opens and unlocks BACKING; an exit code. */
static int open_volume(struct vol *v, const char *backing, const char *keyspec)
{
	struct kms_key *key = NULL;
	unsigned slot;
	char err[512];
	int r = vol_open(v, backing, err, sizeof(err)), code;

	if (r < 0) {
		cli_error("%s", err);
		return r == -EBADMSG || r == -ENOENT || r == -ENOTSUP ? EXIT_VOLUME : EXIT_ERROR;
	}
	code = cli_unlock(v, keyspec, &key, &slot);
	kms_close(key);
	secmem_wipe_stack();
	if (code != EXIT_OK)
		vol_close(v);
	return code;
}

int cmd_rekey(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"data", no_argument, NULL, 'd'},
		{"key", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *keyspec = NULL;
	struct rekey_opts ro = {0};
	struct rekey_stats st;
	struct ui u;
	struct vol v;
	char real[PATH_MAX];
	int opt, code, lockfd = -1, r, resumed;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			ro.data = 1;
			break;
		case 'k':
			keyspec = optarg;
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
	if (!realpath(argv[optind], real)) {
		cli_error("cannot use '%s': %s", argv[optind], strerror(errno));
		return EXIT_ERROR;
	}
	if (cli_mounted_from(real)) {
		cli_error("'%s' is mounted on this host: unmount it before byokfs rekey", real);
		return EXIT_ERROR;
	}
	if ((code = cli_lock_volume(real, &lockfd)) != EXIT_OK)
		return code;
	if ((code = open_volume(&v, real, keyspec)) != EXIT_OK)
		goto out_unlocked;
	resumed = v.desc.rekey;
	if (!resumed) {
		if ((code = begin(&v)) != EXIT_OK)
			goto out;
		vol_wipe(&v, VOL_LOCKED);
		vol_close(&v);
		/* from here on the volume opens with the new key and reads both */
		if ((code = open_volume(&v, real, keyspec)) != EXIT_OK)
			goto out_unlocked;
	}
	fprintf(stderr, "byokfs: %s rekey of volume %s: key epoch %u -> %u%s\n",
		resumed ? "resuming the" : "starting the", v.volume_id_hex, v.desc.rekey_from_epoch,
		v.desc.key_epoch, ro.data ? ", new data keys" : "");
	cli_progress_init(&u.prog, "rekey");
	ro.report = report;
	ro.progress = progress;
	ro.ctx = &u;
	r = rekey_walk(&v, &ro, &st);
	cli_progress_done(&u.prog);
	if (r < 0) {
		cli_error("rekey of '%s' stopped: %s; run byokfs rekey again", real, strerror(-r));
		code = EXIT_ERROR;
		goto out;
	}
	if (st.problems) {
		printf("unfinished: %llu entries could not be moved (listed above); the old key is still"
		       " needed for them: fix them (byokfs fsck) and run byokfs rekey again\n",
		       (unsigned long long)st.problems);
		code = EXIT_DAMAGED;
		goto out;
	}
	if ((code = finish(&v)) != EXIT_OK)
		goto out;
	printf("rekeyed volume %s: key epoch %u; %llu entries, %llu names, %llu headers, %llu symlinks,"
	       " %llu extended attributes moved%s\n",
	       v.volume_id_hex, v.desc.key_epoch, (unsigned long long)st.entries,
	       (unsigned long long)st.names, (unsigned long long)st.headers,
	       (unsigned long long)st.links, (unsigned long long)st.xattrs,
	       ro.data ? "; content re-encrypted under new data keys" : "");
	if (ro.data)
		printf("%llu files got new data keys\n", (unsigned long long)st.data_files);
out:
	vol_wipe(&v, VOL_LOCKED);
	vol_close(&v);
out_unlocked:
	if (lockfd >= 0)
		close(lockfd);
	return code;
}
