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
#include <stdint.h>

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
	EXIT_DAMAGED = 10,        /* fsck found damage (and did not repair all of it) */
};

int cmd_keygen(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_unlock(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_rekey(int argc, char **argv);
int cmd_keyslot(int argc, char **argv);
int cmd_rotate(int argc, char **argv);
int cmd_fsck(int argc, char **argv);

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

/*
 * Unlocks v through slot `slot` only: with its own key id, or with keyspec
 * (which must be of the slot's provider). Returns an exit code as
 * cli_unlock; *key_out holds the key (caller closes).
 */
int cli_unlock_slot(struct vol *v, unsigned slot, const char *keyspec, struct kms_key **key_out);

/*
 * Wraps the volume key of the unlocked v under key into blob (*bloblen: in
 * cap, out length) and checks that the provider unwraps it back to the
 * same key: a slot that would not open the volume is never stored.
 * Returns an exit code, the reason printed.
 */
int cli_wrap_vkey(struct vol *v, struct kms_key *key, uint8_t *blob, size_t *bloblen);

/*
 * Takes the volume's update lock, an exclusive flock(2) on the backing
 * directory, which every command that rewrites the descriptor or repairs
 * files holds from reading the descriptor to storing it (keyslot, rotate,
 * fsck --repair, rekey), so two of them never interleave. Waits (saying so
 * on stderr) while another holds it. Returns an exit code (the reason
 * printed) and, on success, the descriptor to close to release it in *fd.
 */
int cli_lock_volume(const char *backing, int *fd);

/*
 * 1 if a byokfs mount of the backing directory backing_real (a realpath)
 * is visible on this host (/proc/self/mountinfo, fsname byokfs:PATH).
 * Mounts on other hosts sharing the store cannot be seen.
 */
int cli_mounted_from(const char *backing_real);

/*
 * Progress of long work on stderr: nothing for the first 2 seconds; then a
 * bar redrawn at most every 0.2 s when stderr is a terminal, otherwise a
 * plain line every 5 s. BYOKFS_PROGRESS_EVERY=SEC changes the line
 * interval (and shortens the delay to it).
 */
struct cli_progress {
	const char *what;
	double start, last, every, delay;
	int tty, drawn;
};
void cli_progress_init(struct cli_progress *p, const char *what);
void cli_progress_update(struct cli_progress *p, uint64_t done, uint64_t total, uint64_t done_bytes,
			 uint64_t total_bytes);
/* Clears the bar (call before printing results). */
void cli_progress_done(struct cli_progress *p);

/* 1 if argv[i] is --help or -h. */
int cli_wants_help(int argc, char **argv);

#endif
