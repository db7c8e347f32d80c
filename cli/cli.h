/* SPDX-License-Identifier: MIT */
/*
 * The byokfs command: subcommands, exit codes and shared helpers.
 * Exit codes are API (listed in etc/byokfs.1); never renumber one.
 *
 * Adding a command: a cli/cmd-NAME.c with cmd_NAME(), an entry in the
 * table in cli/main.c, a test under tests/, a section in etc/byokfs.1.
 */
#ifndef BYOKFS_CLI_CLI_H
#define BYOKFS_CLI_CLI_H

#include <stddef.h>

#include "fs/vol.h"
#include "kms/kms.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_ERROR = 1,           /* anything not listed below */
	EXIT_USAGE = 2,           /* bad command line */
	EXIT_VOLUME = 3,          /* not a volume; descriptor missing, corrupt or tampered */
	EXIT_KEY_DENIED = 4,      /* wrong key, key missing, refused or revoked */
	EXIT_KEY_UNAVAILABLE = 5, /* key provider did not answer */
	EXIT_MOUNT = 6,           /* mount point unusable or FUSE mount failed */
	EXIT_EXISTS = 7,          /* target exists: init on a non-empty dir, keygen over a file */
	EXIT_NOT_MOUNTED = 8,     /* no byokfs mount answers at that mount point */
	EXIT_REFUSED = 9,         /* the mount's control socket refused us (not owner or root) */
};

int cmd_keygen(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_unlock(int argc, char **argv);
int cmd_status(int argc, char **argv);

/*
 * Sends {"cmd": cmd} to the mount at mountpoint and returns the reply object
 * in *reply (caller json_decref's it). Returns an exit code; on failure the
 * reason is printed.
 */
struct json_t;
int cli_control(const char *mountpoint, const char *cmd, struct json_t **reply);

/* Prints "byokfs: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Exit code for a provider failure class. */
int cli_kms_exit(enum kms_status s);

/*
 * Unlocks v: with keyspec (PROVIDER:ID) tries that key on every slot of the
 * same provider, otherwise each slot's own key in order. On success the
 * volume is unlocked, *key_out holds the key that worked (caller closes)
 * and *slot_out its slot index. Returns an exit code, with the reason
 * printed on stderr.
 */
int cli_unlock(struct vol *v, const char *keyspec, struct kms_key **key_out, unsigned *slot_out);

/* 1 if argv[i] is --help or -h. */
int cli_wants_help(int argc, char **argv);

#endif
