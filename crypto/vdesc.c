/* SPDX-License-Identifier: MIT */
/*
 * Volume descriptor: INI parsing with inih, rendering, MAC and atomic store.
 *
 * Debian's inih reads lines of at most 200 bytes, so long values (key ids,
 * wrapped keys) are written in chunks of at most 64 characters on indented
 * continuation lines, which inih hands to the handler one by one; the
 * handler concatenates them. Chunks never start or end with whitespace,
 * because inih strips it.
 */
#include "crypto/vdesc.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/b64.h"

#define CHUNK 64
#define LINE_MAX_CHARS 199 /* the longest line Debian's inih reads whole */
#define B64 sodium_base64_VARIANT_ORIGINAL
#define MAC_DOMAIN "byokfs volume descriptor v1\n"

struct parse_state {
	struct vdesc *d;
	char *err;
	size_t errlen;
	int failed;
	unsigned seen;          /* bit per [volume] field */
	char *b64[VDESC_MAX_SLOTS]; /* wrapped_key text being accumulated */
	char *rekey_b64;            /* [rekey] previous_key text being accumulated */
	unsigned rekey_seen;        /* bit 1: from_epoch, bit 2: previous_key */
	char cur_section[80];
};

enum {
	F_FORMAT = 1, F_ID = 2, F_CIPHER = 4, F_BLOCK = 8, F_NAMES = 16,
	F_LONGNAME = 32, F_EPOCH = 64, F_CREATED = 128, F_MAC = 256,
	F_ALL = 511,
};

static int fail(struct parse_state *ps, const char *fmt, ...)
{
	if (!ps->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ps->err, ps->errlen, fmt, ap);
		va_end(ap);
		/* reasons quote values from the file: no terminal control bytes */
		for (char *p = ps->err; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	ps->failed = 1;
	return 0;
}

void vdesc_id_hex(const struct vdesc *d, char out[2 * BYOKFS_VOLUME_ID_BYTES + 1])
{
	sodium_bin2hex(out, 2 * BYOKFS_VOLUME_ID_BYTES + 1, d->id, BYOKFS_VOLUME_ID_BYTES);
}

int vdesc_value_ok(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > VDESC_KEY_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c == ';' && i > 0 && (v[i - 1] == ' ' || v[i - 1] == '\t'))
			return 0;
	}
	return v[0] != ' ' && v[n - 1] != ' ' && v[0] != '[' && v[0] != ';' && v[0] != '#';
}

static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
	char *end;
	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (errno || *end || x > max)
		return -1;
	*out = x;
	return 0;
}

static int append(char **dst, const char *v, size_t max)
{
	size_t old = *dst ? strlen(*dst) : 0, n = strlen(v);
	if (old + n > max)
		return -1;
	char *p = realloc(*dst, old + n + 1);
	if (!p)
		return -1;
	memcpy(p + old, v, n + 1);
	*dst = p;
	return 0;
}

