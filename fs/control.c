/* SPDX-License-Identifier: MIT */
/*
 * Control socket server (see control.h). One thread accepts; each
 * connection is served by a short-lived thread, so a slow `unlock` (a
 * provider call) never delays a `revoke`. Requests are parsed with
 * jansson and limited to 4 KiB.
 */
#include "fs/control.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fs/ctlpath.h"
#include "fs/log.h"
#include "kms/kms.h"

#define REQ_MAX 4096

struct control {
	struct control_ops ops;
	int fd;
	int stop_pipe[2];
	char path[PATH_MAX];
	pthread_t thread;
	unsigned owner;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int active;        /* protected by lock: connections being served */
	int running;
	dev_t sock_dev;    /* the socket file we made, so we never remove a successor's */
	ino_t sock_ino;
};

static char *reply_error(const char *msg)
{
	json_t *o = json_pack("{s:b, s:s}", "ok", 0, "error", msg);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

char *control_handle(const struct control_ops *ops, unsigned owner, unsigned uid,
		     const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req, *out = NULL;
	const char *cmd = NULL;
	char *s, err[KMS_MSG_MAX + 64];

	if (uid != 0 && uid != owner) {
		snprintf(err, sizeof(err),
			 "permission denied: only uid %u (the mount's owner) and root may control this mount",
			 owner);
		return reply_error(err);
	}
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req || json_unpack(req, "{s:s}", "cmd", &cmd) != 0) {
		json_decref(req);
		return reply_error("bad request: expected {\"cmd\":\"revoke|unlock|status\"}");
	}
	if (!strcmp(cmd, "revoke")) {
		ops->revoke(ops->ctx);
		out = json_pack("{s:b, s:s}", "ok", 1, "state", "revoked");
	} else if (!strcmp(cmd, "unlock")) {
		int r = ops->unlock(ops->ctx, err, sizeof(err));
		if (r == 0)
			out = json_pack("{s:b, s:s}", "ok", 1, "state", "unlocked");
		else
			out = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", err, "class",
					kms_strerror((enum kms_status)r));
	} else if (!strcmp(cmd, "status")) {
		json_t *st = ops->status(ops->ctx);
		out = st ? json_pack("{s:b, s:o}", "ok", 1, "status", st) : NULL;
	} else {
		json_decref(req);
		return reply_error("unknown command");
	}
	json_decref(req);
	if (!out)
		return reply_error("out of memory");
	s = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	return s;
}

struct conn {
	struct control *c;
	int fd;
};

static void *conn_main(void *arg)
{
	struct conn *cn = arg;
	char buf[REQ_MAX + 1];
	size_t got = 0;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	char *reply;

	if (getsockopt(cn->fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0)
		goto out;
	while (got < REQ_MAX) {
		struct pollfd p = {.fd = cn->fd, .events = POLLIN};
		if (poll(&p, 1, 5000) <= 0)
			goto out; /* a client that says nothing for 5 s is dropped */
		ssize_t n = read(cn->fd, buf + got, REQ_MAX - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got))
			break;
	}
	char *nl = memchr(buf, '\n', got);
	if (nl)
		got = (size_t)(nl - buf);
	reply = control_handle(&cn->c->ops, cn->c->owner, cred.uid, buf, got);
	if (reply) {
		size_t len = strlen(reply), off = 0;
		reply[len] = '\0';
		while (off < len) {
			ssize_t w = write(cn->fd, reply + off, len - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		if (write(cn->fd, "\n", 1) < 0)
			log_debug("control client went away");
		free(reply);
	}
out:
	close(cn->fd);
	pthread_mutex_lock(&cn->c->lock);
	if (--cn->c->active == 0)
		pthread_cond_broadcast(&cn->c->idle);
	pthread_mutex_unlock(&cn->c->lock);
	free(cn);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct control *c = arg;

	/* a revocation must not wait behind the readers it cuts off: run the
	 * control threads (they inherit this) at the highest normal priority
	 * when allowed (root, CAP_SYS_NICE); otherwise as we are */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), -20) < 0)
		log_debug("control thread keeps its priority: %s", strerror(errno));
	pthread_setname_np(pthread_self(), "byokfs-control"); /* as ps -L shows it; named once set */

	for (;;) {
		struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
				      {.fd = c->stop_pipe[0], .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		struct conn *cn = malloc(sizeof(*cn));
		pthread_t t;
		pthread_attr_t attr;
		if (!cn) {
			close(fd);
			continue;
		}
		cn->c = c;
		cn->fd = fd;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_mutex_lock(&c->lock);
		c->active++;
		pthread_mutex_unlock(&c->lock);
		if (pthread_create(&t, &attr, conn_main, cn) != 0) {
			close(fd);
			free(cn);
			pthread_mutex_lock(&c->lock);
			c->active--;
			pthread_mutex_unlock(&c->lock);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

/* Creates dir (mode 0755) or checks that an existing one is safe to use. */
static int prepare_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create control directory '%s': %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022)) {
		snprintf(err, errlen,
			 "control directory '%s' is not a directory owned by uid %u and writable only by it",
			 dir, (unsigned)geteuid());
		return -1;
	}
	return 0;
}

