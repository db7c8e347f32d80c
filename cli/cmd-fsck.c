/* SPDX-License-Identifier: MIT */
/*
 * byokfs fsck BACKING [--repair] [--key SPEC]: checks a volume without
 * mounting it (the walk is fs/fsck.c) and prints one line per finding and
 * a summary on stdout; progress goes to stderr.
 *
 * Exit: 0 clean (or everything found was repaired), 10 damage left, and
 * the usual codes when it could not run: 3 (descriptor missing, corrupt
 * or failing authentication), 4/5 (key denied/unavailable), 1 (anything
 * else, including entries it could not read when nothing was damaged).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fs/fsck.h"

static const char usage_text[] =
	"usage: byokfs fsck BACKING [--repair] [--key PROVIDER:ID]\n"
	"\n"
	"Checks the volume in BACKING without mounting it: the descriptor, every\n"
	"directory id, name, long-name side file, file header and block, symlink\n"
	"target and extended attribute. Prints one line per problem:\n"
	"  damaged PATH: [block N: ]WHAT (PLAINTEXT PATH)\n"
	"with PATH relative to BACKING, then a summary line. Exit status 0: clean,\n"
	"10: damaged, 3/4/5/1: could not run (see man byokfs).\n"
	"\n"
	"options:\n"
	"  --repair      fix what loses nothing that still reads: remove orphaned\n"
	"                long-name side files; end a file whose final block is torn,\n"
	"                cut or damaged at its last readable block. Refused while the\n"
	"                volume is mounted on this host\n"
	"  --key SPEC    unlock with this master key instead of the slots' key ids\n"
	"  -h, --help    this help\n";

struct out {
	struct cli_progress prog;
	int show_progress;
};

static void on_report(void *ctx, const struct fsck_finding *f)
{
	static const char *const kinds[] = {
		[FSCK_DAMAGED] = "damaged", [FSCK_ORPHAN] = "orphan", [FSCK_REPAIRED] = "repaired",
		[FSCK_UNCHECKED] = "unchecked", [FSCK_UNREPAIRED] = "unrepaired",
	};
	struct out *o = ctx;

	cli_progress_done(&o->prog);
	printf("%s %s: ", kinds[f->kind], f->path);
	if (f->block >= 0)
		printf("block %lld: ", (long long)f->block);
	fputs(f->what, stdout);
	if (f->plain)
		printf(" (%s)", f->plain);
	putchar('\n');
	fflush(stdout);
}

static void on_progress(void *ctx, const struct fsck_stats *st, uint64_t files_total,
			uint64_t bytes_total)
{
	struct out *o = ctx;

	cli_progress_update(&o->prog, st->files, files_total, st->bytes, bytes_total);
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int cmd_fsck(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"repair", no_argument, NULL, 'r'},
		{"key", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *keyspec = NULL;
	struct kms_key *key = NULL;
	struct fsck_stats st;
	struct out o = {0};
	struct vol v;
	char err[512], checked[256];
	unsigned slot;
	int opt, repair = 0, code, r, lockfd = -1, have_vol = 0;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			repair = 1;
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
	r = vol_open(&v, argv[optind], err, sizeof(err));
	if (r < 0) {
		cli_error("%s", err);
		code = r == -EBADMSG || r == -ENOENT || r == -ENOTSUP ? EXIT_VOLUME : EXIT_ERROR;
		goto out;
	}
	have_vol = 1;
	/* repairs must not meet a keyslot/rotate/rekey half way */
	if (repair && (code = cli_lock_volume(v.backing, &lockfd)) != EXIT_OK)
		goto out;
	if (repair && cli_mounted_from(v.backing)) {
		cli_error("refusing to repair '%s' while it is mounted: unmount it first (fsck without --repair only reads)",
			  v.backing);
		code = EXIT_ERROR;
		goto out;
	}
	if ((code = cli_unlock(&v, keyspec, &key, &slot)) != EXIT_OK)
		goto out;
	printf("checking volume %s in '%s': %s, %zu-byte blocks, %u key %s\n", v.volume_id_hex,
	       v.backing, cipher_name(v.cipher), v.block_size, v.desc.nslots,
	       plural(v.desc.nslots, "slot", "slots"));
	fflush(stdout);

	cli_progress_init(&o.prog, repair ? "fsck --repair" : "fsck");
	struct fsck_opts fo = {.repair = repair, .report = on_report, .progress = on_progress,
			       .ctx = &o};
	r = fsck_run(&v, &fo, &st);
	cli_progress_done(&o.prog);
	if (r < 0) {
		cli_error("cannot check '%s': %s", v.backing, strerror(-r));
		code = EXIT_ERROR;
		goto out;
	}

	snprintf(checked, sizeof(checked),
		 "checked %llu %s, %llu %s (%llu %s), %llu %s, %llu %s",
		 (unsigned long long)st.dirs, plural(st.dirs, "directory", "directories"),
		 (unsigned long long)st.files, plural(st.files, "file", "files"),
		 (unsigned long long)st.blocks, plural(st.blocks, "block", "blocks"),
		 (unsigned long long)st.symlinks, plural(st.symlinks, "symlink", "symlinks"),
		 (unsigned long long)st.others, plural(st.others, "other", "others"));
	uint64_t problems = st.damaged + st.orphans, left = problems - st.repaired;
	if (left > 0) {
		printf("damaged: %llu %s", (unsigned long long)problems,
		       plural(problems, "problem", "problems"));
		if (st.damaged_files)
			printf(" in %llu %s", (unsigned long long)st.damaged_files,
			       plural(st.damaged_files, "file", "files"));
		if (st.repaired)
			printf(", %llu repaired", (unsigned long long)st.repaired);
		if (st.unchecked)
			printf(", %llu not checked", (unsigned long long)st.unchecked);
		printf("; %s\n", checked);
		code = EXIT_DAMAGED;
	} else if (st.unchecked > 0) {
		printf("incomplete: %llu %s could not be checked", (unsigned long long)st.unchecked,
		       plural(st.unchecked, "entry", "entries"));
		if (problems)
			printf(", all %llu %s repaired", (unsigned long long)problems,
			       plural(problems, "problem", "problems"));
		printf("; %s\n", checked);
		code = EXIT_ERROR;
	} else if (problems > 0) {
		printf("repaired: %llu %s, none left; %s\n", (unsigned long long)problems,
		       plural(problems, "problem", "problems"), checked);
		code = EXIT_OK;
	} else {
		printf("clean: %s\n", checked);
		code = EXIT_OK;
	}
out:
	kms_close(key);
	if (have_vol) {
		vol_wipe(&v, VOL_LOCKED);
		vol_close(&v);
	}
	if (lockfd >= 0)
		close(lockfd);
	return code;
}
