/* SPDX-License-Identifier: MIT */
/*
 * revoke-harness: readers and an appender on a mount while a command cuts it
 * off; used by tests/revoke and scripts/bench-revoke.
 *
 *   revoke-harness [options] -- COMMAND [ARGS...]
 *     -r FILE     a reader streaming FILE (repeatable); opened before the start
 *     -m FILE     a reader touching FILE through a shared mmap (SIGBUS expected)
 *     -a FILE     an appender writing numbered, checksummed lines to FILE
 *     -A FILE     where the appender records the last line it was told it wrote
 *     -w MS       how long the readers stream before COMMAND runs (default 300)
 *     -t MS       how long to wait for every reader to be cut off (default 10000)
 *     -e          COMMAND does not cut off by itself (e.g. rm of a key file):
 *                 the cut-off is measured from its start
 *     -s          run COMMAND in a session of its own, as an operator's shell
 *                 or a service is (with autogroup scheduling, the kernel
 *                 shares the CPUs out between sessions first)
 *
 * A reader records the monotonic time before each read and whether it
 * returned data. After COMMAND returns (time R), every read *started* after
 * R must fail: one that returned data is a violation. Prints one JSON object:
 *   {"cmd_start":..,"cmd_end":..,"cmd_ms":..,"cmd_rc":..,"cutoff_ms":..,"spawn_ms":..,
 *    "majflt":..,"nvcsw":..,"nivcsw":..,"cpu_ms":..,"violations":N,
 *    "readers":[{"file":..,"errno":..,"last_ok_start":..,"first_fail":..},...],
 *    "appender":{"acked":N,"errno":..,"partial":BYTES}}
 * An appender cut off inside a write() that the kernel split into two
 * requests sees a short write: "errno" is "short write" and "partial" the
 * bytes of that line on disk; -A FILE then holds "ACKED PARTIAL".
 * cutoff_ms: from the start of COMMAND to the first failure of the last
 * reader. cmd_ms: how long COMMAND ran. spawn_ms: from the start of COMMAND
 * to its child process first running (before exec, and before -s moves it
 * to a session of its own). The rest says where a slow COMMAND spent its
 * time (getrusage of the child): majflt, pages read back from disk; nvcsw,
 * times it slept; nivcsw, times it was preempted while runnable; cpu_ms,
 * the CPU time it used.
 * Exit 0 when every reader was cut off with no violation, 1 otherwise.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_READERS 64
#define CHUNK 65536

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct reader {
	const char *file;
	int mmap_mode;
	int fd;
	size_t size;
	pthread_t t;
	double last_ok_start; /* start time of the last read that returned data */
	double first_fail;    /* return time of the first failed read */
	int err;
	long violations;
	atomic_int done;
};

static struct reader readers[MAX_READERS];
static int nreaders;
static _Atomic double cmd_end; /* 0 until the command returned */
static atomic_int stop;

static __thread sigjmp_buf *fault_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	if (fault_jmp)
		siglongjmp(*fault_jmp, 1);
	_exit(3);
}

static void note_ok(struct reader *r, double start)
{
	double end = atomic_load(&cmd_end);
	r->last_ok_start = start;
	if (end > 0 && start > end)
		r->violations++;
}

static void *read_main(void *arg)
{
	struct reader *r = arg;
	char *buf = malloc(CHUNK);
	off_t off = 0;

	while (!atomic_load(&stop)) {
		double start = now();
		ssize_t n = pread(r->fd, buf, CHUNK, off);
		if (n > 0) {
			note_ok(r, start);
			off = (off + n) % (off_t)(r->size > CHUNK ? r->size - CHUNK : 1);
			/* drop what we read so the next pass asks the filesystem again */
			posix_fadvise(r->fd, 0, 0, POSIX_FADV_DONTNEED);
			continue;
		}
		r->err = n < 0 ? errno : 0;
		r->first_fail = now();
		break;
	}
	free(buf);
	atomic_store(&r->done, 1);
	return NULL;
}