struct control *control_open(const char *canonical, const struct control_ops *ops, char *err,
			     size_t errlen)
{
	struct control *c = calloc(1, sizeof(*c));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[PATH_MAX], name[64];

	if (!c)
		return NULL;
	c->ops = *ops;
	c->owner = (unsigned)geteuid();
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->idle, NULL);
	c->fd = -1;
	c->stop_pipe[0] = c->stop_pipe[1] = -1;
	ctl_own_dir(dir);
	ctl_sock_name(canonical, name);
	if (prepare_dir(dir, err, errlen) < 0)
		goto fail;
	if (snprintf(c->path, sizeof(c->path), "%s/%s", dir, name) >= (int)sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path too long: '%s/%s'", dir, name);
		goto fail;
	}
	strcpy(sa.sun_path, c->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail_errno;
	/* a socket that answers belongs to a mount that is still there, or to
	 * a daemon still winding down after its unmount: only the first is a
	 * conflict; a stale socket of a mount that died is ours to replace */
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && ctl_is_mounted(canonical)) {
		snprintf(err, errlen, "'%s' is already a byokfs mount", canonical);
		goto fail;
	}
	close(c->fd);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail_errno;
	unlink(c->path);
	/* anyone may connect and be refused with a reason; SO_PEERCRED decides */
	mode_t old = umask(0);
	int r = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || chmod(c->path, 0666) < 0 || listen(c->fd, 16) < 0)
		goto fail_errno;
	struct stat st;
	if (lstat(c->path, &st) < 0)
		goto fail_errno;
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	if (pipe2(c->stop_pipe, O_CLOEXEC) < 0)
		goto fail_errno;
	return c;
fail_errno:
	snprintf(err, errlen, "cannot create control socket '%s': %s", c->path, strerror(errno));
fail:
	if (c->fd >= 0)
		close(c->fd);
	if (c->stop_pipe[0] >= 0) {
		close(c->stop_pipe[0]);
		close(c->stop_pipe[1]);
	}
	free(c);
	return NULL;
}

int control_run(struct control *c)
{
	int r = pthread_create(&c->thread, NULL, accept_main, c);
	if (r == 0)
		c->running = 1;
	return -r;
}

void control_stop(struct control *c)
{
	if (!c)
		return;
	if (c->running) {
		if (write(c->stop_pipe[1], "x", 1) < 0)
			log_warn("cannot stop the control thread: %s", strerror(errno));
		pthread_join(c->thread, NULL);
	}
	/* connections still being served use c->ops: wait for them */
	pthread_mutex_lock(&c->lock);
	while (c->active > 0)
		pthread_cond_wait(&c->idle, &c->lock);
	pthread_mutex_unlock(&c->lock);
	close(c->fd);
	struct stat st;
	if (lstat(c->path, &st) == 0 && st.st_dev == c->sock_dev && st.st_ino == c->sock_ino)
		unlink(c->path);
	close(c->stop_pipe[0]);
	close(c->stop_pipe[1]);
	free(c);
}
