/* SPDX-License-Identifier: MIT */
/*
 * The mount's control socket: `byokfs revoke|unlock|status` talk to the
 * daemon over a UNIX socket. Protocol: the client sends one line of JSON,
 * {"cmd":"revoke"|"unlock"|"status"}, and reads one line of JSON back,
 * {"ok":true,...} or {"ok":false,"error":"..."}. Only the mount's owner
 * (the daemon's user) and root may use it (SO_PEERCRED); anyone else gets
 * {"ok":false,"error":"permission denied: ..."}.
 */
#ifndef BYOKFS_FS_CONTROL_H
#define BYOKFS_FS_CONTROL_H

#include <stddef.h>

struct control;

/* What the socket controls: filled by fs/mount.c. */
struct control_ops {
	void (*revoke)(void *ctx);
	int (*unlock)(void *ctx, char *err, size_t errlen);   /* 0 or a kms class */
	/* renders the status object (jansson json_t *) */
	void *(*status)(void *ctx);
	void *ctx;
};

/*
 * Creates and binds the socket for a canonical mount point (before the
 * daemon forks, so that a failure reaches the user). NULL with a reason in
 * err when it cannot.
 */
struct control *control_open(const char *canonical_mountpoint, const struct control_ops *ops,
			     char *err, size_t errlen);
/* Starts serving in a thread (after the fork). 0 or -errno. */
int control_run(struct control *c);
/* Stops serving (if running) and removes the socket file. */
void control_stop(struct control *c);

/*
 * Handles one request line (without the newline) from a peer with uid
 * `uid`; returns the malloc'd reply line (without newline). The daemon's
 * own uid is `owner`. Exposed for tests and fuzzing.
 */
char *control_handle(const struct control_ops *ops, unsigned owner, unsigned uid,
		     const char *line, size_t len);

#endif
