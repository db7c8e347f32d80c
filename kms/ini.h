/* SPDX-License-Identifier: MIT */
/*
 * INI files for the providers and the configuration, through inih, with
 * two things inih does not do: lines longer than its 200-byte buffer
 * (Debian's build; AWS session tokens run to 1,000 bytes and more) and
 * secrets kept out of stdio buffers.
 *
 * A file is read whole into secure memory; inih reads it through a line
 * reader that hands over an over-long line as its first piece followed by
 * continuation lines (inih's multi-line values), cut only between two
 * non-blank characters; the callback is told when a value continues the
 * previous one (`continued`) and appends it. Over-long comments, section
 * headers and lines without '=' are cut short. inih's own stack buffer is
 * wiped after parsing.
 */
#ifndef BYOKFS_KMS_INI_H
#define BYOKFS_KMS_INI_H

#include <stddef.h>
#include <sys/stat.h>

/*
 * Called per name = value; continued = 1 when value is the next piece of
 * a value cut for length. line: 1-based line in the file. Return nonzero
 * to go on, 0 to mark an error at this line (parsing goes on).
 */
typedef int (*kms_ini_fn)(void *user, const char *section, const char *name, const char *value,
			  int continued, int line);

/* Parses text (NUL-terminated, len bytes). 0, or the line of the first error. */
int kms_ini_parse(const char *text, size_t len, kms_ini_fn fn, void *user);

/*
 * Reads a whole file (at most max bytes) into secure memory, NUL-terminated;
 * free with secmem_free(). st, if not NULL, gets its fstat. Returns 0, or
 * -errno (-EFBIG when larger than max). Follows no symlink at the end when
 * nofollow is set.
 */
int kms_read_file(const char *path, size_t max, int nofollow, char **text, size_t *len,
		  struct stat *st);

#endif
