/* SPDX-License-Identifier: MIT */
/*
 * Backing-store I/O for the data path.
 *
 * Every system call the block layer makes on a backing file goes through
 * the table io_sys (as SQLite's VFS routes its calls through xSyscall), so
 * that a test build can put faults between byokfs and the store: the
 * fault-injection build (-DBYOKFS_FAULT_INJECTION, fs/fault.c, described
 * in docs/CRASH.md) replaces entries when BYOKFS_FAULTS is set. Entries
 * keep the system calls' conventions (-1 and errno).
 *
 * On top of it, whole-buffer positional I/O: loops over short reads and
 * writes and EINTR (git's pread_in_full, OpenSSH's atomicio).
 */
#ifndef BYOKFS_FS_IO_H
#define BYOKFS_FS_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct io_syscalls {
	ssize_t (*pread)(int fd, void *buf, size_t len, off_t off);
	ssize_t (*pwrite)(int fd, const void *buf, size_t len, off_t off);
	int (*open)(const char *path, int flags, mode_t mode);
	int (*openat)(int dirfd, const char *path, int flags, mode_t mode);
	int (*ftruncate)(int fd, off_t len);
	int (*fallocate)(int fd, int mode, off_t off, off_t len);
	int (*fsync)(int fd);
	int (*fdatasync)(int fd);
};

/* The table; the real system calls unless a test build replaced some. */
extern struct io_syscalls io_sys;

/* Reads up to len bytes at off; returns the count (short only at end of file) or -errno. */
ssize_t io_pread_full(int fd, void *buf, size_t len, uint64_t off);
/* Writes all len bytes at off; 0 or -errno (-EIO if the store writes nothing). */
int io_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* The other calls, through the table: -1 and errno on failure, like the calls. */
int io_open(const char *path, int flags, mode_t mode);
int io_openat(int dirfd, const char *path, int flags, mode_t mode);
int io_ftruncate(int fd, off_t len);
int io_fallocate(int fd, int mode, off_t off, off_t len);
int io_fsync(int fd);
int io_fdatasync(int fd);

#endif
