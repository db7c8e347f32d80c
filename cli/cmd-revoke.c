/* SPDX-License-Identifier: MIT */
/* byokfs revoke MOUNTPOINT: wipe every key of a mount now. */
#include <jansson.h>
#include <stdio.h>

#include "cli/cli.h"

static const char usage_text[] =
	"usage: byokfs revoke MOUNTPOINT\n"
	"\n"
	"Cuts the mount off at once: the volume key and every data key are wiped, the\n"
	"kernel's caches of the mount are dropped, and from the moment this command\n"
	"returns every open, read, write, readdir, lookup and mmap page fault on the\n"
	"mount fails with EKEYREVOKED, also through files opened before. Writes already\n"
	"acknowledged are on disk. fusermount3 -u still works; byokfs unlock undoes it.\n"
	"Only the mount's owner and root may revoke.\n";

int cmd_revoke(int argc, char **argv)
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
	/* main() raised our priority before anything else (when allowed) */
	code = cli_control(argv[1], "revoke", &reply);
	if (code == EXIT_OK)
		fprintf(stderr, "byokfs: '%s' revoked: keys wiped\n", argv[1]);
	json_decref(reply);
	return code;
}