static int volume_field(struct parse_state *ps, const char *name, const char *v)
{
	struct vdesc *d = ps->d;
	unsigned long x;
	size_t len;
	unsigned bit;

	if (!strcmp(name, "format")) {
		bit = F_FORMAT;
		if (parse_uint(v, UINT_MAX, &x) < 0)
			return fail(ps, "bad format version '%s'", v);
		if (x != BYOKFS_FORMAT_VERSION)
			return fail(ps, "unsupported format version %lu (this byokfs reads %d)", x,
				    BYOKFS_FORMAT_VERSION);
		d->format = (unsigned)x;
	} else if (!strcmp(name, "id")) {
		bit = F_ID;
		if (strlen(v) != 2 * BYOKFS_VOLUME_ID_BYTES ||
		    sodium_hex2bin(d->id, sizeof(d->id), v, strlen(v), NULL, &len, NULL) != 0 ||
		    len != sizeof(d->id))
			return fail(ps, "bad volume id '%s'", v);
	} else if (!strcmp(name, "cipher")) {
		bit = F_CIPHER;
		d->cipher = cipher_from_name(v);
		if (d->cipher == CIPHER_NONE)
			return fail(ps, "unknown cipher '%s'", v);
	} else if (!strcmp(name, "block_size")) {
		bit = F_BLOCK;
		if (parse_uint(v, 1UL << BYOKFS_BLOCK_SHIFT_MAX, &x) < 0 || x == 0 || (x & (x - 1)))
			return fail(ps, "bad block_size '%s'", v);
		d->block_shift = (unsigned)__builtin_ctzl(x);
		if (d->block_shift < BYOKFS_BLOCK_SHIFT_MIN)
			return fail(ps, "bad block_size '%s'", v);
	} else if (!strcmp(name, "names")) {
		bit = F_NAMES;
		if (strcmp(v, VDESC_NAMES_SCHEME))
			return fail(ps, "unknown name scheme '%s'", v);
	} else if (!strcmp(name, "longname_max")) {
		bit = F_LONGNAME;
		if (parse_uint(v, 255, &x) < 0 || x < 64)
			return fail(ps, "bad longname_max '%s' (64..255)", v);
		d->longname_max = (unsigned)x;
	} else if (!strcmp(name, "key_epoch")) {
		bit = F_EPOCH;
		if (parse_uint(v, UINT32_MAX, &x) < 0)
			return fail(ps, "bad key_epoch '%s'", v);
		d->key_epoch = (uint32_t)x;
	} else if (!strcmp(name, "created")) {
		bit = F_CREATED;
		if (strlen(v) >= sizeof(d->created) || !vdesc_value_ok(v))
			return fail(ps, "bad created '%s'", v);
		strcpy(d->created, v);
	} else if (!strcmp(name, "mac")) {
		bit = F_MAC;
		if (!b64_ascii(v, strlen(v)) ||
		    sodium_base642bin(d->mac, sizeof(d->mac), v, strlen(v), NULL, &len, NULL, B64) != 0 ||
		    len != sizeof(d->mac))
			return fail(ps, "bad mac");
	} else {
		return fail(ps, "unknown field '%s' in [volume]", name);
	}
	if (ps->seen & bit)
		return fail(ps, "duplicate field '%s' in [volume]", name);
	ps->seen |= bit;
	return 1;
}

