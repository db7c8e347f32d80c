/* SPDX-License-Identifier: MIT */
/* byokfs mount BACKING MOUNTPOINT: unlock a volume and serve it over FUSE. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "crypto/secmem.h"
#include "fs/log.h"
#include "fs/mount.h"
#include "kms/config.h"

static const char usage_text[] =
	"usage: byokfs mount [options] BACKING MOUNTPOINT\n"
	"\n"
	"Unlocks the volume in BACKING with its key slots and mounts it on MOUNTPOINT.\n"
	"Returns once mounted and keeps serving in the background; unmount with\n"
	"fusermount3 -u MOUNTPOINT.\n"
	"\n"
	"options:\n"
	"  -f, --foreground      stay in the foreground, log to stderr\n"
	"  -d, --debug           trace every FUSE request (implies -f)\n"
	"  -v, --verbose         log more (repeat for debug messages)\n"
	"  --key PROVIDER:ID     use this master key instead of the slots' own key ids\n"
	"  -o OPT[,OPT...]       mount options:\n"
	"       allow_other         let other users use the mount (needs user_allow_other\n"
	"                           in /etc/fuse.conf unless root)\n"
	"       ro                  read-only\n"
	"       entry_timeout=SEC   how long the kernel caches names (default 1)\n"
	"       attr_timeout=SEC    how long the kernel caches attributes (default 1)\n"
	"       threads=N           FUSE worker threads (default 16)\n"
	"       crypto_threads=N    threads that share a large request's encryption\n"
	"                           with the FUSE thread (default CPUs - 1; 0 = none)\n"
	"       max_inodes=N        inodes the mount holds before it asks the kernel\n"
	"                           to forget the least used (default 65536, at least\n"
	"                           1024; 0 = no bound: one descriptor each)\n"
	"       readahead=KB        kernel readahead for the mount (default 1024;\n"
	"                           root only; 0 keeps the kernel's 128)\n"
	"       noxattr             no extended attributes (user.* ones stored earlier\n"
	"                           are kept but hidden): the kernel then stops asking\n"
	"                           for security.* and ACL attributes, which makes\n"
	"                           ls -l and file creation faster (docs/PERFORMANCE.md)\n"
	"       lease=SEC           how long the key may be used without the key\n"
	"                           provider confirming it (default: byokfs.conf, else\n"
	"                           5; at least 0.2);\n"
	"                           renewed every SEC/2\n"
	"  -h, --help            this help\n";

static int lease_given; /* -o lease= was on the command line */

