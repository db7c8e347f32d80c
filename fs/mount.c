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
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <time.h>

#include "fs/control.h"
#include "fs/ctlpath.h"
#include "fs/lease.h"
#include "fs/log.h"
#include "fs/ops_int.h"
#include "fs/killpriv.h"
#include "fs/par.h"
#include "fs/prune.h"

#define MAX_REQUEST (1u << 20)

void fs_options_default(struct fs_options *o)
{
	memset(o, 0, sizeof(*o));
	o->entry_timeout = 1.0;
	o->attr_timeout = 1.0;
	o->max_threads = 16;
	o->lease = 5.0;
	o->readahead_kb = 1024;
	o->max_inodes = 65536;
	o->crypto_threads = -1;
}

/* ---- revocation: what a wipe does to the kernel's caches ---- */

static void inval_entry(void *ctx, uint64_t parent, const char *name)
{
	struct fsctx *c = ctx;
	fuse_lowlevel_notify_inval_entry(c->se, parent, name, strlen(name));
}

/*
 * After the keys are wiped: drop every cached page and attribute of every
 * inode (mapped pages too, so the next touch faults into a read that fails)
 * and every dentry whose name we know. Runs before revoke returns.
 */
static void invalidate_all(void *ctx, enum vol_state why)
{
	struct fsctx *c = ctx;
	size_t max = itable_count(&c->it) + 1, n;
	uint64_t *ids = malloc(max * sizeof(*ids));

	(void)why;
	if (ids) {
		n = itable_ids(&c->it, ids, max);
		for (size_t i = 0; i < n; i++)
			fuse_lowlevel_notify_inval_inode(c->se, ids[i], 0, 0);
		free(ids);
	}
	itable_drop_names(&c->it, inval_entry, c);
}

/* ---- the control socket's view of the mount ---- */

static void ctl_revoke(void *ctx)
{
	struct fsctx *c = ctx;
	if (c->lease)
		lease_revoke(c->lease);
}

static int ctl_unlock(void *ctx, char *err, size_t errlen)
{
	struct fsctx *c = ctx;
	if (!c->lease) {
		snprintf(err, errlen, "this mount has no lease");
		return KMS_INVALID;
	}
	return lease_unlock(c->lease, err, errlen);
}

