/* SPDX-License-Identifier: MIT */
/*
 * FUSE session set-up: options, capabilities (1 MiB requests, readdirplus,
 * atomic O_TRUNC), mount, daemonising, the multi-threaded loop, and
 * teardown. The writeback cache stays off: every write reaches the backing
 * store, encrypted, before it is acknowledged, so a revocation can never
 * strand acknowledged data in the kernel.
 */
#include "fs/mount.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/log.h"
#include "fs/ops_int.h"

#define MAX_REQUEST (1u << 20)

void fs_options_default(struct fs_options *o)
{
	memset(o, 0, sizeof(*o));
	o->entry_timeout = 1.0;
	o->attr_timeout = 1.0;
	o->max_threads = 16;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO;
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	conn->want &= ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	conn->max_write = MAX_REQUEST;
	conn->max_readahead = MAX_REQUEST;
}

/* Escapes ',' and '\' for a -o value. */
static void opt_escape(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	for (; *in && o + 2 < cap; in++) {
		if (*in == ',' || *in == '\\')
			out[o++] = '\\';
		out[o++] = *in;
	}
	out[o] = '\0';
}

static void raise_fd_limit(void)
{
	struct rlimit rl;
	/* one O_PATH descriptor per inode the kernel holds */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int fs_serve(struct vol *v, const char *mountpoint, const struct fs_options *o, char *err,
	     size_t errlen)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_lowlevel_ops ops;
	struct fuse_loop_config *cfg = NULL;
	struct fuse_session *se = NULL;
	struct fsctx *c;
	char opts[2 * PATH_MAX + 256], esc[2 * PATH_MAX];
	struct stat st;
	int r, mounted = 0;

	if (stat(mountpoint, &st) < 0) {
		snprintf(err, errlen, "cannot use mount point '%s': %s", mountpoint, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "mount point '%s' is not a directory", mountpoint);
		return -ENOTDIR;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->vol = v;
	c->entry_timeout = o->entry_timeout;
	c->attr_timeout = o->attr_timeout;
	c->chown_new = geteuid() == 0;
	if ((r = itable_init(&c->it, v->root_fd)) < 0) {
		snprintf(err, errlen, "cannot set up the inode table: %s", strerror(-r));
		free(c);
		return r;
	}

	/* libfuse allocates a fresh buffer per request: keep glibc from
	 * returning each one to the kernel (see PERF-NOTES) */
	mallopt(M_MMAP_THRESHOLD, 4 * MAX_REQUEST);
	mallopt(M_TRIM_THRESHOLD, 64 * MAX_REQUEST);
	raise_fd_limit();
	umask(0); /* the kernel already applied the caller's umask */

	memset(&ops, 0, sizeof(ops));
	ops.init = op_init;
	ops_entry_register(&ops);
	ops_file_register(&ops);
	ops_xattr_register(&ops);

	opt_escape(v->backing, esc, sizeof(esc));
	snprintf(opts, sizeof(opts), "default_permissions,fsname=byokfs:%s,subtype=byokfs%s%s", esc,
		 o->allow_other ? ",allow_other" : "", o->read_only ? ",ro" : "");
	if (fuse_opt_add_arg(&args, "byokfs") || fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, opts) || (o->debug && fuse_opt_add_arg(&args, "-d"))) {
		r = -ENOMEM;
		goto out;
	}
	se = fuse_session_new(&args, &ops, sizeof(ops), c);
	if (!se) {
		snprintf(err, errlen, "cannot start a FUSE session");
		r = -EIO;
		goto out;
	}
	c->se = se;
	if (fuse_set_signal_handlers(se) != 0) {
		snprintf(err, errlen, "cannot set signal handlers");
		r = -EIO;
		goto out;
	}
	if (fuse_session_mount(se, mountpoint) != 0) {
		snprintf(err, errlen, "cannot mount on '%s' (is /dev/fuse available and the mount point not in use?)",
			 mountpoint);
		r = -EIO;
		goto out_signals;
	}
	mounted = 1;
	if (!o->foreground && !o->debug) {
		log_use_syslog();
		if (fuse_daemonize(0) != 0) {
			r = -EIO;
			goto out_unmount;
		}
	}
	log_info("mounted '%s' on '%s'", v->backing, mountpoint);
	cfg = fuse_loop_cfg_create();
	if (!cfg) {
		r = -ENOMEM;
		goto out_unmount;
	}
	fuse_loop_cfg_set_clone_fd(cfg, 0);
	/* no idle limit: workers that exit and restart cost time, and a worker
	 * exiting under load crashed inside glibc's thread teardown here */
	fuse_loop_cfg_set_max_threads(cfg, o->max_threads);
	r = fuse_session_loop_mt(se, cfg);
	if (r > 0)
		r = 0; /* a signal ended the loop: a clean shutdown */
	else if (r < 0)
		log_err("FUSE loop ended with error: %s", strerror(-r));
	fuse_loop_cfg_destroy(cfg);
out_unmount:
	if (mounted)
		fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out:
	if (se)
		fuse_session_destroy(se);
	fuse_opt_free_args(&args);
	/* keys are wiped by the caller's vol_close(); the table holds none */
	itable_destroy(&c->it);
	free(c);
	return r;
}
