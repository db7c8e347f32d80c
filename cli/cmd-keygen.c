/* SPDX-License-Identifier: MIT */
/* byokfs keygen PATH: a new local master key file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "kms/local.h"

static const char usage_text[] =
	"usage: byokfs keygen PATH\n"
	"\n"
	"Creates a local master key: PATH gets 32 random bytes, mode 0600. An existing\n"
	"file is never overwritten. Use it with: byokfs init --key local:PATH BACKING\n"
	"Keep a copy somewhere safe: without it (or another key slot) the data is lost.\n";

int cmd_keygen(int argc, char **argv)
{
	struct kms_err err;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (access(argv[1], F_OK) == 0 || errno == ELOOP) {
		cli_error("'%s' already exists: not overwriting a key", argv[1]);
		return EXIT_EXISTS;
	}
	if (kms_local_keygen(argv[1], &err) != KMS_OK) {
		cli_error("%s", err.msg);
		return strstr(err.msg, "File exists") ? EXIT_EXISTS : EXIT_ERROR;
	}
	fprintf(stderr, "byokfs: wrote a new master key to '%s' (mode 0600)\n", argv[1]);
	return EXIT_OK;
}
