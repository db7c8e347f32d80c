/* SPDX-License-Identifier: MIT */
/* Helpers shared by the subcommands: messages, exit codes, unlocking. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "crypto/secmem.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("byokfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_kms_exit(enum kms_status s)
{
	switch (s) {
	case KMS_OK:
		return EXIT_OK;
	case KMS_DENIED:
		return EXIT_KEY_DENIED;
	case KMS_TRANSIENT:
		return EXIT_KEY_UNAVAILABLE;
	case KMS_INVALID:
		return EXIT_USAGE;
	}
	return EXIT_ERROR;
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

/* cli_unlock over every slot (only < 0) or only slot `only`. */
static int unlock_slots(struct vol *v, const char *keyspec, int only, struct kms_key **key_out,
			unsigned *slot_out)
{
	struct kms_key *given = NULL, *key = NULL;
	struct kms_err kerr = {0}, last = {0};
	uint8_t *vkey = secmem_alloc(KMS_KEY_BYTES);
	int tried = 0, code = EXIT_ERROR;

	*key_out = NULL;
	if (!vkey) {
		cli_error("out of secure memory");
		return EXIT_ERROR;
	}
	if (keyspec && kms_open(keyspec, &given, &kerr) != KMS_OK) {
		cli_error("%s", kerr.msg);
		code = cli_kms_exit(kerr.status);
		goto out;
	}
	last.status = KMS_DENIED;
	for (unsigned i = 0; i < v->desc.nslots; i++) {
		struct vslot *s = &v->desc.slots[i];
		enum kms_status st;

		if (only >= 0 && i != (unsigned)only)
			continue;
		if (given) {
			if (strcmp(kms_provider_name(given), s->provider))
				continue;
			key = given;
		} else if ((st = kms_open2(s->provider, s->key_id, &key, &kerr)) != KMS_OK) {
			if (st == KMS_INVALID) {
				/* a slot naming no provider we know, or a key id it cannot
				 * parse: the descriptor is damaged (or from a newer byokfs) */
				cli_error("corrupt volume descriptor of '%s': key slot '%s': %s", v->backing,
					  s->name, kerr.msg);
				code = EXIT_VOLUME;
				goto out;
			}
			last = kerr;
			tried++;
			continue;
		}
		tried++;
		st = kms_unwrap(key, v->volume_id_hex, s->wrapped, s->wrapped_len, vkey, &kerr);
		if (st == KMS_INVALID) {
			cli_error("corrupt volume descriptor of '%s': key slot '%s': %s", v->backing,
				  s->name, kerr.msg);
			code = EXIT_VOLUME;
			if (key != given)
				kms_close(key);
			goto out;
		}
		if (st == KMS_OK) {
			int r = vol_unlock(v, vkey);
			if (r == -EBADMSG) {
				cli_error("volume descriptor of '%s' failed authentication: it was modified",
					  v->backing);
				code = EXIT_VOLUME;
				if (key != given)
					kms_close(key);
				goto out;
			}
			if (r < 0) {
				cli_error("cannot unlock volume: %s", strerror(-r));
				if (key != given)
					kms_close(key);
				goto out;
			}
			*key_out = key;
			*slot_out = i;
			if (given)
				given = NULL; /* transferred */
			code = EXIT_OK;
			goto out;
		}
		/* prefer reporting a denial over an outage: it is the actionable one */
		if (last.status != KMS_DENIED || st == KMS_DENIED || tried == 1)
			last = kerr;
		if (key != given)
			kms_close(key);
		key = NULL;
	}
	if (tried == 0 && only >= 0) {
		cli_error("key slot '%s' of '%s' uses provider '%s', not '%s'",
			  v->desc.slots[only].name, v->backing, v->desc.slots[only].provider,
			  given ? kms_provider_name(given) : "?");
		code = EXIT_KEY_DENIED;
	} else if (tried == 0) {
		cli_error("no key slot of '%s' uses provider '%s'", v->backing,
			  given ? kms_provider_name(given) : "?");
		code = EXIT_KEY_DENIED;
	} else {
		cli_error("%s", last.msg[0] ? last.msg : "no key slot could be unlocked");
		code = cli_kms_exit(last.status);
	}
out:
	kms_close(given);
	secmem_free(vkey);
	return code;
}

int cli_unlock(struct vol *v, const char *keyspec, struct kms_key **key_out, unsigned *slot_out)
{
	return unlock_slots(v, keyspec, -1, key_out, slot_out);
}

int cli_unlock_slot(struct vol *v, unsigned slot, const char *keyspec, struct kms_key **key_out)
{
	unsigned s;

	return unlock_slots(v, keyspec, (int)slot, key_out, &s);
}

