/* SPDX-License-Identifier: MIT */
/*
 * Fault injection into the backing-store I/O table (fs/io.h), for tests.
 * Compiled only with -DBYOKFS_FAULT_INJECTION (the ASan+UBSan test build);
 * the release build holds none of it. docs/CRASH.md describes the rules.
 *
 * At start-up, if BYOKFS_FAULTS is set, the entries of io_sys are replaced
 * by wrappers that consult a list of rules before calling the real system
 * call. BYOKFS_FAULTS holds the rules, separated by ';' or newlines, each a
 * comma-separated list of key=value:
 *
 *   op=pread|pwrite|open|ftruncate|fallocate|fsync|fdatasync|*  (default *)
 *   errno=EIO|ENOSPC|EDQUOT|EROFS|EFBIG|EINTR|EAGAIN|<number>    (default EIO)
 *   path=SUBSTRING  only calls on a backing path containing it (default: any)
 *   after=N         let N matching calls through first (default 0)
 *   count=M         fail M calls, then the rule is spent (default 0: forever)
 *   torn=K          pwrite: the first call the rule hits writes its first K
 *                   bytes (at most len - 1) and returns that short count; the
 *                   calls after it fail (the store took part, then failed)
 *   crash=1         instead of failing, the process kills itself (SIGKILL):
 *                   a crash at exactly that point (after the torn part)
 *
 * BYOKFS_FAULTS=@FILE reads the rules from FILE instead, again whenever its
 * size, inode or modification time changes (the counters start over); a
 * missing or empty file injects nothing. Tests rewrite it to put faults in
 * and lift them on a live mount.
 */
#ifdef BYOKFS_FAULT_INJECTION

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/io.h"

#define MAX_RULES 16
#define SPEC_MAX 4096

enum fop { F_ANY, F_PREAD, F_PWRITE, F_OPEN, F_FTRUNCATE, F_FALLOCATE, F_FSYNC, F_FDATASYNC };

static const char *const fop_names[] = {
	[F_ANY] = "*", [F_PREAD] = "pread", [F_PWRITE] = "pwrite", [F_OPEN] = "open",
	[F_FTRUNCATE] = "ftruncate", [F_FALLOCATE] = "fallocate", [F_FSYNC] = "fsync",
	[F_FDATASYNC] = "fdatasync",
};

struct rule {
	enum fop op;
	int err;
	char path[256];
	unsigned long after, count, torn;
	int crash;
	unsigned long seen, failed; /* matching calls, failures injected */
	int torn_done;
};

static struct io_syscalls real;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct rule rules[MAX_RULES];
static int nrules, any_path;
static const char *rule_file; /* NULL: rules fixed at start-up */
static struct stat file_st;

