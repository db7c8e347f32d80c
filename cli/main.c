/* SPDX-License-Identifier: MIT */
/* byokfs: the command table and dispatcher (wireguard-tools style). */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "crypto/secmem.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} commands[] = {
	{"keygen", cmd_keygen, "create a local master key file"},
	{"init", cmd_init, "make a directory an encrypted volume"},
	{"mount", cmd_mount, "mount a volume"},
	{"revoke", cmd_revoke, "cut a mount off now: wipe its keys"},
	{"unlock", cmd_unlock, "ask the key provider again after a revocation"},
	{"status", cmd_status, "show a mount's state, lease and counters"},
	{"rekey", cmd_rekey, "replace the volume key (offline)"},
	{"keyslot", cmd_keyslot, "list, add or remove the master keys that open a volume"},
	{"rotate", cmd_rotate, "replace a key slot's master key (no file is touched)"},
	{"fsck", cmd_fsck, "check (and repair) a volume without mounting it"},
	{"version", cmd_version, "print the version"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: byokfs COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
	fprintf(f, "  %-10s %s\n", "help", "show this help");
	fprintf(f, "\nbyokfs COMMAND --help shows a command's options; man byokfs lists exit codes.\n");
}

int main(int argc, char **argv)
{
	int r;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv + 1);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		/* revoke: on a machine loaded by the readers it cuts off, stop
		 * queueing behind them before doing anything else (allowed for
		 * root and CAP_SYS_NICE; otherwise no change) */
		if (commands[i].fn == cmd_revoke && setpriority(PRIO_PROCESS, 0, -20) < 0) {
			/* not permitted: run at the normal priority */
		}
		if (secmem_init() < 0) {
			cli_error("cannot initialise libsodium");
			return EXIT_ERROR;
		}
		r = commands[i].fn(argc - 1, argv + 1);
		return r;
	}
	cli_error("unknown command '%s'", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