static int slot_field(struct parse_state *ps, const char *sname, const char *name, const char *v)
{
	struct vdesc *d = ps->d;
	struct vslot *s = NULL;
	unsigned i;

	for (i = 0; i < d->nslots && !s; i++)
		if (!strcmp(d->slots[i].name, sname))
			s = &d->slots[i];
	if (s) {
		i = (unsigned)(s - d->slots);
	} else {
		if (d->nslots == VDESC_MAX_SLOTS)
			return fail(ps, "more than %d key slots", VDESC_MAX_SLOTS);
		if (strlen(sname) == 0 || strlen(sname) > VDESC_SLOT_NAME_MAX ||
		    strspn(sname, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
			    strlen(sname))
			return fail(ps, "bad key slot name '%s'", sname);
		i = d->nslots++;
		s = &d->slots[i];
		strcpy(s->name, sname);
	}
	if (!strcmp(name, "provider")) {
		if (s->provider[0] || strlen(v) > VDESC_PROVIDER_MAX)
			return fail(ps, "bad provider in slot '%s'", sname);
		strcpy(s->provider, v);
	} else if (!strcmp(name, "key_id")) {
		if (append(&s->key_id, v, VDESC_KEY_ID_MAX) < 0)
			return fail(ps, "key_id too long in slot '%s'", sname);
	} else if (!strcmp(name, "wrapped_key")) {
		if (append(&ps->b64[i], v, VDESC_WRAPPED_MAX * 4 / 3 + 4) < 0)
			return fail(ps, "wrapped_key too long in slot '%s'", sname);
	} else {
		return fail(ps, "unknown field '%s' in slot '%s'", name, sname);
	}
	return 1;
}

static int rekey_field(struct parse_state *ps, const char *name, const char *v)
{
	unsigned long x;

	ps->d->rekey = 1;
	if (!strcmp(name, "from_epoch")) {
		if ((ps->rekey_seen & 1) || parse_uint(v, UINT32_MAX, &x) < 0)
			return fail(ps, "bad from_epoch in [rekey]");
		ps->d->rekey_from_epoch = (uint32_t)x;
		ps->rekey_seen |= 1;
	} else if (!strcmp(name, "previous_key")) {
		/* continuation lines arrive as more values of the same name */
		if (append(&ps->rekey_b64, v, 4 * VDESC_REKEY_PREV_BYTES) < 0)
			return fail(ps, "previous_key too long in [rekey]");
		ps->rekey_seen |= 2;
	} else {
		return fail(ps, "unknown field '%s' in [rekey]", name);
	}
	return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;

	if (ps->failed)
		return 0;
	if (!strcmp(section, "volume"))
		return volume_field(ps, name, value);
	if (!strcmp(section, "rekey"))
		return rekey_field(ps, name, value);
	if (!strncmp(section, "slot ", 5))
		return slot_field(ps, section + 5, name, value);
	return fail(ps, "unknown section [%s]", section);
}

int vdesc_parse(struct vdesc *d, const char *text, char *err, size_t errlen)
{
	struct parse_state ps = {.d = d, .err = err, .errlen = errlen};
	int r;

	memset(d, 0, sizeof(*d));
	r = ini_parse_string(text, handler, &ps);
	if (r != 0 && !ps.failed)
		fail(&ps, "syntax error on line %d", r);
	if (!ps.failed && (ps.seen & F_ALL) != F_ALL)
		fail(&ps, "missing field in [volume]");
	if (!ps.failed && d->nslots == 0)
		fail(&ps, "no key slot");
	for (unsigned i = 0; i < d->nslots && !ps.failed; i++) {
		struct vslot *s = &d->slots[i];
		size_t cap, len;
		if (!s->provider[0] || !s->key_id || !ps.b64[i]) {
			fail(&ps, "incomplete key slot '%s'", s->name);
			break;
		}
		/* what vdesc_add_slot() would refuse does not survive a rewrite:
		 * inih strips whitespace (\v, \f...) where a value is split */
		if (!vdesc_value_ok(s->provider) || !vdesc_value_ok(s->key_id)) {
			fail(&ps, "bad provider or key_id in slot '%s'", s->name);
			break;
		}
		cap = strlen(ps.b64[i]);
		s->wrapped = malloc(cap + 1);
		if (!s->wrapped || !b64_ascii(ps.b64[i], cap) ||
		    sodium_base642bin(s->wrapped, cap + 1, ps.b64[i], cap, NULL, &len, NULL, B64) != 0 ||
		    len == 0) {
			fail(&ps, "bad wrapped_key in slot '%s'", s->name);
			break;
		}
		s->wrapped_len = len;
	}
	if (!ps.failed && d->rekey) {
		size_t len;
		if (ps.rekey_seen != 3 || !b64_ascii(ps.rekey_b64, strlen(ps.rekey_b64)) ||
		    sodium_base642bin(d->rekey_prev, sizeof(d->rekey_prev), ps.rekey_b64,
				      strlen(ps.rekey_b64), NULL, &len, NULL, B64) != 0 ||
		    len != sizeof(d->rekey_prev))
			fail(&ps, "bad [rekey] section");
		else if (d->rekey_from_epoch == d->key_epoch)
			fail(&ps, "[rekey] from_epoch equals key_epoch");
	}
	free(ps.rekey_b64);
	for (unsigned i = 0; i < VDESC_MAX_SLOTS; i++)
		free(ps.b64[i]);
	if (ps.failed) {
		vdesc_release(d);
		return -EBADMSG;
	}
	return 0;
}

int vdesc_load(struct vdesc *d, const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	char *text = NULL;
	int fd, r;

	memset(d, 0, sizeof(*d));
	snprintf(path, sizeof(path), "%s/%s", dir, VDESC_FILE);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 256 * 1024) {
		snprintf(err, errlen, "'%s' is not a volume descriptor", path);
		r = -EBADMSG;
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EBADMSG;
			snprintf(err, errlen, "cannot read '%s': %s", path,
				 n < 0 ? strerror(errno) : "short read");
			goto out;
		}
		got += (size_t)n;
	}
	text[got] = '\0';
	if (strlen(text) != got) {
		snprintf(err, errlen, "corrupt volume descriptor '%s': NUL byte", path);
		r = -EBADMSG;
		goto out;
	}
	char perr[200];
	r = vdesc_parse(d, text, perr, sizeof(perr));
	if (r < 0)
		snprintf(err, errlen, "corrupt volume descriptor '%s': %s", path, perr);
out:
	free(text);
	close(fd);
	return r;
}

/*
 * 1 if v may be split before v[j]: inih strips whitespace at both ends of
 * a line and takes a line starting with ';' or '#' for a comment.
 */
static int split_ok(const char *v, size_t j)
{
	return v[j - 1] != ' ' && v[j] != ' ' && v[j] != ';' && v[j] != '#';
}

/* 1 if v may start a continuation line (or the value) at v[0] */
static int starts_ok(const char *v)
{
	return v[0] != ' ' && v[0] != ';' && v[0] != '#';
}

