/*
 * benchtool: small helper for scripts/bench, compiled at run time with gcc.
 *
 *   benchtool time OUTFILE CMD [ARGS...]
 *       run CMD, write its wall time (CLOCK_MONOTONIC, seconds) to OUTFILE,
 *       exit with CMD's status (128+signal if it was killed).
 *   benchtool mkfiles DIR NDIRS NFILES SIZE
 *       create NDIRS directories DIR/dNNNN holding NFILES files in total, each
 *       SIZE bytes of pseudo-random content, one write() per file; prints
 *       "files=N bytes=B sum=HEX secs=S" (sum: order-independent content sum).
 *   benchtool readfiles DIR
 *       walk DIR and read every regular file to its end (64 KiB reads); prints
 *       "files=N bytes=B sum=HEX secs=S" with the same content sum.
 *   benchtool append FILE NWRITERS NLINES
 *       NWRITERS processes append NLINES JSON lines (about 1 KiB each) in total
 *       to FILE, each through its own O_APPEND fd, one write() per line. Lines
 *       are generated before the clock starts; the clock covers the writes and
 *       the close(). Prints "lines=N bytes=B secs=S".
 *   benchtool verify FILE NWRITERS NLINES
 *       check that FILE holds exactly the lines "append" wrote: every line
 *       intact (its own checksum), every writer's sequence numbers complete and
 *       in order, nothing else. Prints "OK ..." (exit 0) or "FAIL ..." (exit 1).
 *
 * Line format (one line, about 1 KiB):
 *   {"w":W,"seq":S,"msg":"<printable text>","ck":"<16 hex>"}\n
 * where ck is hash64 of every byte before "ck" (up to and including the comma).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "benchtool: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* 64-bit hash, 8 bytes per step; good enough to detect corruption. */
static uint64_t hash64(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	while (n--) {
		h = (h ^ *p++) * 0x100000001b3ULL;
	}
	h ^= h >> 32;
	h *= 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	return h;
}

