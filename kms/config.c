/* SPDX-License-Identifier: MIT */
/*
 * byokfs.conf (see config.h). One table of settings drives parsing and
 * merging; each section is stored as a struct kms_settings whose unset
 * fields are "" or negative.
 */
#include "kms/config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/secmem.h"
#include "kms/ini.h"

#define CONFIG_FILE_MAX (64 * 1024)

enum { SEC_MOUNT, SEC_KMS, SEC_AWS, SEC_VAULT, SEC_N };
static const char *const sec_names[SEC_N] = {"mount", "kms", "aws-kms", "vault-transit"};

enum kind { STR, PATHNAME, SECONDS, COUNT, BOOL };

#define M(f) offsetof(struct kms_settings, f), sizeof(((struct kms_settings *)0)->f)
static const struct setting {
	const char *name;
	enum kind kind;
	size_t off, size;
	unsigned sections; /* bit per SEC_* */
	double min, max;
} settings[] = {
	{"lease", SECONDS, M(lease), 1u << SEC_MOUNT | 1u << SEC_AWS | 1u << SEC_VAULT, 0.2, 86400},
	{"connect_timeout", SECONDS, M(connect_timeout), 1u << SEC_KMS | 1u << SEC_AWS | 1u << SEC_VAULT, 0.05, 600},
	{"timeout", SECONDS, M(timeout), 1u << SEC_KMS | 1u << SEC_AWS | 1u << SEC_VAULT, 0.05, 600},
	{"retry_budget", SECONDS, M(retry_budget), 1u << SEC_KMS | 1u << SEC_AWS | 1u << SEC_VAULT, 0.05, 3600},
	{"max_attempts", COUNT, M(max_attempts), 1u << SEC_KMS | 1u << SEC_AWS | 1u << SEC_VAULT, 1, 20},
	{"ca_bundle", PATHNAME, M(ca_bundle), 1u << SEC_KMS | 1u << SEC_AWS | 1u << SEC_VAULT, 0, 0},
	{"ca_path", PATHNAME, M(ca_path), 1u << SEC_KMS | 1u << SEC_AWS | 1u << SEC_VAULT, 0, 0},
	{"region", STR, M(region), 1u << SEC_AWS, 0, 0},
	{"endpoint", STR, M(endpoint), 1u << SEC_AWS, 0, 0},
	{"profile", STR, M(profile), 1u << SEC_AWS, 0, 0},
	{"imds", BOOL, M(imds), 1u << SEC_AWS, 0, 0},
	{"address", STR, M(endpoint), 1u << SEC_VAULT, 0, 0},
	{"namespace", STR, M(vault_namespace), 1u << SEC_VAULT, 0, 0},
	{"token_file", PATHNAME, M(token_file), 1u << SEC_VAULT, 0, 0},
};

static struct {
	struct kms_settings sec[SEC_N];
	char sources[2 * PATH_MAX + 8];
	char err[PATH_MAX + 200];
	int bad;
} cfg;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void unset(struct kms_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->imds = -1;
	s->connect_timeout = s->timeout = s->retry_budget = s->lease = -1;
	s->max_attempts = -1;
}

struct parse {
	const char *path;
	char err[PATH_MAX + 200];
};

__attribute__((format(printf, 3, 4))) static int fail(struct parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	char what[300];

	if (!p->err[0]) {
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		snprintf(p->err, sizeof(p->err), "%s line %d: %s", p->path, line, what);
	}
	return 0;
}

static int on_setting(void *u, const char *section, const char *name, const char *value, int continued,
		      int line)
{
	struct parse *p = u;
	int sec = -1;
	const struct setting *st = NULL;
	char *dst, *end;

	for (int i = 0; i < SEC_N; i++)
		if (!strcmp(section, sec_names[i]))
			sec = i;
	if (sec < 0)
		return fail(p, line, "unknown section [%s] (mount, kms, aws-kms, vault-transit)", section);
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (!strcmp(name, settings[i].name) && (settings[i].sections & (1u << sec)))
			st = &settings[i];
	if (!st)
		return fail(p, line, "unknown setting '%s' in [%s]", name, section);
	dst = (char *)&cfg.sec[sec] + st->off;
	switch (st->kind) {
	case STR:
	case PATHNAME: {
		size_t have = continued ? strlen(dst) : 0;
		if (have + strlen(value) >= st->size)
			return fail(p, line, "value of '%s' too long", name);
		strcpy(dst + have, value);
		if (st->kind == PATHNAME && dst[0] != '/')
			return fail(p, line, "'%s' must be an absolute path, not '%s'", name, dst);
		break;
	}
	case SECONDS: {
		double v = strtod(value, &end);
		if (!*value || *end || !(v >= st->min && v <= st->max))
			return fail(p, line, "bad value '%s' for '%s'", value, name);
		*(double *)dst = v;
		break;
	}
	case COUNT: {
		long v = strtol(value, &end, 10);
		if (!*value || *end || v < (long)st->min || v > (long)st->max)
			return fail(p, line, "bad value '%s' for '%s'", value, name);
		*(int *)dst = (int)v;
		break;
	}
	case BOOL:
		if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") || !strcmp(value, "1") ||
		    !strcasecmp(value, "on"))
			*(int *)dst = 1;
		else if (!strcasecmp(value, "false") || !strcasecmp(value, "no") || !strcmp(value, "0") ||
			 !strcasecmp(value, "off"))
			*(int *)dst = 0;
		else
			return fail(p, line, "bad value '%s' for '%s' (true or false)", value, name);
		break;
	}
	return 1;
}

