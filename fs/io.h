/* SPDX-License-Identifier: MIT */
/*
 * Whole-buffer positional I/O on backing files: loops over short reads and
 * writes and EINTR (git's pread_in_full, OpenSSH's atomicio).
 */
#ifndef BYOKFS_FS_IO_H
#define BYOKFS_FS_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads up to len bytes at off; returns the count (short only at end of file) or -errno. */
ssize_t io_pread_full(int fd, void *buf, size_t len, uint64_t off);
/* Writes all len bytes at off; 0 or -errno (-EIO if the store writes nothing). */
int io_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

#endif
