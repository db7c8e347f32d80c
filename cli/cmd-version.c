/* SPDX-License-Identifier: MIT */
/* byokfs version */
#include <fuse_lowlevel.h>
#include <sodium.h>
#include <stdio.h>

#include "cli/cli.h"
#include "crypto/params.h"

#ifndef BYOKFS_VERSION
#define BYOKFS_VERSION "unknown"
#endif

int cmd_version(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		printf("usage: byokfs version\n\nPrints the byokfs version, the on-disk format it writes and its libraries.\n");
		return EXIT_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "usage: byokfs version\n");
		return EXIT_USAGE;
	}
	printf("byokfs %s (format %d; libsodium %s, libfuse %d)\n", BYOKFS_VERSION,
	       BYOKFS_FORMAT_VERSION, sodium_version_string(), fuse_version());
	return EXIT_OK;
}