/* 1 if a piece may end before v[j]: at the end, or at a clean split after
 * which the rest can still be written (fits[], see mark_fits) */
static int piece_end_ok(const char *v, size_t n, size_t j, const unsigned char *fits)
{
	return j == n || (split_ok(v, j) && fits[j]);
}

/* fits[k] = 1 if v[k..n) can be written on continuation lines of `cont` characters */
static void mark_fits(const char *v, size_t n, size_t cont, unsigned char *fits)
{
	fits[n] = 1;
	for (size_t k = n; k-- > 0;) {
		fits[k] = 0;
		for (size_t t = 1; t <= cont && k + t <= n && !fits[k]; t++)
			fits[k] = piece_end_ok(v, n, k + t, fits);
	}
}

/*
 * The length of the next piece of v[i..n) on a line with room for `room`
 * characters: the longest of at most CHUNK characters that may end there,
 * else the shortest longer one. 0 if there is none.
 */
static size_t next_piece(const char *v, size_t n, size_t i, size_t room, const unsigned char *fits)
{
	size_t t, max = n - i < room ? n - i : room;

	if (max == n - i && max <= CHUNK)
		return max;
	for (t = max < CHUNK ? max : CHUNK; t >= 1; t--)
		if (piece_end_ok(v, n, i + t, fits))
			return t;
	for (t = CHUNK + 1; t <= max; t++)
		if (piece_end_ok(v, n, i + t, fits))
			return t;
	return 0;
}

/*
 * Appends "name = value" with long values split on continuation lines:
 * pieces of at most CHUNK characters where a clean split exists, longer
 * ones, up to what inih reads whole, where none does. Every split is
 * chosen so that the rest can still be written; a value whose first piece
 * does not fit after "name = " starts on the next line, and continuation
 * lines are indented by one space instead of two when only that leaves
 * room, so that any value read from a descriptor can be written back. -1
 * if a value cannot be written so that it reads back the same.
 */
static int put_value(FILE *f, const char *name, const char *v)
{
	size_t n = strlen(v), i = 0, t = 0, indent;
	size_t first = LINE_MAX_CHARS - strlen(name) - 3; /* "name = " */
	size_t cont = 0;
	unsigned char *fits = malloc(n + 1);
	int empty_first = 0;

	if (!fits)
		return -1;
	for (indent = 2; indent >= 1; indent--) {
		cont = LINE_MAX_CHARS - indent;
		mark_fits(v, n, cont, fits);
		t = next_piece(v, n, 0, first, fits);
		if (t > 0 || n == 0)
			break;
		if (fits[0] && starts_ok(v)) {
			empty_first = 1;
			t = next_piece(v, n, 0, cont, fits);
			break;
		}
	}
	if (indent == 0) {
		free(fits);
		return -1;
	}
	fprintf(f, "%s = ", name);
	if (empty_first)
		fprintf(f, "\n%*s", (int)indent, "");
	while (i < n) {
		if (t == 0) { /* cannot happen: fits[] promised a piece */
			free(fits);
			return -1;
		}
		if (i > 0)
			fprintf(f, "\n%*s", (int)indent, "");
		fwrite(v + i, 1, t, f);
		i += t;
		if (i < n)
			t = next_piece(v, n, i, cont, fits);
	}
	fputc('\n', f);
	free(fits);
	return 0;
}

static char *b64(const uint8_t *bin, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, B64);
	char *s = malloc(cap);
	if (s)
		sodium_bin2base64(s, cap, bin, len, B64);
	return s;
}

