/* SPDX-License-Identifier: MIT */
/* Control socket paths (see ctlpath.h). */
#include "fs/ctlpath.h"

#include <errno.h>
#include <glob.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Removes "//", "/./" and "dir/.." from an absolute path, without lookups. */
static void lexical_normalise(const char *in, char out[PATH_MAX])
{
	char buf[PATH_MAX], *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", in);
	out[0] = '\0';
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			char *slash = strrchr(out, '/');
			n = slash ? (size_t)(slash - out) : 0;
			out[n] = '\0';
			continue;
		}
		n += (size_t)snprintf(out + n, PATH_MAX - n, "/%s", c);
	}
	if (!out[0])
		strcpy(out, "/");
}

int ctl_canonical(const char *mp, char out[PATH_MAX])
{
	char buf[PATH_MAX], parent[PATH_MAX];
	size_t n;
	char *slash, *base;

	if (snprintf(buf, sizeof(buf), "%s", mp) >= (int)sizeof(buf) || !*buf)
		return -ENAMETOOLONG;
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	if (!strcmp(buf, "/")) {
		strcpy(out, "/");
		return 0;
	}
	slash = strrchr(buf, '/');
	if (!slash) {
		base = buf;
		strcpy(parent, ".");
	} else {
		*slash = '\0';
		base = slash + 1;
		snprintf(parent, sizeof(parent), "%s", slash == buf ? "/" : buf);
	}
	if (!strcmp(base, ".") || !strcmp(base, "..")) {
		/* resolve fully: the parent side of such a path is ambiguous */
		if (!realpath(mp, out))
			return -errno;
		return 0;
	}
	char real[PATH_MAX];
	if (!realpath(parent, real)) {
		/* a parent we may not search (another user's 0700 directory):
		 * use the absolute path as written, normalised */
		if ((errno != EACCES && errno != EPERM) || parent[0] != '/')
			return -errno;
		lexical_normalise(parent, real);
	}
	if (snprintf(out, PATH_MAX, "%s/%s", strcmp(real, "/") ? real : "", base) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

void ctl_own_dir(char out[PATH_MAX])
{
	const char *env = getenv("BYOKFS_RUN_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");

	if (env && *env)
		snprintf(out, PATH_MAX, "%s", env);
	else if (geteuid() == 0)
		snprintf(out, PATH_MAX, "/run/byokfs");
	else if (xdg && *xdg == '/')
		snprintf(out, PATH_MAX, "%s/byokfs", xdg);
	else
		snprintf(out, PATH_MAX, "/tmp/byokfs-%u", (unsigned)geteuid());
}

void ctl_sock_name(const char *canonical, char out[64])
{
	uint8_t h[16];
	char hex[33];

	crypto_generichash(h, sizeof(h), (const uint8_t *)canonical, strlen(canonical), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, 64, "%s.sock", hex);
}

static int try_dir(const char *dir, const char *name, char out[PATH_MAX])
{
	struct stat st;
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		return -ENAMETOOLONG;
	return lstat(out, &st) == 0 && S_ISSOCK(st.st_mode) ? 0 : -ENOENT;
}

int ctl_find(const char *canonical, char out[PATH_MAX])
{
	char name[64], dir[PATH_MAX];
	const char *env = getenv("BYOKFS_RUN_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	static const char *patterns[] = {"/run/user/*/byokfs", "/tmp/byokfs-*"};

	ctl_sock_name(canonical, name);
	if (env && *env && try_dir(env, name, out) == 0)
		return 0;
	if (try_dir("/run/byokfs", name, out) == 0)
		return 0;
	if (xdg && *xdg == '/') {
		snprintf(dir, sizeof(dir), "%s/byokfs", xdg);
		if (try_dir(dir, name, out) == 0)
			return 0;
	}
	snprintf(dir, sizeof(dir), "/tmp/byokfs-%u", (unsigned)geteuid());
	if (try_dir(dir, name, out) == 0)
		return 0;
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		glob_t g;
		if (glob(patterns[i], GLOB_ONLYDIR, NULL, &g) != 0)
			continue;
		for (size_t k = 0; k < g.gl_pathc; k++) {
			if (try_dir(g.gl_pathv[k], name, out) == 0) {
				globfree(&g);
				return 0;
			}
		}
		globfree(&g);
	}
	return -ENOENT;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/*
 * Finds the byokfs mount at canonical in /proc/self/mountinfo. 1 and, if
 * dev is not NULL, its "major:minor" in dev; 0 if there is none.
 */
static int find_mount(const char *canonical, char dev[32])
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (!f)
		return 0;
	while (!found && getline(&line, &cap, f) > 0) {
		/* id parent major:minor root MOUNTPOINT options ... - FSTYPE source ... */
		char *save = NULL, *mp = NULL, *mm = NULL, *tok;
		int field = 0, after_dash = 0;
		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			field++;
			if (field == 3)
				mm = tok;
			if (field == 5)
				mp = tok;
			if (after_dash) {
				if (mp && !strcmp(tok, "fuse.byokfs")) {
					unescape(mp);
					found = !strcmp(mp, canonical);
					if (found && dev && mm)
						snprintf(dev, 32, "%s", mm);
				}
				break;
			}
			if (!strcmp(tok, "-"))
				after_dash = 1;
		}
	}
	free(line);
	fclose(f);
	return found;
}

int ctl_is_mounted(const char *canonical)
{
	return find_mount(canonical, NULL);
}

int ctl_mount_dev(const char *canonical, char dev[32])
{
	return find_mount(canonical, dev);
}