static int parse_o(char *list, struct fs_options *o)
{
	char *save = NULL, *end;

	for (char *opt = strtok_r(list, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (!strcmp(opt, "allow_other"))
			o->allow_other = 1;
		else if (!strcmp(opt, "ro"))
			o->read_only = 1;
		else if (!strcmp(opt, "rw"))
			o->read_only = 0;
		else if (!strcmp(opt, "noxattr"))
			o->no_xattr = 1;
		else if (!strcmp(opt, "xattr"))
			o->no_xattr = 0;
		else if (!strncmp(opt, "entry_timeout=", 14)) {
			o->entry_timeout = strtod(opt + 14, &end);
			if (*end || o->entry_timeout < 0)
				goto bad;
		} else if (!strncmp(opt, "attr_timeout=", 13)) {
			o->attr_timeout = strtod(opt + 13, &end);
			if (*end || o->attr_timeout < 0)
				goto bad;
		} else if (!strncmp(opt, "lease=", 6)) {
			o->lease = strtod(opt + 6, &end);
			if (*end || !(o->lease >= 0.2) || o->lease > 86400)
				goto bad;
			lease_given = 1;
		} else if (!strncmp(opt, "readahead=", 10)) {
			unsigned long n = strtoul(opt + 10, &end, 10);
			if (*end || n > 65536)
				goto bad;
			o->readahead_kb = (unsigned)n;
		} else if (!strncmp(opt, "max_inodes=", 11)) {
			unsigned long long n = strtoull(opt + 11, &end, 10);
			if (*end || (n != 0 && n < 1024) || n > 100000000ULL)
				goto bad;
			o->max_inodes = (size_t)n;
		} else if (!strncmp(opt, "crypto_threads=", 15)) {
			unsigned long n = strtoul(opt + 15, &end, 10);
			if (*end || n > 7)
				goto bad;
			o->crypto_threads = (int)n;
		} else if (!strncmp(opt, "threads=", 8)) {
			unsigned long n = strtoul(opt + 8, &end, 10);
			if (*end || n < 1 || n > 256)
				goto bad;
			o->max_threads = (unsigned)n;
		} else {
			cli_error("unknown mount option '%s'", opt);
			return -1;
		}
		continue;
bad:
		cli_error("bad mount option '%s'", opt);
		return -1;
	}
	return 0;
}

int cmd_mount(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"foreground", no_argument, NULL, 'f'},
		{"debug", no_argument, NULL, 'd'},
		{"verbose", no_argument, NULL, 'v'},
		{"key", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct fs_options o;
	const char *keyspec = NULL;
	struct kms_key *key = NULL;
	struct vol v;
	struct rlimit nocore = {0, 0};
	char err[512];
	unsigned slot = 0;
	int opt, verbose = 0, code, r, ready_fd = -1;

	fs_options_default(&o);
	while ((opt = getopt_long(argc, argv, "fdvo:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			o.foreground = 1;
			break;
		case 'd':
			o.debug = o.foreground = 1;
			verbose = 2;
			break;
		case 'v':
			verbose++;
			break;
		case 'k':
			keyspec = optarg;
			break;
		case 'o':
			if (parse_o(optarg, &o) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	log_set_level(verbose);
	/* a bad configuration file is a usage error, said before anything else */
	if (config_load(err, sizeof(err)) < 0) {
		cli_error("byokfs.conf: %s", err);
		return EXIT_USAGE;
	}

	/*
	 * In the background, fork now, before any key exists: memory locks
	 * (the keys' mlock) do not pass to a child, and a fork after the
	 * unlock would leave the daemon's keys swappable. The child does the
	 * rest with the terminal still on stderr for error messages, and hands
	 * its exit code to the parent through a pipe once mounted or failed.
	 */
	if (!o.foreground) {
		int pfd[2], status, got;
		pid_t pid;
		if (pipe2(pfd, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
			cli_error("cannot start the mount process: %s", strerror(errno));
			return EXIT_ERROR;
		}
		if (pid > 0) {
			close(pfd[1]);
			do
				got = (int)read(pfd[0], &code, sizeof(code));
			while (got < 0 && errno == EINTR);
			if (got != (int)sizeof(code)) {
				waitpid(pid, &status, 0);
				cli_error("the mount process ended before mounting");
				return EXIT_ERROR;
			}
			if (code != EXIT_OK)
				waitpid(pid, &status, 0);
			return code;
		}
		close(pfd[0]);
		ready_fd = pfd[1];
		setsid();
	}

	/* before any key is in memory: no core dumps, no ptrace by peers */
	if (prctl(PR_SET_DUMPABLE, 0) != 0 || setrlimit(RLIMIT_CORE, &nocore) != 0) {
		cli_error("cannot make the process undumpable: %s", strerror(errno));
		code = EXIT_ERROR;
		goto report;
	}
	r = vol_open(&v, argv[optind], err, sizeof(err));
	if (r < 0) {
		cli_error("%s", err);
		code = r == -EBADMSG || r == -ENOENT || r == -ENOTSUP ? EXIT_VOLUME : EXIT_ERROR;
		goto report;
	}
	code = cli_unlock(&v, keyspec, &key, &slot);
	/* this frame's callees handled keys; fs_serve's frame will lie over
	 * that stack and keep it alive for the life of the mount */
	secmem_wipe_stack();
	if (code != EXIT_OK)
		goto out;
	if (!lease_given)
		o.lease = config_default_lease(kms_provider_name(key));
	struct fs_keeper keeper = {.key = key, .slot = v.desc.slots[slot].name};
	err[0] = '\0';
	r = fs_serve(&v, argv[optind + 1], &o, &keeper, &ready_fd, err, sizeof(err));
	if (r < 0) {
		if (err[0])
			cli_error("%s", err);
		code = EXIT_MOUNT;
	}
out:
	vol_wipe(&v, VOL_LOCKED);
	vol_close(&v);
	kms_close(key);
report:
	if (ready_fd >= 0) {
		/* failed before mounting: the waiting parent exits with our code */
		if (write(ready_fd, &code, sizeof(code)) != (ssize_t)sizeof(code))
			cli_error("cannot report to the mount command: %s", strerror(errno));
		close(ready_fd);
	}
	/* test hook (docs/SECURITY.md): stop with every key wiped and released,
	 * so that tests/hygiene can scan this process's memory before it exits */
	if (getenv("BYOKFS_TEST_STOP_BEFORE_EXIT"))
		raise(SIGSTOP);
	return code;
}