char *vdesc_format(const struct vdesc *d)
{
	char *buf = NULL, hex[2 * BYOKFS_VOLUME_ID_BYTES + 1];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char *mac;
	int bad = 0;

	if (!f)
		return NULL;
	vdesc_id_hex(d, hex);
	mac = b64(d->mac, sizeof(d->mac));
	fputs("; byokfs volume descriptor, written by byokfs. Do not edit: every value\n"
	      "; is authenticated by 'mac' with a key derived from the volume key.\n"
	      "; Format: docs/FORMAT.md\n\n[volume]\n", f);
	fprintf(f, "format = %u\nid = %s\ncipher = %s\nblock_size = %lu\nnames = %s\n"
		   "longname_max = %u\nkey_epoch = %u\ncreated = %s\nmac = %s\n",
		d->format, hex, cipher_name(d->cipher), 1UL << d->block_shift, VDESC_NAMES_SCHEME,
		d->longname_max, d->key_epoch, d->created, mac ? mac : "");
	free(mac);
	if (d->rekey) {
		char *pk = b64(d->rekey_prev, sizeof(d->rekey_prev));
		fprintf(f, "\n; a rekey is unfinished: run byokfs rekey again to finish it\n"
			   "[rekey]\nfrom_epoch = %u\n", d->rekey_from_epoch);
		if (!pk || put_value(f, "previous_key", pk) < 0)
			bad = 1;
		free(pk);
	}
	for (unsigned i = 0; i < d->nslots; i++) {
		const struct vslot *s = &d->slots[i];
		char *w = b64(s->wrapped, s->wrapped_len);
		fprintf(f, "\n[slot %s]\nprovider = %s\n", s->name, s->provider);
		if (put_value(f, "key_id", s->key_id) < 0 || put_value(f, "wrapped_key", w ? w : "") < 0)
			bad = 1;
		free(w);
	}
	if (fclose(f) != 0 || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void mac_str(crypto_generichash_state *st, const char *name, const char *v)
{
	crypto_generichash_update(st, (const uint8_t *)name, strlen(name));
	crypto_generichash_update(st, (const uint8_t *)"=", 1);
	crypto_generichash_update(st, (const uint8_t *)v, strlen(v));
	crypto_generichash_update(st, (const uint8_t *)"\n", 1);
}

static void vdesc_compute_mac(const struct vdesc *d, const uint8_t key[BYOKFS_KEY_BYTES],
			      uint8_t out[VDESC_MAC_BYTES])
{
	crypto_generichash_state st;
	char hex[2 * BYOKFS_VOLUME_ID_BYTES + 1], num[32];

	crypto_generichash_init(&st, key, BYOKFS_KEY_BYTES, VDESC_MAC_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)MAC_DOMAIN, strlen(MAC_DOMAIN));
	snprintf(num, sizeof(num), "%u", d->format);
	mac_str(&st, "format", num);
	vdesc_id_hex(d, hex);
	mac_str(&st, "id", hex);
	mac_str(&st, "cipher", cipher_name(d->cipher));
	snprintf(num, sizeof(num), "%lu", 1UL << d->block_shift);
	mac_str(&st, "block_size", num);
	mac_str(&st, "names", VDESC_NAMES_SCHEME);
	snprintf(num, sizeof(num), "%u", d->longname_max);
	mac_str(&st, "longname_max", num);
	snprintf(num, sizeof(num), "%u", d->key_epoch);
	mac_str(&st, "key_epoch", num);
	mac_str(&st, "created", d->created);
	if (d->rekey) {
		char *pk = b64(d->rekey_prev, sizeof(d->rekey_prev));
		snprintf(num, sizeof(num), "%u", d->rekey_from_epoch);
		mac_str(&st, "rekey_from_epoch", num);
		mac_str(&st, "rekey_previous_key", pk ? pk : "");
		free(pk);
	}
	for (unsigned i = 0; i < d->nslots; i++) {
		const struct vslot *s = &d->slots[i];
		char *w = b64(s->wrapped, s->wrapped_len);
		mac_str(&st, "slot", s->name);
		mac_str(&st, "provider", s->provider);
		mac_str(&st, "key_id", s->key_id);
		mac_str(&st, "wrapped_key", w ? w : "");
		free(w);
	}
	crypto_generichash_final(&st, out, VDESC_MAC_BYTES);
	sodium_memzero(&st, sizeof(st));
}

void vdesc_seal(struct vdesc *d, const uint8_t key[BYOKFS_KEY_BYTES])
{
	vdesc_compute_mac(d, key, d->mac);
}

int vdesc_verify(const struct vdesc *d, const uint8_t key[BYOKFS_KEY_BYTES])
{
	uint8_t mac[VDESC_MAC_BYTES];

	vdesc_compute_mac(d, key, mac);
	return sodium_memcmp(mac, d->mac, sizeof(mac)) == 0 ? 0 : -EBADMSG;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int vdesc_store(const struct vdesc *d, const char *dir)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	char *text = vdesc_format(d);
	int fd = -1, dfd = -1, r;

	if (!text)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, VDESC_FILE);
	snprintf(path, sizeof(path), "%s/%s", dir, VDESC_FILE);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if ((r = write_all(fd, text, strlen(text))) < 0)
		goto out_unlink;
	if (fsync(fd) < 0) {
		r = -errno;
		goto out_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto out_unlink;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		r = -errno;
		goto out;
	}
	r = 0;
	goto out;
out_unlink:
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(text);
	return r;
}