static void *mmap_main(void *arg)
{
	struct reader *r = arg;
	volatile unsigned char *p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	sigjmp_buf jb;
	size_t off = 0;
	unsigned sum = 0;

	if (p == MAP_FAILED) {
		r->err = errno;
		r->first_fail = now();
		atomic_store(&r->done, 1);
		return NULL;
	}
	fault_jmp = &jb;
	if (sigsetjmp(jb, 1)) {
		r->err = -SIGBUS; /* reported as "SIGBUS" */
		r->first_fail = now();
		atomic_store(&r->done, 1);
		return NULL;
	}
	while (!atomic_load(&stop)) {
		double start = now();
		sum += p[off];
		note_ok(r, start);
		off += 4096;
		if (off >= r->size) {
			off = 0;
			/* drop the pages so the next touch faults into the filesystem */
			madvise((void *)p, r->size, MADV_DONTNEED);
			posix_fadvise(r->fd, 0, 0, POSIX_FADV_DONTNEED);
		}
	}
	(void)sum;
	atomic_store(&r->done, 1);
	return NULL;
}

struct appender {
	const char *file, *ackfile;
	pthread_t t;
	long acked;
	long partial; /* bytes of the next line a short write put on disk */
	int err;      /* errno of the failed write; 0 after a short write */
};

static void *append_main(void *arg)
{
	struct appender *a = arg;
	int fd = open(a->file, O_WRONLY | O_CREAT | O_APPEND, 0644);
	char line[256];

	if (fd < 0) {
		a->err = errno;
		return NULL;
	}
	for (long seq = 1; !atomic_load(&stop); seq++) {
		unsigned long h = 5381;
		int n = snprintf(line, sizeof(line), "line %08ld payload-%0*ld", seq, 60, seq * 7919);
		for (int i = 0; i < n; i++)
			h = h * 33 + (unsigned char)line[i];
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %08lx\n", h & 0xffffffff);
		ssize_t w = write(fd, line, (size_t)n);
		if (w != n) {
			/* a line across a page boundary goes to the filesystem as two
			 * requests; cut off between them, write() returns the count
			 * of the first: that prefix is on disk, the rest is not */
			a->err = w < 0 ? errno : 0;
			a->partial = w > 0 ? w : 0;
			break;
		}
		a->acked = seq;
		usleep(200);
	}
	close(fd);
	if (a->ackfile) {
		FILE *f = fopen(a->ackfile, "w");
		if (f) {
			fprintf(f, "%ld %ld\n", a->acked, a->partial);
			fclose(f);
		}
	}
	return NULL;
}

static const char *errname(int e)
{
	if (e == -SIGBUS)
		return "SIGBUS";
	if (e == EKEYREVOKED)
		return "EKEYREVOKED";
	if (e == 0)
		return "EOF";
	return strerror(e);
}