static int errno_of(const char *s)
{
	static const struct {
		const char *name;
		int err;
	} names[] = {
		{"EIO", EIO}, {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}, {"EROFS", EROFS},
		{"EFBIG", EFBIG}, {"EINTR", EINTR}, {"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].err;
	return atoi(s) > 0 ? atoi(s) : EIO;
}

/* Parses one rule "k=v,k=v"; 0 if it holds nothing. */
static int parse_rule(char *s, struct rule *r)
{
	char *save = NULL, *kv;
	int any = 0;

	memset(r, 0, sizeof(*r));
	r->err = EIO;
	for (kv = strtok_r(s, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		while (*kv == ' ' || *kv == '\t')
			kv++;
		char *eq = strchr(kv, '=');
		if (!eq)
			continue;
		*eq = '\0';
		const char *k = kv, *v = eq + 1;
		any = 1;
		if (strcmp(k, "op") == 0) {
			for (size_t i = 0; i < sizeof(fop_names) / sizeof(fop_names[0]); i++)
				if (strcmp(v, fop_names[i]) == 0)
					r->op = (enum fop)i;
		} else if (strcmp(k, "errno") == 0) {
			r->err = errno_of(v);
		} else if (strcmp(k, "path") == 0) {
			snprintf(r->path, sizeof(r->path), "%s", v);
		} else if (strcmp(k, "after") == 0) {
			r->after = strtoul(v, NULL, 10);
		} else if (strcmp(k, "count") == 0) {
			r->count = strtoul(v, NULL, 10);
		} else if (strcmp(k, "torn") == 0) {
			r->torn = strtoul(v, NULL, 10);
		} else if (strcmp(k, "crash") == 0) {
			r->crash = atoi(v) != 0;
		}
	}
	return any;
}

/* Replaces the rules by those in spec. Lock held (or single-threaded). */
static void parse_rules(char *spec)
{
	char *save = NULL, *line;

	nrules = 0;
	any_path = 0;
	for (line = strtok_r(spec, ";\n", &save); line && nrules < MAX_RULES;
	     line = strtok_r(NULL, ";\n", &save)) {
		if (parse_rule(line, &rules[nrules])) {
			any_path |= rules[nrules].path[0] != '\0';
			nrules++;
		}
	}
}

/* Re-reads the rule file if it changed. Lock held. */
static void reload(void)
{
	char spec[SPEC_MAX];
	struct stat st;
	ssize_t n = 0;
	int fd;

	if (stat(rule_file, &st) < 0) {
		memset(&file_st, 0, sizeof(file_st));
		nrules = 0;
		return;
	}
	if (st.st_ino == file_st.st_ino && st.st_size == file_st.st_size &&
	    st.st_mtim.tv_sec == file_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == file_st.st_mtim.tv_nsec)
		return;
	file_st = st;
	fd = open(rule_file, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, spec, sizeof(spec) - 1);
		close(fd);
	}
	spec[n > 0 ? n : 0] = '\0';
	parse_rules(spec);
}

/* The backing path behind fd, or "" */
static void fd_path(int fd, char *out, size_t len)
{
	char proc[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

enum verdict { PASS, FAIL, TEAR };

/*
 * Decides a call: PASS (call through), FAIL (errno set, or the process is
 * killed here), TEAR (*torn gets the bytes to write before returning short;
 * *crash says to die after writing them).
 */
static enum verdict decide(enum fop op, int fd, const char *path, size_t len, size_t *torn,
			   int *crash)
{
	char buf[4096];
	enum verdict v = PASS;
	int err = 0;

	*crash = 0;

	pthread_mutex_lock(&lock);
	if (rule_file)
		reload();
	if (nrules == 0) {
		pthread_mutex_unlock(&lock);
		return PASS;
	}
	if (any_path) {
		if (path) {
			if (strncmp(path, "/proc/self/fd/", 14) == 0)
				fd_path(atoi(path + 14), buf, sizeof(buf));
			else if (fd >= 0) {
				/* openat: the directory's path, then the name */
				fd_path(fd, buf, sizeof(buf));
				size_t l = strlen(buf);
				snprintf(buf + l, sizeof(buf) - l, "/%s", path);
			} else
				snprintf(buf, sizeof(buf), "%s", path);
		} else {
			fd_path(fd, buf, sizeof(buf));
		}
	}
	for (int i = 0; i < nrules; i++) {
		struct rule *r = &rules[i];
		if (r->op != F_ANY && r->op != op)
			continue;
		if (r->path[0] && !strstr(buf, r->path))
			continue;
		if (r->count && r->failed >= r->count)
			continue;
		if (r->seen++ < r->after)
			continue;
		if (op == F_PWRITE && r->torn && !r->torn_done && len > 1) {
			r->torn_done = 1;
			*torn = r->torn < len ? r->torn : len - 1;
			v = TEAR;
			*crash = r->crash;
			break;
		}
		r->failed++;
		v = FAIL;
		err = r->err;
		*crash = r->crash;
		break;
	}
	pthread_mutex_unlock(&lock);
	if (v == FAIL && *crash)
		kill(getpid(), SIGKILL);
	if (v == FAIL)
		errno = err;
	return v;
}

/* The checks every wrapper but pwrite makes: 0 to call through, -1 (errno set) */
static int check(enum fop op, int fd, const char *path)
{
	size_t t;
	int c;
	return decide(op, fd, path, 0, &t, &c) == PASS ? 0 : -1;
}

static ssize_t f_pread(int fd, void *buf, size_t len, off_t off)
{
	if (check(F_PREAD, fd, NULL) < 0)
		return -1;
	return real.pread(fd, buf, len, off);
}

static ssize_t f_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	size_t t = 0;
	int crash;
	switch (decide(F_PWRITE, fd, NULL, len, &t, &crash)) {
	case PASS:
		return real.pwrite(fd, buf, len, off);
	case FAIL:
		return -1;
	case TEAR:
		break;
	}
	ssize_t n = real.pwrite(fd, buf, t, off);
	if (crash)
		kill(getpid(), SIGKILL); /* the torn part reached the store */
	return n;
}

static int f_open(const char *path, int flags, mode_t mode)
{
	if (check(F_OPEN, -1, path) < 0)
		return -1;
	return real.open(path, flags, mode);
}

static int f_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	if (check(F_OPEN, dirfd, path) < 0)
		return -1;
	return real.openat(dirfd, path, flags, mode);
}

static int f_ftruncate(int fd, off_t len)
{
	if (check(F_FTRUNCATE, fd, NULL) < 0)
		return -1;
	return real.ftruncate(fd, len);
}

static int f_fallocate(int fd, int mode, off_t off, off_t len)
{
	if (check(F_FALLOCATE, fd, NULL) < 0)
		return -1;
	return real.fallocate(fd, mode, off, len);
}

static int f_fsync(int fd)
{
	if (check(F_FSYNC, fd, NULL) < 0)
		return -1;
	return real.fsync(fd);
}

static int f_fdatasync(int fd)
{
	if (check(F_FDATASYNC, fd, NULL) < 0)
		return -1;
	return real.fdatasync(fd);
}

__attribute__((constructor)) static void fault_init(void)
{
	static char spec[SPEC_MAX];
	const char *e = getenv("BYOKFS_FAULTS");

	if (!e || !*e)
		return;
	if (e[0] == '@') {
		rule_file = strdup(e + 1);
		if (!rule_file)
			return;
	} else {
		snprintf(spec, sizeof(spec), "%s", e);
		parse_rules(spec);
	}
	real = io_sys;
	io_sys = (struct io_syscalls){
		.pread = f_pread,
		.pwrite = f_pwrite,
		.open = f_open,
		.openat = f_openat,
		.ftruncate = f_ftruncate,
		.fallocate = f_fallocate,
		.fsync = f_fsync,
		.fdatasync = f_fdatasync,
	};
}

#endif /* BYOKFS_FAULT_INJECTION */