/* 0 read or absent, -1 with cfg.err */
static int read_one(const char *path)
{
	struct parse p = {.path = path};
	char *text;
	size_t len;
	struct stat st;
	int r = kms_read_file(path, CONFIG_FILE_MAX, 0, &text, &len, &st);

	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0) {
		snprintf(cfg.err, sizeof(cfg.err), "cannot read '%s': %s", path,
			 r == -EFBIG ? "larger than 64 KiB" : strerror(-r));
		return -1;
	}
	if ((st.st_mode & 022) || (st.st_uid != 0 && st.st_uid != geteuid())) {
		snprintf(cfg.err, sizeof(cfg.err),
			 "refusing '%s': writable by group or others, or owned by another user", path);
		secmem_free(text);
		return -1;
	}
	r = kms_ini_parse(text, len, on_setting, &p);
	secmem_free(text);
	if (p.err[0]) {
		snprintf(cfg.err, sizeof(cfg.err), "%s", p.err);
		return -1;
	}
	if (r) {
		snprintf(cfg.err, sizeof(cfg.err), "%s line %d: syntax error", path, r);
		return -1;
	}
	size_t n = strlen(cfg.sources);
	snprintf(cfg.sources + n, sizeof(cfg.sources) - n, "%s%s", n ? ", " : "", path);
	return 0;
}

static void load(void)
{
	const char *env = getenv("BYOKFS_CONFIG");
	char user[PATH_MAX];
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	for (int i = 0; i < SEC_N; i++)
		unset(&cfg.sec[i]);
	if (env) {
		if (*env && read_one(env) < 0)
			cfg.bad = 1;
		return;
	}
	if (read_one(CONFIG_SYSTEM_FILE) < 0) {
		cfg.bad = 1;
		return;
	}
	if (xdg && xdg[0] == '/')
		snprintf(user, sizeof(user), "%s/byokfs/byokfs.conf", xdg);
	else if (home && home[0] == '/')
		snprintf(user, sizeof(user), "%s/.config/byokfs/byokfs.conf", home);
	else
		return;
	if (read_one(user) < 0)
		cfg.bad = 1;
}

int config_load(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (cfg.bad) {
		snprintf(err, errlen, "%s", cfg.err);
		return -1;
	}
	return 0;
}

/* Copies the fields set in src over dst. */
static void merge(struct kms_settings *dst, const struct kms_settings *src)
{
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		const struct setting *st = &settings[i];
		const char *s = (const char *)src + st->off;
		char *d = (char *)dst + st->off;
		switch (st->kind) {
		case STR:
		case PATHNAME:
			if (s[0])
				memcpy(d, s, st->size);
			break;
		case SECONDS:
			if (*(const double *)s >= 0)
				*(double *)d = *(const double *)s;
			break;
		case COUNT:
		case BOOL:
			if (*(const int *)s >= 0)
				*(int *)d = *(const int *)s;
			break;
		}
	}
}

int config_provider(const char *name, struct kms_settings *out, char *err, size_t errlen)
{
	int sec = -1;

	memset(out, 0, sizeof(*out));
	out->imds = 1;
	out->connect_timeout = CONFIG_DEFAULT_CONNECT_TIMEOUT;
	out->timeout = CONFIG_DEFAULT_TIMEOUT;
	out->retry_budget = CONFIG_DEFAULT_RETRY_BUDGET;
	out->max_attempts = CONFIG_DEFAULT_MAX_ATTEMPTS;
	out->lease = 0;
	if (config_load(err, errlen) < 0)
		return -1;
	for (int i = 0; i < SEC_N; i++)
		if (name && !strcmp(name, sec_names[i]))
			sec = i;
	merge(out, &cfg.sec[SEC_KMS]);
	if (sec == SEC_AWS || sec == SEC_VAULT)
		merge(out, &cfg.sec[sec]);
	if (out->lease < 0)
		out->lease = 0;
	return 0;
}

double config_default_lease(const char *provider)
{
	pthread_once(&once, load);
	if (cfg.bad)
		return CONFIG_DEFAULT_LEASE;
	for (int i = SEC_AWS; i < SEC_N; i++)
		if (provider && !strcmp(provider, sec_names[i]) && cfg.sec[i].lease > 0)
			return cfg.sec[i].lease;
	if (cfg.sec[SEC_MOUNT].lease > 0)
		return cfg.sec[SEC_MOUNT].lease;
	return CONFIG_DEFAULT_LEASE;
}

const char *config_sources(void)
{
	pthread_once(&once, load);
	return cfg.sources;
}