static uint64_t xs_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t seed_of(uint64_t a, uint64_t b)
{
	uint64_t s = (a + 1) * 0x9e3779b97f4a7c15ULL ^ (b + 7) * 0xc2b2ae3d27d4eb4fULL;
	return s ? s : 1;
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---------------------------------------------------------------- time */
static int cmd_time(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: benchtool time OUTFILE CMD [ARGS...]\n");
		return 2;
	}
	const char *out = argv[0];
	double t0 = now();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execvp(argv[1], &argv[1]);
		fprintf(stderr, "benchtool: exec %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	double t1 = now();
	FILE *f = fopen(out, "w");
	if (!f)
		die(out);
	fprintf(f, "%.6f\n", t1 - t0);
	fclose(f);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/* ------------------------------------------------------------- mkfiles */
static int cmd_mkfiles(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: benchtool mkfiles DIR NDIRS NFILES SIZE\n");
		return 2;
	}
	const char *dir = argv[0];
	long ndirs = atol(argv[1]), nfiles = atol(argv[2]), size = atol(argv[3]);
	if (ndirs < 1 || nfiles < 1 || size < 0) {
		fprintf(stderr, "benchtool: bad numbers\n");
		return 2;
	}
	size_t alloc = (size_t)size + 8;
	unsigned char *buf = malloc(alloc);
	if (!buf)
		die("malloc");
	uint64_t sum = 0;
	long long bytes = 0;
	char path[4096];
	double t0 = now();
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die(dir);
	for (long d = 0; d < ndirs; d++) {
		snprintf(path, sizeof path, "%s/d%04ld", dir, d);
		if (mkdir(path, 0755) < 0)
			die(path);
	}
	for (long i = 0; i < nfiles; i++) {
		long d = i % ndirs;
		uint64_t s = seed_of((uint64_t)i, 0x5eed);
		for (long k = 0; k < size; k += 8) {
			uint64_t r = xs_next(&s);
			memcpy(buf + k, &r, 8);
		}
		snprintf(path, sizeof path, "%s/d%04ld/f%07ld.bin", dir, d, i);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			die(path);
		if (write_all(fd, buf, (size_t)size) < 0)
			die(path);
		if (close(fd) < 0)
			die(path);
		sum += hash64(buf, (size_t)size);
		bytes += size;
	}
	double t1 = now();
	printf("files=%ld bytes=%lld sum=%016" PRIx64 " secs=%.6f\n", nfiles, bytes, sum, t1 - t0);
	free(buf);
	return 0;
}

/* ----------------------------------------------------------- readfiles */
struct walk {
	long files;
	long long bytes;
	uint64_t sum;
	unsigned char *buf;
	size_t bufsz;
	unsigned char *fbuf; /* whole-file buffer for hashing */
	size_t fbufsz;
	int err;
};

static void walk_dir(int dfd, const char *name, struct walk *w)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		fprintf(stderr, "benchtool: opendir %s: %s\n", name, strerror(errno));
		close(dfd);
		w->err = 1;
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int type = de->d_type;
		if (type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				w->err = 1;
				continue;
			}
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
		}
		if (type == DT_DIR) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY);
			if (sub < 0) {
				fprintf(stderr, "benchtool: open dir %s/%s: %s\n", name, de->d_name, strerror(errno));
				w->err = 1;
				continue;
			}
			walk_dir(sub, de->d_name, w);
		} else if (type == DT_REG) {
			int fd = openat(dirfd(d), de->d_name, O_RDONLY);
			if (fd < 0) {
				fprintf(stderr, "benchtool: open %s/%s: %s\n", name, de->d_name, strerror(errno));
				w->err = 1;
				continue;
			}
			size_t len = 0;
			for (;;) {
				if (len + w->bufsz > w->fbufsz) {
					w->fbufsz = (len + w->bufsz) * 2;
					w->fbuf = realloc(w->fbuf, w->fbufsz);
					if (!w->fbuf)
						die("realloc");
				}
				ssize_t r = read(fd, w->fbuf + len, w->bufsz);
				if (r < 0) {
					if (errno == EINTR)
						continue;
					fprintf(stderr, "benchtool: read %s/%s: %s\n", name, de->d_name, strerror(errno));
					w->err = 1;
					break;
				}
				if (r == 0)
					break;
				len += (size_t)r;
			}
			close(fd);
			w->sum += hash64(w->fbuf, len);
			w->bytes += (long long)len;
			w->files++;
		}
	}
	closedir(d);
}

static int cmd_readfiles(int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "usage: benchtool readfiles DIR\n");
		return 2;
	}
	struct walk w = {0};
	w.bufsz = 65536;
	double t0 = now();
	int dfd = open(argv[0], O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		die(argv[0]);
	walk_dir(dfd, argv[0], &w);
	double t1 = now();
	printf("files=%ld bytes=%lld sum=%016" PRIx64 " secs=%.6f\n", w.files, w.bytes, w.sum, t1 - t0);
	free(w.fbuf);
	return w.err ? 1 : 0;
}

/* -------------------------------------------------------------- append */
#define MSG_MIN 880
#define MSG_SPREAD 240

