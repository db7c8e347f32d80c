/* SPDX-License-Identifier: MIT */
/* Backing names, long-name side files and directory ids (see names.h). */
#include "fs/names.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs/log.h"

const uint8_t xattr_dirid[BYOKFS_DIR_ID_BYTES] = "byokfs-xattr-v1";

static int bname_make_nk(struct vol *v, int old, const uint8_t dirid[BYOKFS_DIR_ID_BYTES],
			 const char *name, struct bname *out)
{
	int n, r;

	if ((r = vol_gate_enter(v)) < 0)
		return r;
	if (old && !v->has_old) {
		vol_gate_leave(v);
		return -ENOENT;
	}
	n = name_encrypt(old ? &v->old_nk : &v->nk, dirid, name, strlen(name), out->enc);
	vol_gate_leave(v);
	if (n < 0)
		return n;
	out->enclen = (size_t)n;
	out->is_long = (unsigned)n > v->longname_max;
	if (out->is_long)
		name_long_entry(out->enc, out->enclen, out->entry);
	else
		memcpy(out->entry, out->enc, out->enclen + 1);
	return 0;
}

int bname_make(struct vol *v, const uint8_t dirid[BYOKFS_DIR_ID_BYTES], const char *name,
	       struct bname *out)
{
	return bname_make_nk(v, 0, dirid, name, out);
}

int bname_resolve(struct vol *v, int dirfd, const uint8_t dirid[BYOKFS_DIR_ID_BYTES],
		  const char *name, struct bname *out)
{
	struct bname old;
	int r = bname_make_nk(v, 0, dirid, name, out);

	/* has_old is fixed while unlocked; reading it unlocked is fine here:
	 * a stale answer costs one lookup */
	if (r < 0 || !v->has_old || faccessat(dirfd, out->entry, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return r;
	if (bname_make_nk(v, 1, dirid, name, &old) == 0 &&
	    faccessat(dirfd, old.entry, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		*out = old;
	return 0;
}

int bname_decrypt(struct vol *v, const uint8_t dirid[BYOKFS_DIR_ID_BYTES], const char *enc,
		  size_t enclen, char *out)
{
	int n = name_decrypt(&v->nk, dirid, enc, enclen, out);
	if (n < 0 && v->has_old)
		n = name_decrypt(&v->old_nk, dirid, enc, enclen, out);
	return n;
}

static void side_name(const struct bname *b, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s", b->entry, NAME_LONG_SUFFIX);
}

int bname_write_side(int dirfd, const struct bname *b)
{
	char side[NAME_ENC_MAX + sizeof(NAME_LONG_SUFFIX)];
	size_t done = 0;
	int fd;

	side_name(b, side, sizeof(side));
	fd = openat(dirfd, side, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (done < b->enclen) {
		ssize_t n = write(fd, b->enc + done, b->enclen - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			unlinkat(dirfd, side, 0);
			return -e;
		}
		done += (size_t)n;
	}
	if (close(fd) < 0) {
		int e = errno;
		unlinkat(dirfd, side, 0);
		return -e;
	}
	return 0;
}

void bname_remove_side(int dirfd, const struct bname *b)
{
	char side[NAME_ENC_MAX + sizeof(NAME_LONG_SUFFIX)];

	side_name(b, side, sizeof(side));
	if (unlinkat(dirfd, side, 0) < 0 && errno != ENOENT)
		log_warn("cannot remove long-name file: %s", strerror(errno));
}

int bname_is_internal(const char *entry)
{
	size_t n = strlen(entry), s = strlen(NAME_LONG_SUFFIX);

	if (!strncmp(entry, BACKING_RESERVED_PREFIX, strlen(BACKING_RESERVED_PREFIX)))
		return 1;
	return n == NAME_LONG_CHARS + s && !strncmp(entry, NAME_LONG_PREFIX, 2) &&
	       !strcmp(entry + NAME_LONG_CHARS, NAME_LONG_SUFFIX);
}

int bname_encoding(int dirfd, const char *entry, char enc[NAME_ENC_MAX + 1])
{
	char side[NAME_ENC_MAX + sizeof(NAME_LONG_SUFFIX)], check[NAME_LONG_CHARS + 1];
	size_t n = strlen(entry), got = 0;
	int fd;

	if (!name_is_long_entry(entry)) {
		if (n > NAME_ENC_MAX || entry[0] == '.')
			return -EBADMSG;
		memcpy(enc, entry, n + 1);
		return (int)n;
	}
	snprintf(side, sizeof(side), "%s%s", entry, NAME_LONG_SUFFIX);
	fd = openat(dirfd, side, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -EBADMSG : -errno;
	while (got < NAME_ENC_MAX) {
		ssize_t r = read(fd, enc + got, NAME_ENC_MAX - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	enc[got] = '\0';
	name_long_entry(enc, got, check);
	if (got == 0 || strcmp(check, entry) != 0)
		return -EBADMSG;
	return (int)got;
}

int dirid_read(int dirfd, uint8_t dirid[BYOKFS_DIR_ID_BYTES])
{
	uint8_t buf[BYOKFS_DIR_ID_BYTES + 1];
	ssize_t n;
	int fd = openat(dirfd, DIRID_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? -EIO : -errno;
	do
		n = pread(fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n != BYOKFS_DIR_ID_BYTES)
		return n < 0 ? -errno : -EIO;
	memcpy(dirid, buf, BYOKFS_DIR_ID_BYTES);
	return 0;
}

static int dirid_write(int dirfd, const uint8_t dirid[BYOKFS_DIR_ID_BYTES])
{
	int fd = openat(dirfd, DIRID_FILE, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0444);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	do
		n = write(fd, dirid, BYOKFS_DIR_ID_BYTES);
	while (n < 0 && errno == EINTR);
	e = n == BYOKFS_DIR_ID_BYTES ? 0 : (n < 0 ? errno : ENOSPC);
	/* a directory whose id is lost loses every name in it: make it durable */
	if (!e && fdatasync(fd) < 0)
		e = errno;
	close(fd);
	if (e) {
		unlinkat(dirfd, DIRID_FILE, 0);
		return -e;
	}
	return 0;
}

int dirid_create(int dirfd, uint8_t dirid[BYOKFS_DIR_ID_BYTES])
{
	randombytes_buf(dirid, BYOKFS_DIR_ID_BYTES);
	return dirid_write(dirfd, dirid);
}

int dirid_restore(int dirfd, const uint8_t dirid[BYOKFS_DIR_ID_BYTES])
{
	return dirid_write(dirfd, dirid);
}

int dir_is_empty(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *dp;
	int empty = 1;

	if (fd < 0)
		return -errno;
	dp = fdopendir(fd);
	if (!dp) {
		int e = errno;
		close(fd);
		return -e;
	}
	while ((de = readdir(dp))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (bname_is_internal(de->d_name))
			continue;
		empty = 0;
		break;
	}
	closedir(dp);
	return empty;
}

int dir_remove_internal(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *dp;
	int r = 0;

	if (fd < 0)
		return -errno;
	dp = fdopendir(fd);
	if (!dp) {
		int e = errno;
		close(fd);
		return -e;
	}
	/* orphaned long-name side files first, the directory id last */
	while ((de = readdir(dp))) {
		if (!bname_is_internal(de->d_name) || !strcmp(de->d_name, DIRID_FILE))
			continue;
		if (unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT)
			r = -errno;
	}
	closedir(dp);
	if (r == 0 && unlinkat(dirfd, DIRID_FILE, 0) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}
