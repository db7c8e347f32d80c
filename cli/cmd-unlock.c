/* SPDX-License-Identifier: MIT */
/* byokfs unlock MOUNTPOINT: ask the key provider again after a revocation. */
#include <jansson.h>
#include <stdio.h>

#include "cli/cli.h"

static const char usage_text[] =
	"usage: byokfs unlock MOUNTPOINT\n"
	"\n"
	"Asks the key provider to unwrap the volume key again. If it does, the mount\n"
	"works again and renews its lease; if the provider still refuses (exit 4) or\n"
	"does not answer (exit 5), the mount stays locked. Only the mount's owner and\n"
	"root may unlock.\n";

int cmd_unlock(int argc, char **argv)
{
	json_t *reply;
	int code;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	code = cli_control(argv[1], "unlock", &reply);
	if (code == EXIT_OK)
		fprintf(stderr, "byokfs: '%s' unlocked\n", argv[1]);
	json_decref(reply);
	return code;
}