int cli_lock_volume(const char *backing, int *fd_out)
{
	int fd = open(backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	*fd_out = -1;
	if (fd < 0) {
		int e = errno;
		cli_error("cannot open backing directory '%s': %s", backing, strerror(e));
		return e == ENOENT || e == ENOTDIR ? EXIT_VOLUME : EXIT_ERROR;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		goto locked;
	if (errno == EWOULDBLOCK) {
		cli_error("waiting for another byokfs command changing '%s'", backing);
		if (flock(fd, LOCK_EX) == 0)
			goto locked;
	}
	/* a store without flock (some network filesystems): go on unlocked */
	if (errno == ENOLCK || errno == EOPNOTSUPP || errno == ENOSYS)
		goto locked;
	cli_error("cannot lock '%s': %s", backing, strerror(errno));
	close(fd);
	return EXIT_ERROR;
locked:
	*fd_out = fd;
	return EXIT_OK;
}

int cli_mounted_from(const char *backing_real)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (!f)
		return 0;
	while (!found && getline(&line, &cap, f) > 0) {
		/* ... - FSTYPE SOURCE OPTIONS: source is fsname=byokfs:<backing> */
		char *dash = strstr(line, " - "), *save = NULL, *type, *src;
		if (!dash)
			continue;
		type = strtok_r(dash + 3, " \n", &save);
		src = strtok_r(NULL, " \n", &save);
		if (!type || !src || strcmp(type, "fuse.byokfs") || strncmp(src, "byokfs:", 7))
			continue;
		/* mountinfo escapes space, tab, newline and backslash as \ooo */
		char *o = src;
		for (char *p = src; *p; p++) {
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
			    p[3] >= '0' && p[3] <= '7') {
				*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
				p += 3;
			} else {
				*o++ = *p;
			}
		}
		*o = '\0';
		found = !strcmp(src + 7, backing_real);
	}
	free(line);
	fclose(f);
	return found;
}

/*
 * Wraps the unlocked volume key under key into blob and checks that the
 * provider gives it back. Returns an exit code.
 */
int cli_wrap_vkey(struct vol *v, struct kms_key *key, uint8_t *blob, size_t *bloblen)
{
	uint8_t *vkey = secmem_alloc(KMS_KEY_BYTES), *check = secmem_alloc(KMS_KEY_BYTES);
	struct kms_err kerr = {0};
	enum kms_status s;
	int code = EXIT_ERROR;

	if (!vkey || !check) {
		cli_error("out of secure memory");
		goto out;
	}
	if (vol_gate_enter(v) < 0) {
		cli_error("the volume is not unlocked");
		goto out;
	}
	memcpy(vkey, v->keys->volume, KMS_KEY_BYTES);
	vol_gate_leave(v);
	s = kms_wrap(key, v->volume_id_hex, vkey, blob, bloblen, &kerr);
	if (s != KMS_OK) {
		cli_error("%s", kerr.msg);
		code = cli_kms_exit(s);
		goto out;
	}
	/* a slot that does not open the volume must never be stored */
	s = kms_unwrap(key, v->volume_id_hex, blob, *bloblen, check, &kerr);
	if (s != KMS_OK) {
		cli_error("the new key cannot unwrap what it wrapped: %s", kerr.msg);
		code = cli_kms_exit(s);
		goto out;
	}
	if (sodium_memcmp(vkey, check, KMS_KEY_BYTES) != 0) {
		cli_error("the key provider returned a different key than it wrapped: nothing changed");
		code = EXIT_KEY_DENIED;
		goto out;
	}
	code = EXIT_OK;
out:
	secmem_free(vkey);
	secmem_free(check);
	secmem_wipe_stack();
	return code;
}

/* ---- progress ---- */

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_init(struct cli_progress *p, const char *what)
{
	const char *every = getenv("BYOKFS_PROGRESS_EVERY");
	char *end;

	memset(p, 0, sizeof(*p));
	p->what = what;
	p->start = mono();
	p->tty = isatty(STDERR_FILENO);
	p->every = p->tty ? 0.2 : 5.0;
	p->delay = 2.0;
	if (every && *every) {
		double e = strtod(every, &end);
		if (!*end && e >= 0) {
			p->every = e;
			p->delay = e < p->delay ? e : p->delay;
		}
	}
	p->last = -1;
}

static void fmt_secs(double s, char *out, size_t cap)
{
	unsigned long t = s > 0 ? (unsigned long)(s + 0.5) : 0;
	if (t >= 3600)
		snprintf(out, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(out, cap, "%lu:%02lu", t / 60, t % 60);
}

void cli_progress_update(struct cli_progress *p, uint64_t done, uint64_t total, uint64_t done_bytes,
			 uint64_t total_bytes)
{
	double t = mono(), el = t - p->start;
	char left[32] = "?";

	if (el < p->delay || (p->last >= 0 && t - p->last < p->every))
		return;
	p->last = t;
	double rate = el > 0 ? (double)done / el : 0;
	/* time left by bytes when known: files differ in size */
	double frac = total_bytes ? (double)done_bytes / (double)total_bytes
				  : total ? (double)done / (double)total : 0;
	if (frac > 1)
		frac = 1;
	if (frac > 0)
		fmt_secs(el * (1 - frac) / frac, left, sizeof(left));
	if (p->tty) {
		char bar[31];
		int fill = (int)(frac * 30);
		for (int i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[30] = '\0';
		fprintf(stderr, "\r\033[K%s [%s] %llu/%llu files, %.0f files/s, %s left", p->what, bar,
			(unsigned long long)done, (unsigned long long)total, rate, left);
		p->drawn = 1;
	} else {
		fprintf(stderr, "byokfs: %s: %llu/%llu files, %.0f files/s, %s left\n", p->what,
			(unsigned long long)done, (unsigned long long)total, rate, left);
	}
	fflush(stderr);
}

void cli_progress_done(struct cli_progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = 0;
}
