/* SPDX-License-Identifier: MIT */
/* INI through inih with long lines and secure buffers (see ini.h). */
#include "kms/ini.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "crypto/secmem.h"

struct stream {
	const char *p, *end;   /* the text not handed out yet */
	const char *rest;      /* of a line being cut: the next piece; NULL if none */
	const char *rest_end;
	int line;              /* physical line of the last piece */
	int continued;         /* the last piece continues a cut line */
	int called_line;       /* physical line of the last callback */
	char last_section[64], last_name[64];
	kms_ini_fn fn;
	void *user;
};

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Where to cut a line piece of at most room bytes starting at s (len
 * left): between two non-blank bytes, the second not a comment sign
 * (inih would take a continuation starting with ';' or '#' for a comment).
 * 0 if there is no such place in the second half.
 */
static size_t cut_at(const char *s, size_t len, size_t room)
{
	size_t k = room < len ? room : len;

	if (k == len)
		return k;
	for (; k > room / 2; k--)
		if (!blank(s[k - 1]) && !blank(s[k]) && s[k] != ';' && s[k] != '#')
			return k;
	return 0;
}

/* inih's line reader (fgets-like: at most num - 1 bytes and a NUL). */
static char *reader(char *str, int num, void *u)
{
	struct stream *s = u;
	size_t room = (size_t)num - 3; /* a leading blank, the newline, the NUL */
	const char *line, *nl;
	size_t len, k;

	if (num < 16)
		return NULL;
	if (s->rest) {
		/* the next piece of a cut line, as an indented continuation line */
		len = (size_t)(s->rest_end - s->rest);
		k = cut_at(s->rest, len, room);
		if (k == 0)
			k = len < room ? len : room; /* nowhere good: inih sees junk, an error */
		str[0] = ' ';
		memcpy(str + 1, s->rest, k);
		str[1 + k] = '\n';
		str[2 + k] = '\0';
		s->rest += k;
		if (s->rest >= s->rest_end)
			s->rest = NULL;
		s->continued = 1;
		return str;
	}
	if (s->p >= s->end)
		return NULL;
	line = s->p;
	nl = memchr(line, '\n', (size_t)(s->end - line));
	len = (size_t)((nl ? nl : s->end) - line);
	s->p = nl ? nl + 1 : s->end;
	s->line++;
	s->continued = 0;
	k = len;
	if (len > room) {
		const char *t = line;
		while (t < line + len && blank(*t))
			t++;
		k = cut_at(line, len, room);
		if (k == 0)
			k = room;
		/* only a value is continued: a long comment, section header or
		 * line without '=' is cut short (inih reports what it must) */
		if (t < line + len && *t != ';' && *t != '#' && *t != '[' &&
		    (t > line || memchr(line, '=', k) || memchr(line, ':', k))) {
			s->rest = line + k;
			s->rest_end = line + len;
		}
	}
	memcpy(str, line, k);
	str[k] = '\n';
	str[k + 1] = '\0';
	return str;
}

/*
 * A piece continues a value only if inih took it so: an earlier piece of
 * the same line reached us under the same section and name (inih keeps
 * 49 bytes of a name). A piece inih parsed as a line of its own (after a
 * first piece it rejected) is not a continuation.
 */
static int handler(void *u, const char *section, const char *name, const char *value)
{
	struct stream *s = u;
	int continued = s->continued && s->called_line == s->line &&
			!strncmp(s->last_section, section, sizeof(s->last_section) - 1) &&
			!strncmp(s->last_name, name, 49);

	snprintf(s->last_section, sizeof(s->last_section), "%s", section);
	snprintf(s->last_name, sizeof(s->last_name), "%s", name);
	s->called_line = s->line;
	return s->fn(s->user, section, name, value, continued, s->line);
}

int kms_ini_parse(const char *text, size_t len, kms_ini_fn fn, void *user)
{
	struct stream s = {.p = text, .end = text + len, .fn = fn, .user = user};
	int r = ini_parse_stream(reader, &s, handler, &s);

	secmem_wipe_stack(); /* inih's line buffer held the values */
	return r < 0 ? 1 : r;
}

int kms_read_file(const char *path, size_t max, int nofollow, char **text, size_t *len,
		  struct stat *st)
{
	struct stat sb;
	char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));

	*text = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((size_t)sb.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	/* the size fstat saw; a file growing meanwhile is read that far */
	buf = secmem_alloc((size_t)sb.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			secmem_free(buf);
			return -e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	if (st)
		*st = sb;
	*text = buf;
	*len = got;
	return 0;
}