static void iso_time(double t, char out[32])
{
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void *ctl_status(void *ctx)
{
	struct fsctx *c = ctx;
	struct lease_status ls;
	struct timespec ts;
	char when[32], exp[32];
	json_t *o;

	lease_get_status(c->lease, &ls);
	clock_gettime(CLOCK_REALTIME, &ts);
	double wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	iso_time(c->mounted_at, when);
	iso_time(wall + (ls.expires_in > 0 ? ls.expires_in : 0), exp);
	o = json_pack("{s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:i, s:s}",
		      "state", vol_state_name(ls.state), "revoked_by_command", ls.revoked_by_command,
		      "provider", ls.provider, "key_id", ls.key_id,
		      "volume_id", c->vol->volume_id_hex, "backing", c->vol->backing,
		      "mountpoint", c->mountpoint, "pid", (int)getpid(), "mounted_at", when);
	if (!o)
		return NULL;
	json_object_set_new(o, "slot", json_string(ls.slot));
	json_object_set_new(o, "lease_seconds", json_real(ls.seconds));
	json_object_set_new(o, "lease_expires_in", json_real(ls.expires_in > 0 ? ls.expires_in : 0));
	json_object_set_new(o, "lease_expires_at", ls.expires_in > 0 ? json_string(exp) : json_null());
	json_object_set_new(o, "last_renewal_ago",
			    ls.last_renewal_ago >= 0 ? json_real(ls.last_renewal_ago) : json_null());
	json_object_set_new(o, "last_renewal_latency_ms", json_real(ls.last_latency_ms));
	json_object_set_new(o, "renewals_ok", json_integer((json_int_t)ls.renewals_ok));
	json_object_set_new(o, "renewals_failed", json_integer((json_int_t)ls.renewals_failed));
	json_object_set_new(o, "last_error", json_string(ls.last_error));
	json_object_set_new(o, "open_files", json_integer(atomic_load(&c->open_files)));
	json_object_set_new(o, "bytes_read",
			    json_integer((json_int_t)atomic_load(&c->vol->stats.bytes_read)));
	json_object_set_new(o, "bytes_written",
			    json_integer((json_int_t)atomic_load(&c->vol->stats.bytes_written)));
	json_object_set_new(o, "auth_failures",
			    json_integer((json_int_t)atomic_load(&c->vol->stats.auth_failures)));
	json_object_set_new(o, "data_keys_in_memory",
			    json_integer((json_int_t)keypool_in_use(c->vol->pool)));
	return o;
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

/*
 * The kernel offers FUSE 128 KiB of readahead at INIT and caps the mount
 * there; its backing device accepts more through sysfs once mounted.
 * Larger windows mean fewer, bigger reads (root only; best effort). The
 * device comes from mountinfo: a stat of the mount point would wait for
 * this very daemon, which does not serve requests yet.
 */
static void set_readahead(const char *canonical, unsigned kb)
{
	char path[96], dev[32];
	FILE *f;

	if (kb == 0 || !ctl_mount_dev(canonical, dev))
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
	f = fopen(path, "we");
	if (!f)
		return;
	fprintf(f, "%u\n", kb);
	if (fclose(f) != 0)
		log_debug("cannot set readahead: %s", strerror(errno));
}

static void raise_fd_limit(size_t need)
{
	struct rlimit rl;

	/* one O_PATH descriptor per inode held, plus open files */
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_max < need) {
		struct rlimit want = {need, need};
		if (setrlimit(RLIMIT_NOFILE, &want) == 0) /* root may raise the hard limit */
			return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Once mounted: drop the terminal and tell the waiting command we are up. */
static void detach(int *ready_fd)
{
	int code = 0, fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (chdir("/") < 0)
		log_warn("cannot chdir to /: %s", strerror(errno));
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	log_use_syslog();
	if (write(*ready_fd, &code, sizeof(code)) != (ssize_t)sizeof(code))
		log_err("cannot tell the mount command we are up: %s", strerror(errno));
	close(*ready_fd);
	*ready_fd = -1;
}

int fs_serve(struct vol *v, const char *mountpoint, const struct fs_options *o,
	     const struct fs_keeper *keeper, int *ready_fd, char *err, size_t errlen)
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
	ops_handles_init(c);
	c->entry_timeout = o->entry_timeout;
	c->attr_timeout = o->attr_timeout;
	c->chown_new = geteuid() == 0;
	if ((r = ctl_canonical(mountpoint, c->mountpoint)) < 0) {
		snprintf(err, errlen, "cannot use mount point '%s': %s", mountpoint, strerror(-r));
		free(c);
		return r;
	}
	snprintf(c->lease_provider, sizeof(c->lease_provider), "%s", kms_provider_name(keeper->key));
	snprintf(c->lease_key_id, sizeof(c->lease_key_id), "%s", kms_key_id(keeper->key));
	if ((r = itable_init(&c->it, v->root_fd)) < 0) {
		snprintf(err, errlen, "cannot set up the inode table: %s", strerror(-r));
		free(c);
		return r;
	}
	struct control_ops cops = {.revoke = ctl_revoke, .unlock = ctl_unlock, .status = ctl_status,
				   .ctx = c};
	c->control = control_open(c->mountpoint, &cops, err, errlen);
	if (!c->control) {
		r = -EIO;
		itable_destroy(&c->it);
		free(c);
		return r;
	}

	/* libfuse allocates a fresh buffer per request: keep glibc from
	 * returning each one to the kernel (see PERF-NOTES) */
	mallopt(M_MMAP_THRESHOLD, 4 * MAX_REQUEST);
	mallopt(M_TRIM_THRESHOLD, 64 * MAX_REQUEST);
	raise_fd_limit(o->max_inodes ? 2 * o->max_inodes + 4096 : 1048576);
	size_t max_inodes = o->max_inodes;
	{
		/* leave room under the descriptor limit for open files (4096) and
		 * for bursts the pruner has not caught up with yet (4096: a cold
		 * ls -lR, find or read of 12,000 files overshoots max_inodes=2000
		 * by under 50); under a low limit, half of what is left */
		struct rlimit rl;
		if (max_inodes && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
			size_t lim = (size_t)rl.rlim_cur, room = 1024;
			if (lim > 8192) {
				room = (lim - 4096) / 2;
				if (lim - 8192 > room)
					room = lim - 8192;
			}
			if (max_inodes > room) {
				log_info("holding at most %zu inodes (descriptor limit %llu)", room,
					 (unsigned long long)rl.rlim_cur);
				max_inodes = room;
			}
		}
	}
	umask(0); /* the kernel already applied the caller's umask */

	memset(&ops, 0, sizeof(ops));
	ops.init = op_init;
	ops_entry_register(&ops);
	ops_file_register(&ops);
	if (!o->no_xattr)
		ops_xattr_register(&ops); /* else libfuse answers ENOSYS */

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
	if ((r = killpriv_install(se, c)) < 0)
		log_info("cannot put the kill-privileges layer under libfuse (%s): one GETXATTR per write", strerror(-r));
	r = 0;
	set_readahead(c->mountpoint, o->readahead_kb);
	if (*ready_fd >= 0)
		detach(ready_fd);
	{
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		c->mounted_at = (double)ts.tv_sec;
	}
	/* threads only now that nothing can fail before the loop starts */
	if (par_start(o->crypto_threads) < 0)
		log_warn("no crypto helper threads: requests use one CPU each");
	struct lease_cfg lc = {.seconds = o->lease, .key = keeper->key, .slot = keeper->slot,
			       .on_wipe = invalidate_all, .ctx = c};
	c->lease = lease_start(v, &lc);
	struct pruner *pruner = pruner_start(&c->it, se, max_inodes);
	if (!c->lease || control_run(c->control) != 0) {
		log_err("cannot start the lease and control threads: %s", strerror(errno));
		r = -EIO;
		goto out_unmount;
	}
	log_info("mounted '%s' on '%s', lease %.1fs", v->backing, mountpoint, o->lease);
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
	pruner_stop(pruner);
	pruner = NULL;
	par_stop();
out_unmount:
	control_stop(c->control);
	c->control = NULL;
	lease_stop(c->lease);
	c->lease = NULL;
	if (mounted)
		fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out:
	if (se)
		fuse_session_destroy(se);
	control_stop(c->control);
	fuse_opt_free_args(&args);
	/* the kernel drops RELEASEs still queued at unmount: free those handles
	 * (and wipe their data keys) ourselves */
	ops_release_all_files(c);
	ops_release_all_dirs(c);
	/* keys are wiped by the caller's vol_close(); the table holds none */
	itable_destroy(&c->it);
	free(c);
	return r;
}