static size_t make_line(char *out, size_t cap, int wr, long seq)
{
	static const char alpha[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_";
	uint64_t s = seed_of((uint64_t)wr, (uint64_t)seq);
	size_t msglen = MSG_MIN + xs_next(&s) % MSG_SPREAD;
	int n = snprintf(out, cap, "{\"w\":%d,\"seq\":%ld,\"msg\":\"", wr, seq);
	size_t p = (size_t)n;
	for (size_t i = 0; i < msglen; i++)
		out[p++] = alpha[xs_next(&s) % (sizeof alpha - 1)];
	out[p++] = '"';
	out[p++] = ',';
	uint64_t ck = hash64((unsigned char *)out, p);
	n = snprintf(out + p, cap - p, "\"ck\":\"%016" PRIx64 "\"}\n", ck);
	return p + (size_t)n;
}

static long share(long total, int writers, int w)
{
	return total / writers + (w < total % writers ? 1 : 0);
}

static int cmd_append(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: benchtool append FILE NWRITERS NLINES\n");
		return 2;
	}
	const char *file = argv[0];
	int writers = atoi(argv[1]);
	long lines = atol(argv[2]);
	if (writers < 1 || writers > 256 || lines < writers) {
		fprintf(stderr, "benchtool: bad numbers\n");
		return 2;
	}
	int ready[2], go[2];
	if (pipe(ready) < 0 || pipe(go) < 0)
		die("pipe");
	pid_t pids[256];
	/* shared result area: bytes written per writer */
	long long *shared = mmap(NULL, sizeof(long long) * 256, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		die("mmap");
	for (int w = 0; w < writers; w++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(ready[0]);
			close(go[1]);
			long n = share(lines, writers, w);
			size_t cap = (size_t)n * (MSG_MIN + MSG_SPREAD + 128);
			char *buf = malloc(cap);
			size_t *off = malloc(sizeof(size_t) * ((size_t)n + 1));
			if (!buf || !off)
				die("malloc");
			size_t p = 0;
			for (long i = 0; i < n; i++) {
				off[i] = p;
				p += make_line(buf + p, cap - p, w, i);
			}
			off[n] = p;
			int fd = open(file, O_WRONLY | O_APPEND | O_CREAT, 0644);
			if (fd < 0) {
				fprintf(stderr, "benchtool: writer %d: open %s: %s\n", w, file, strerror(errno));
				_exit(3);
			}
			char c = 'r';
			if (write(ready[1], &c, 1) != 1)
				_exit(4);
			close(ready[1]);
			if (read(go[0], &c, 1) < 0) /* returns 0 when the parent closes go[1] */
				_exit(4);
			for (long i = 0; i < n; i++) {
				size_t len = off[i + 1] - off[i];
				ssize_t r = write(fd, buf + off[i], len);
				if (r != (ssize_t)len) {
					fprintf(stderr, "benchtool: writer %d line %ld: write returned %zd of %zu: %s\n",
						w, i, r, len, r < 0 ? strerror(errno) : "short write");
					_exit(5);
				}
			}
			if (close(fd) < 0) {
				fprintf(stderr, "benchtool: writer %d: close: %s\n", w, strerror(errno));
				_exit(6);
			}
			shared[w] = (long long)p;
			_exit(0);
		}
		pids[w] = pid;
	}
	close(ready[1]);
	close(go[0]);
	/* wait until every writer has generated its lines and opened the file */
	int got = 0;
	char c;
	while (got < writers) {
		ssize_t r = read(ready[0], &c, 1);
		if (r == 1)
			got++;
		else if (r == 0)
			break; /* a writer died before it was ready */
		else if (errno != EINTR)
			die("read ready");
	}
	double t0 = now();
	close(go[1]); /* release all writers at once */
	int fail = got < writers;
	for (int w = 0; w < writers; w++) {
		int st;
		while (waitpid(pids[w], &st, 0) < 0) {
			if (errno != EINTR)
				die("waitpid");
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail = 1;
	}
	double t1 = now();
	long long bytes = 0;
	for (int w = 0; w < writers; w++)
		bytes += shared[w];
	printf("lines=%ld bytes=%lld secs=%.6f\n", lines, bytes, t1 - t0);
	return fail ? 1 : 0;
}

/* -------------------------------------------------------------- verify */
static int cmd_verify(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: benchtool verify FILE NWRITERS NLINES\n");
		return 2;
	}
	const char *file = argv[0];
	int writers = atoi(argv[1]);
	long lines = atol(argv[2]);
	if (writers < 1 || writers > 256) {
		fprintf(stderr, "benchtool: bad numbers\n");
		return 2;
	}
	int fd = open(file, O_RDONLY);
	if (fd < 0) {
		printf("FAIL cannot open: %s\n", strerror(errno));
		return 1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		die("fstat");
	size_t size = (size_t)st.st_size;
	char *data = malloc(size + 1);
	if (!data)
		die("malloc");
	size_t got = 0;
	while (got < size) {
		ssize_t r = read(fd, data + got, size - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			printf("FAIL read error at offset %zu: %s\n", got, strerror(errno));
			return 1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != size) {
		printf("FAIL short read: %zu of %zu bytes\n", got, size);
		return 1;
	}
	long next[256] = {0};
	long bad = 0, outoforder = 0, total = 0, foreign = 0;
	long first_bad = -1;
	char why[200] = "";
	size_t p = 0;
	long lineno = 0;
	while (p < size) {
		char *nl = memchr(data + p, '\n', size - p);
		size_t end = nl ? (size_t)(nl - data) : size; /* index of '\n' */
		char *line = data + p;
		size_t len = end - p;
		data[end] = '\0'; /* sscanf must not run past this line (end == size is the spare byte) */
		lineno++;
		total++;
		int ok = 0;
		int w = -1;
		long seq = -1;
		/* parse: {"w":W,"seq":S,"msg":"...","ck":"HEX"} */
		const char *ckkey = "\"ck\":\"";
		char *ck = NULL;
		if (nl && len > 40) {
			/* last occurrence of "ck":" */
			for (char *q = line + len - 6; q >= line; q--) {
				if (!memcmp(q, ckkey, 6)) {
					ck = q;
					break;
				}
			}
		}
		if (ck && line + len - ck == 6 + 16 + 2 && !memcmp(line + len - 2, "\"}", 2) &&
		    sscanf(line, "{\"w\":%d,\"seq\":%ld,\"msg\":\"", &w, &seq) == 2) {
			char hex[17];
			memcpy(hex, ck + 6, 16);
			hex[16] = 0;
			uint64_t want = strtoull(hex, NULL, 16);
			uint64_t have = hash64((unsigned char *)line, (size_t)(ck - line));
			if (want == have && w >= 0 && w < writers)
				ok = 1;
			else if (want == have)
				foreign++;
		}
		if (!ok) {
			bad++;
			if (first_bad < 0) {
				first_bad = lineno;
				snprintf(why, sizeof why, "line %ld (offset %zu, %zu bytes%s) is damaged", lineno, p, len,
					 nl ? "" : ", no newline at end of file");
			}
		} else if (seq != next[w]) {
			outoforder++;
			if (first_bad < 0) {
				first_bad = lineno;
				snprintf(why, sizeof why, "line %ld: writer %d seq %ld, expected %ld", lineno, w, seq,
					 next[w]);
			}
			if (seq > next[w])
				next[w] = seq + 1;
		} else {
			next[w]++;
		}
		p = nl ? end + 1 : size;
	}
	long missing = 0;
	char counts[1024] = "";
	size_t cl = 0;
	for (int w = 0; w < writers; w++) {
		long want = share(lines, writers, w);
		if (next[w] != want)
			missing += labs(want - next[w]);
		if (cl < sizeof counts - 40)
			cl += (size_t)snprintf(counts + cl, sizeof counts - cl, "%sw%d=%ld/%ld", w ? "," : "", w, next[w],
					       want);
	}
	if (bad == 0 && outoforder == 0 && missing == 0 && total == lines) {
		printf("OK lines=%ld writers=%d bytes=%zu per-writer:%s\n", total, writers, size, counts);
		free(data);
		return 0;
	}
	printf("FAIL lines=%ld (expected %ld) damaged=%ld out-of-order=%ld missing=%ld foreign=%ld per-writer:%s; first: %s\n",
	       total, lines, bad, outoforder, missing, foreign, counts, why[0] ? why : "line count differs");
	free(data);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: benchtool time|mkfiles|readfiles|append|verify ...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_DFL);
	const char *c = argv[1];
	if (!strcmp(c, "time"))
		return cmd_time(argc - 2, argv + 2);
	if (!strcmp(c, "mkfiles"))
		return cmd_mkfiles(argc - 2, argv + 2);
	if (!strcmp(c, "readfiles"))
		return cmd_readfiles(argc - 2, argv + 2);
	if (!strcmp(c, "append"))
		return cmd_append(argc - 2, argv + 2);
	if (!strcmp(c, "verify"))
		return cmd_verify(argc - 2, argv + 2);
	fprintf(stderr, "benchtool: unknown command %s\n", c);
	return 2;
}
