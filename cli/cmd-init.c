/* SPDX-License-Identifier: MIT */
/* byokfs init --key SPEC BACKING: make an empty directory a volume. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "crypto/blk.h"
#include "crypto/kdf.h"
#include "crypto/secmem.h"
#include "crypto/vdesc.h"
#include "fs/names.h"
#include "kms/config.h"

static const char usage_text[] =
	"usage: byokfs init --key PROVIDER:ID [options] BACKING\n"
	"\n"
	"Makes BACKING (an empty or missing directory) an encrypted volume whose volume\n"
	"key is wrapped by the master key PROVIDER:ID, e.g. local:/root/.byokfs/master.key\n"
	"(made by byokfs keygen).\n"
	"\n"
	"options:\n"
	"  --key SPEC          master key (required)\n"
	"  --slot NAME         name of the first key slot (default: primary)\n"
	"  --cipher NAME       aes-256-gcm (default with AES-NI) or xchacha20-poly1305\n"
	"  --block-size N      plaintext bytes per block: 4096 (default) to 65536, a power of 2\n"
	"  --longname-max N    encrypted names longer than N (64..255, default 255) are\n"
	"                      stored hashed, for stores with short name limits\n"
	"  -h, --help          this help\n";

static int dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int empty = 1;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

int cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"key", required_argument, NULL, 'k'},
		{"slot", required_argument, NULL, 's'},
		{"cipher", required_argument, NULL, 'c'},
		{"block-size", required_argument, NULL, 'b'},
		{"longname-max", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *keyspec = NULL, *slot = "primary", *backing;
	enum byokfs_cipher cipher = cipher_default();
	unsigned long block = 4096, longmax = 255;
	struct kms_key *key = NULL;
	struct kms_err kerr;
	struct vdesc d;
	struct vkeys *keys = NULL;
	uint8_t blob[KMS_BLOB_MAX], dirid[BYOKFS_DIR_ID_BYTES];
	size_t bloblen = sizeof(blob);
	char hex[2 * BYOKFS_VOLUME_ID_BYTES + 1], *end;
	int opt, code = EXIT_ERROR, r, created_dir = 0, rootfd = -1;
	struct stat st;

	memset(&d, 0, sizeof(d));
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			keyspec = optarg;
			break;
		case 's':
			slot = optarg;
			break;
		case 'c':
			cipher = cipher_from_name(optarg);
			if (cipher == CIPHER_NONE) {
				cli_error("unknown cipher '%s' (aes-256-gcm or xchacha20-poly1305)", optarg);
				return EXIT_USAGE;
			}
			if (!cipher_available(cipher)) {
				cli_error("this CPU cannot run %s (no AES-NI)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'b':
			block = strtoul(optarg, &end, 10);
			if (*end || block < 4096 || block > 65536 || (block & (block - 1))) {
				cli_error("bad --block-size '%s': a power of 2 from 4096 to 65536", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'l':
			longmax = strtoul(optarg, &end, 10);
			if (*end || longmax < 64 || longmax > 255) {
				cli_error("bad --longname-max '%s': 64 to 255", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || !keyspec) {
		if (!keyspec)
			cli_error("init needs --key PROVIDER:ID");
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	backing = argv[optind];
	{
		char cerr[512];
		/* a bad configuration file is a usage error, said before anything else */
		if (config_load(cerr, sizeof(cerr)) < 0) {
			cli_error("byokfs.conf: %s", cerr);
			return EXIT_USAGE;
		}
	}

	if (stat(backing, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			cli_error("'%s' exists and is not a directory", backing);
			return EXIT_EXISTS;
		}
		r = dir_empty(backing);
		if (r < 0) {
			cli_error("cannot read '%s': %s", backing, strerror(-r));
			return EXIT_ERROR;
		}
		if (!r) {
			cli_error("'%s' is not empty: byokfs init needs an empty or new directory", backing);
			return EXIT_EXISTS;
		}
	} else if (errno == ENOENT) {
		if (mkdir(backing, 0700) < 0) {
			cli_error("cannot create '%s': %s", backing, strerror(errno));
			return EXIT_ERROR;
		}
		created_dir = 1;
	} else {
		cli_error("cannot use '%s': %s", backing, strerror(errno));
		return EXIT_ERROR;
	}
	if (access(backing, W_OK) < 0) {
		cli_error("cannot write to '%s': %s", backing, strerror(errno));
		code = EXIT_ERROR;
		goto fail;
	}

	if (kms_open(keyspec, &key, &kerr) != KMS_OK) {
		cli_error("%s", kerr.msg);
		code = cli_kms_exit(kerr.status);
		goto fail;
	}
	keys = secmem_alloc(sizeof(*keys));
	if (!keys) {
		cli_error("out of secure memory");
		goto fail;
	}
	d.format = BYOKFS_FORMAT_VERSION;
	randombytes_buf(d.id, sizeof(d.id));
	d.cipher = cipher;
	d.block_shift = (unsigned)__builtin_ctzl(block);
	d.longname_max = (unsigned)longmax;
	d.key_epoch = 0;
	time_t now = time(NULL);
	strftime(d.created, sizeof(d.created), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	vdesc_id_hex(&d, hex);

	randombytes_buf(keys->volume, BYOKFS_KEY_BYTES);
	vkeys_derive(keys, keys->volume);
	if (kms_wrap(key, hex, keys->volume, blob, &bloblen, &kerr) != KMS_OK) {
		cli_error("%s", kerr.msg);
		code = cli_kms_exit(kerr.status);
		goto fail;
	}
	r = vdesc_add_slot(&d, slot, kms_provider_name(key), kms_key_id(key), blob, bloblen);
	if (r < 0) {
		cli_error(r == -EINVAL ? "bad slot name '%s' or key id (letters, digits, '_', '.', '-')"
				       : "cannot add key slot '%s'", slot);
		code = EXIT_USAGE;
		goto fail;
	}
	vdesc_seal(&d, keys->desc_mac);

	/* the root directory id first: the descriptor is what makes a volume */
	rootfd = open(backing, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || (r = dirid_create(rootfd, dirid)) < 0) {
		cli_error("cannot write to '%s': %s", backing, strerror(rootfd < 0 ? errno : -r));
		goto fail;
	}
	if ((r = vdesc_store(&d, backing)) < 0) {
		cli_error("cannot write the volume descriptor in '%s': %s", backing, strerror(-r));
		unlinkat(rootfd, DIRID_FILE, 0);
		goto fail;
	}
	printf("initialised byokfs volume %s in '%s'\n", hex, backing);
	printf("  cipher %s, block size %lu, key slot '%s': %s:%s\n", cipher_name(cipher), block,
	       slot, kms_provider_name(key), kms_key_id(key));
	code = EXIT_OK;
	goto out;
fail:
	if (created_dir)
		rmdir(backing);
out:
	if (rootfd >= 0)
		close(rootfd);
	if (keys)
		secmem_free(keys);
	sodium_memzero(blob, sizeof(blob));
	kms_close(key);
	vdesc_release(&d);
	return code;
}
