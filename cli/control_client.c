/* SPDX-License-Identifier: MIT */
/* The client side of the mount's control socket (fs/control.h). */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fs/ctlpath.h"

#define REPLY_MAX 65536
#define TIMEOUT_MS 30000 /* unlock waits for the provider */

int cli_control(const char *mountpoint, const char *cmd, json_t **reply)
{
	char canon[PATH_MAX], path[PATH_MAX], buf[REPLY_MAX + 1], req[64];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	json_error_t jerr;
	size_t got = 0;
	int fd, r;

	*reply = NULL;
	if ((r = ctl_canonical(mountpoint, canon)) < 0) {
		cli_error("no byokfs mount at '%s': %s", mountpoint, strerror(-r));
		return EXIT_NOT_MOUNTED;
	}
	if (ctl_find(canon, path) < 0 || strlen(path) >= sizeof(sa.sun_path)) {
		cli_error("no byokfs mount at '%s' (no control socket for it)", canon);
		return EXIT_NOT_MOUNTED;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (e == EACCES || e == EPERM) {
			cli_error("permission denied by the control socket of '%s': only its owner and root may use it",
				  canon);
			return EXIT_REFUSED;
		}
		cli_error("the byokfs mount at '%s' does not answer: %s", canon, strerror(e));
		return EXIT_NOT_MOUNTED;
	}
	snprintf(req, sizeof(req), "{\"cmd\":\"%s\"}\n", cmd);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		cli_error("the byokfs mount at '%s' does not answer: %s", canon, strerror(errno));
		close(fd);
		return EXIT_NOT_MOUNTED;
	}
	while (got < REPLY_MAX) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, TIMEOUT_MS) <= 0)
			break;
		ssize_t n = read(fd, buf + got, REPLY_MAX - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got))
			break;
	}
	close(fd);
	*reply = json_loadb(buf, got, 0, &jerr);
	if (!*reply || !json_is_object(*reply)) {
		cli_error("no valid answer from the byokfs mount at '%s'", canon);
		json_decref(*reply);
		*reply = NULL;
		return EXIT_NOT_MOUNTED;
	}
	if (!json_is_true(json_object_get(*reply, "ok"))) {
		const char *e = json_string_value(json_object_get(*reply, "error"));
		const char *cls = json_string_value(json_object_get(*reply, "class"));
		cli_error("%s: %s", canon, e ? e : "failed");
		if (e && !strncmp(e, "permission denied", 17))
			return EXIT_REFUSED;
		if (cls && !strcmp(cls, kms_strerror(KMS_DENIED)))
			return EXIT_KEY_DENIED;
		if (cls && !strcmp(cls, kms_strerror(KMS_TRANSIENT)))
			return EXIT_KEY_UNAVAILABLE;
		return EXIT_ERROR;
	}
	return EXIT_OK;
}
