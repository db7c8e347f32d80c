/* SPDX-License-Identifier: MIT */
/* FUSE_HANDLE_KILLPRIV_V2 between libfuse 3.14 and /dev/fuse: see killpriv.h. */
#include "fs/killpriv.h"

#include <errno.h>
#include <pthread.h>
#include <linux/fuse.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fs/log.h"
#include "fs/ops_int.h"

static struct fsctx *kp_ctx;
static atomic_int kp_offered;           /* the kernel's INIT had the flag */
static atomic_uint_fast64_t kp_init_id; /* unique of that INIT request */
static atomic_int kp_active;            /* our INIT reply carried it */
static pthread_mutex_t kp_mode_lock = PTHREAD_MUTEX_INITIALIZER;

void killpriv_mode_lock(void)
{
	pthread_mutex_lock(&kp_mode_lock);
}

void killpriv_mode_unlock(void)
{
	pthread_mutex_unlock(&kp_mode_lock);
}

int killpriv_active(void)
{
	return atomic_load(&kp_active);
}

void killpriv_clear(uint64_t nodeid)
{
	struct inode *in = itable_get(&kp_ctx->it, nodeid);
	char proc[64];
	struct stat st;

	if (!in)
		return;
	procpath(proc, in->fd);
	killpriv_mode_lock();
	if (stat(proc, &st) < 0 || !S_ISREG(st.st_mode)) {
		killpriv_mode_unlock();
		return;
	}
	mode_t old = st.st_mode & 07777, mode = old & ~(mode_t)S_ISUID;
	if ((old & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		mode &= ~(mode_t)S_ISGID;
	int r = mode == old ? 0 : chmod(proc, mode);
	int err = errno;
	killpriv_mode_unlock();
	if (mode == old)
		return;
	if (r < 0)
		log_err("cannot clear the set-user/group-ID bits of backing inode %llu: %s",
			(unsigned long long)in->bino, strerror(err));
	/* the kernel's cached mode still has them */
	fuse_lowlevel_notify_inval_inode(kp_ctx->se, nodeid, -1, 0);
}

/* Clears set-ID bits if the request's 32-bit flag word at `off` has `flag`. */
static void kill_if_flagged(uint64_t nodeid, const uint8_t *arg, size_t alen, size_t off,
			    uint32_t flag)
{
	uint32_t v;

	if (!atomic_load(&kp_active) || alen < off + sizeof(v))
		return;
	memcpy(&v, arg + off, sizeof(v));
	if (v & flag)
		killpriv_clear(nodeid);
}

/* Looks at a request before libfuse dispatches it. */
static void inspect(const uint8_t *buf, size_t n)
{
	struct fuse_in_header h;
	const uint8_t *arg = buf + sizeof(h);
	size_t alen;

	memcpy(&h, buf, sizeof(h));
	if (h.len > n)
		return;
	alen = h.len - sizeof(h);
	switch (h.opcode) {
	case FUSE_INIT: {
		struct fuse_init_in in;
		if (alen < offsetof(struct fuse_init_in, flags) + sizeof(in.flags))
			return;
		memcpy(&in.flags, arg + offsetof(struct fuse_init_in, flags), sizeof(in.flags));
		if (in.flags & FUSE_HANDLE_KILLPRIV_V2) {
			atomic_store(&kp_init_id, h.unique);
			atomic_store(&kp_offered, 1);
		}
		return;
	}
	case FUSE_WRITE:
		kill_if_flagged(h.nodeid, arg, alen, offsetof(struct fuse_write_in, write_flags),
				FUSE_WRITE_KILL_SUIDGID);
		return;
	case FUSE_SETATTR:
		kill_if_flagged(h.nodeid, arg, alen, offsetof(struct fuse_setattr_in, valid),
				FATTR_KILL_SUIDGID);
		return;
	case FUSE_OPEN:
		kill_if_flagged(h.nodeid, arg, alen, offsetof(struct fuse_open_in, open_flags),
				FUSE_OPEN_KILL_SUIDGID);
		return;
	default:
		return;
	}
}

static ssize_t kp_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n;

	(void)userdata;
	n = read(fd, buf, len);
	if (n >= (ssize_t)sizeof(struct fuse_in_header)) {
		int saved = errno;
		inspect(buf, (size_t)n);
		errno = saved;
	}
	return n;
}

static ssize_t kp_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	/* the INIT reply: header, then fuse_init_out (libfuse's own stack copy) */
	if (atomic_load(&kp_offered) && !atomic_load(&kp_active) && count >= 2 &&
	    iov[0].iov_len == sizeof(struct fuse_out_header) &&
	    iov[1].iov_len >= offsetof(struct fuse_init_out, flags) + sizeof(uint32_t)) {
		struct fuse_out_header oh;
		memcpy(&oh, iov[0].iov_base, sizeof(oh));
		if (oh.unique == atomic_load(&kp_init_id) && oh.error == 0) {
			uint8_t *p = (uint8_t *)iov[1].iov_base + offsetof(struct fuse_init_out, flags);
			uint32_t flags;
			memcpy(&flags, p, sizeof(flags));
			flags |= FUSE_HANDLE_KILLPRIV_V2;
			memcpy(p, &flags, sizeof(flags));
			atomic_store(&kp_active, 1);
		}
	}
	return writev(fd, iov, count);
}

int killpriv_install(struct fuse_session *se, struct fsctx *c)
{
	static const struct fuse_custom_io io = {.read = kp_read, .writev = kp_writev};
	int fd = fuse_session_fd(se);

	if (fd < 0)
		return -EBADF;
	kp_ctx = c;
	/* the same descriptor: fuse_session_unmount() and destroy close it once */
	return fuse_session_custom_io(se, &io, fd);
}