int main(int argc, char **argv)
{
	struct appender app = {0};
	int wait_ms = 300, timeout_ms = 10000, opt, external = 0, own_session = 0;
	struct sigaction sa = {.sa_handler = on_sigbus};

	while ((opt = getopt(argc, argv, "r:m:a:A:w:t:es")) != -1) {
		switch (opt) {
		case 'r':
		case 'm':
			if (nreaders == MAX_READERS)
				return 2;
			readers[nreaders].file = optarg;
			readers[nreaders].mmap_mode = opt == 'm';
			nreaders++;
			break;
		case 'a':
			app.file = optarg;
			break;
		case 'A':
			app.ackfile = optarg;
			break;
		case 'w':
			wait_ms = atoi(optarg);
			break;
		case 't':
			timeout_ms = atoi(optarg);
			break;
		case 'e':
			external = 1;
			break;
		case 's':
			own_session = 1;
			break;
		default:
			fprintf(stderr, "usage: revoke-harness [-r F]... [-m F] [-a F -A F] [-w MS] [-t MS] [-e] [-s] -- CMD...\n");
			return 2;
		}
	}
	if (optind >= argc || nreaders == 0) {
		fprintf(stderr, "revoke-harness: need readers and a command\n");
		return 2;
	}
	sigaction(SIGBUS, &sa, NULL);
	/* open every file first: "descriptors opened before" */
	for (int i = 0; i < nreaders; i++) {
		struct stat st;
		readers[i].fd = open(readers[i].file, readers[i].mmap_mode ? O_RDWR : O_RDONLY);
		if (readers[i].fd < 0 || fstat(readers[i].fd, &st) < 0 || st.st_size < CHUNK) {
			fprintf(stderr, "revoke-harness: cannot use '%s' (need >= 64 KiB)\n", readers[i].file);
			return 2;
		}
		readers[i].size = (size_t)st.st_size;
	}
	for (int i = 0; i < nreaders; i++)
		pthread_create(&readers[i].t, NULL, readers[i].mmap_mode ? mmap_main : read_main,
			       &readers[i]);
	if (app.file)
		pthread_create(&app.t, NULL, append_main, &app);
	usleep((useconds_t)wait_ms * 1000);

	/* the child writes when it first ran here (ns), before exec: a
	 * lock-free atomic, so it is safe between fork and exec */
	static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "need a lock-free 64-bit atomic");
	_Atomic long long *child_ran = mmap(NULL, sizeof(*child_ran), PROT_READ | PROT_WRITE,
					    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (child_ran == MAP_FAILED)
		return 2;
	atomic_store(child_ran, 0);
	double cmd_start = now();
	pid_t pid = fork();
	if (pid < 0) {
		perror("revoke-harness: fork");
		return 2;
	}
	if (pid == 0) {
		atomic_store(child_ran, (long long)(now() * 1e9));
		if (own_session)
			setsid();
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	int status = 0;
	struct rusage ru = {0};
	wait4(pid, &status, 0, &ru);
	/* an external cut (rm of a key file) is noticed within the lease, so
	 * reads started after the command may still succeed: no violations */
	double cmd_returned = now();
	atomic_store(&cmd_end, external ? 1e18 : cmd_returned);

	double deadline = now() + timeout_ms / 1000.0;
	for (;;) {
		int all = 1;
		for (int i = 0; i < nreaders; i++)
			all &= atomic_load(&readers[i].done);
		if (all || now() > deadline)
			break;
		usleep(1000);
	}
	atomic_store(&stop, 1);
	/* stuck readers (not cut off) are reported, not joined */
	double last = 0;
	long violations = 0;
	int cut = 1;
	for (int i = 0; i < nreaders; i++) {
		if (!atomic_load(&readers[i].done)) {
			cut = 0;
			continue;
		}
		if (readers[i].first_fail > last)
			last = readers[i].first_fail;
		violations += readers[i].violations;
		if (readers[i].err != EKEYREVOKED && readers[i].err != -SIGBUS)
			cut = 0;
	}
	if (app.file)
		pthread_join(app.t, NULL);
	printf("{\"cmd_start\":%.6f,\"cmd_end\":%.6f,\"cmd_ms\":%.3f,\"cmd_rc\":%d,\"cutoff_ms\":%.3f,\"spawn_ms\":%.3f,"
	       "\"majflt\":%ld,\"nvcsw\":%ld,\"nivcsw\":%ld,\"cpu_ms\":%.3f,\"violations\":%ld,\"all_cut_off\":%s,\"readers\":[",
	       cmd_start, external ? cmd_start : atomic_load(&cmd_end), (cmd_returned - cmd_start) * 1000, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
	       cut ? (last - cmd_start) * 1000 : -1.0, (atomic_load(child_ran) / 1e9 - cmd_start) * 1000, ru.ru_majflt, ru.ru_nvcsw, ru.ru_nivcsw,
	       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3,
	       violations,
	       cut ? "true" : "false");
	for (int i = 0; i < nreaders; i++)
		printf("%s{\"file\":\"%s\",\"mmap\":%s,\"cut\":%s,\"errno\":\"%s\",\"ms_after_cmd\":%.3f,"
		       "\"last_ok_start_ms\":%.3f,\"violations\":%ld}",
		       i ? "," : "", readers[i].file, readers[i].mmap_mode ? "true" : "false",
		       atomic_load(&readers[i].done) ? "true" : "false", errname(readers[i].err),
		       (readers[i].first_fail - cmd_start) * 1000,
		       (readers[i].last_ok_start - cmd_start) * 1000, readers[i].violations);
	printf("]");
	if (app.file)
		printf(",\"appender\":{\"acked\":%ld,\"errno\":\"%s\",\"partial\":%ld}", app.acked,
		       app.partial ? "short write" : errname(app.err), app.partial);
	printf("}\n");
	fflush(stdout);
	_exit(cut && violations == 0 ? 0 : 1);
}