int vdesc_add_slot(struct vdesc *d, const char *name, const char *provider, const char *key_id,
		   const uint8_t *wrapped, size_t wrapped_len)
{
	struct vslot *s;

	if (d->nslots == VDESC_MAX_SLOTS)
		return -ENOSPC;
	if (vdesc_slot(d, name))
		return -EEXIST;
	if (!*name || strlen(name) > VDESC_SLOT_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		    strlen(name) ||
	    strlen(provider) > VDESC_PROVIDER_MAX || !vdesc_value_ok(key_id) ||
	    wrapped_len == 0 || wrapped_len > VDESC_WRAPPED_MAX)
		return -EINVAL;
	s = &d->slots[d->nslots];
	memset(s, 0, sizeof(*s));
	strcpy(s->name, name);
	strcpy(s->provider, provider);
	s->key_id = strdup(key_id);
	s->wrapped = malloc(wrapped_len);
	if (!s->key_id || !s->wrapped) {
		free(s->key_id);
		free(s->wrapped);
		return -ENOMEM;
	}
	memcpy(s->wrapped, wrapped, wrapped_len);
	s->wrapped_len = wrapped_len;
	d->nslots++;
	return 0;
}

int vdesc_remove_slot(struct vdesc *d, const char *name)
{
	struct vslot *s = vdesc_slot(d, name);
	unsigned i;

	if (!s)
		return -ENOENT;
	if (d->nslots == 1)
		return -EBUSY;
	i = (unsigned)(s - d->slots);
	free(s->key_id);
	free(s->wrapped);
	memmove(&d->slots[i], &d->slots[i + 1], (d->nslots - i - 1) * sizeof(d->slots[0]));
	d->nslots--;
	memset(&d->slots[d->nslots], 0, sizeof(d->slots[0]));
	return 0;
}

int vdesc_set_slot(struct vslot *s, const char *provider, const char *key_id,
		   const uint8_t *wrapped, size_t wrapped_len)
{
	char *id;
	uint8_t *w;

	if (!*provider || strlen(provider) > VDESC_PROVIDER_MAX || !vdesc_value_ok(key_id) ||
	    wrapped_len == 0 || wrapped_len > VDESC_WRAPPED_MAX)
		return -EINVAL;
	id = strdup(key_id);
	w = malloc(wrapped_len);
	if (!id || !w) {
		free(id);
		free(w);
		return -ENOMEM;
	}
	memcpy(w, wrapped, wrapped_len);
	free(s->key_id);
	free(s->wrapped);
	strcpy(s->provider, provider);
	s->key_id = id;
	s->wrapped = w;
	s->wrapped_len = wrapped_len;
	return 0;
}

int vdesc_copy(struct vdesc *dst, const struct vdesc *src)
{
	*dst = *src;
	for (unsigned i = 0; i < VDESC_MAX_SLOTS; i++) {
		dst->slots[i].key_id = NULL;
		dst->slots[i].wrapped = NULL;
	}
	for (unsigned i = 0; i < src->nslots; i++) {
		const struct vslot *s = &src->slots[i];
		struct vslot *t = &dst->slots[i];
		t->key_id = strdup(s->key_id);
		t->wrapped = malloc(s->wrapped_len);
		if (!t->key_id || !t->wrapped) {
			vdesc_release(dst);
			return -ENOMEM;
		}
		memcpy(t->wrapped, s->wrapped, s->wrapped_len);
	}
	return 0;
}

int vslot_equal(const struct vslot *a, const struct vslot *b)
{
	return !strcmp(a->name, b->name) && !strcmp(a->provider, b->provider) &&
	       !strcmp(a->key_id, b->key_id) && a->wrapped_len == b->wrapped_len &&
	       !memcmp(a->wrapped, b->wrapped, a->wrapped_len);
}

struct vslot *vdesc_slot(struct vdesc *d, const char *name)
{
	for (unsigned i = 0; i < d->nslots; i++)
		if (!strcmp(d->slots[i].name, name))
			return &d->slots[i];
	return NULL;
}

void vdesc_release(struct vdesc *d)
{
	for (unsigned i = 0; i < VDESC_MAX_SLOTS; i++) {
		free(d->slots[i].key_id);
		free(d->slots[i].wrapped);
	}
	memset(d, 0, sizeof(*d));
}
