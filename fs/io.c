/* SPDX-License-Identifier: MIT */
/* Backing-store I/O through a replaceable table (see io.h). */
#include "fs/io.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* open and openat are variadic: fixed-argument shims for the table */
static int sys_open(const char *path, int flags, mode_t mode)
{
	return open(path, flags, mode);
}

static int sys_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return openat(dirfd, path, flags, mode);
}

struct io_syscalls io_sys = {
	.pread = pread,
	.pwrite = pwrite,
	.open = sys_open,
	.openat = sys_openat,
	.ftruncate = ftruncate,
	.fallocate = fallocate,
	.fsync = fsync,
	.fdatasync = fdatasync,
};

ssize_t io_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = io_sys.pread(fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int io_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = io_sys.pwrite(fd, (const uint8_t *)buf + done, len - done,
					  (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

int io_open(const char *path, int flags, mode_t mode)
{
	return io_sys.open(path, flags, mode);
}

int io_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return io_sys.openat(dirfd, path, flags, mode);
}

int io_ftruncate(int fd, off_t len)
{
	return io_sys.ftruncate(fd, len);
}

int io_fallocate(int fd, int mode, off_t off, off_t len)
{
	return io_sys.fallocate(fd, mode, off, len);
}

int io_fsync(int fd)
{
	return io_sys.fsync(fd);
}

int io_fdatasync(int fd)
{
	return io_sys.fdatasync(fd);
}
