/* SPDX-License-Identifier: MIT */
/*
 * Backing names: a plaintext name in a directory becomes its encryption
 * (crypto/name.h) or, when that is longer than the volume's longname_max, a
 * hashed ".L..." entry plus a side file ".L....name" holding the encoding.
 * Each backing directory holds its random id in ".byokfs.dirid". Names that
 * start with "." in the backing store are byokfs's own: an encoding is
 * base64url and never starts with ".".
 *
 * No FUSE here.
 */
#ifndef BYOKFS_FS_NAMES_H
#define BYOKFS_FS_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/name.h"
#include "fs/vol.h"

/* The fixed "directory id" under which xattr names are encrypted (FORMAT.md 7). */
extern const uint8_t xattr_dirid[BYOKFS_DIR_ID_BYTES];

struct bname {
	char entry[NAME_ENC_MAX + 1]; /* the backing directory entry */
	char enc[NAME_ENC_MAX + 1];   /* the full encoding */
	size_t enclen;
	int is_long;
};

/*
 * Computes the backing name of name in the directory with id dirid.
 * Takes the volume gate itself. 0, -EINVAL, -ENAMETOOLONG, -EKEYREVOKED.
 */
int bname_make(struct vol *v, const uint8_t dirid[BYOKFS_DIR_ID_BYTES], const char *name,
	       struct bname *out);

/*
 * Like bname_make, for a name that may exist already: while a rekey is
 * unfinished (v->has_old), an entry may still carry the previous keys'
 * encryption; if the current one does not exist in dirfd but the previous
 * one does, out describes that. 0 or -errno as bname_make.
 */
int bname_resolve(struct vol *v, int dirfd, const uint8_t dirid[BYOKFS_DIR_ID_BYTES],
		  const char *name, struct bname *out);

/*
 * Decrypts an encoding with the current name keys, or the previous ones
 * during an unfinished rekey. Caller holds the gate. Length or -EBADMSG.
 */
int bname_decrypt(struct vol *v, const uint8_t dirid[BYOKFS_DIR_ID_BYTES], const char *enc,
		  size_t enclen, char *out);

/* Writes the side file of a long name (idempotent). 0 or -errno. */
int bname_write_side(int dirfd, const struct bname *b);
/* Removes the side file of a long name; ENOENT is not an error. */
void bname_remove_side(int dirfd, const struct bname *b);

/*
 * 1 if a backing entry is byokfs's own bookkeeping (descriptor, dirid,
 * long-name side files) and never shown; 0 otherwise.
 */
int bname_is_internal(const char *entry);

/*
 * Fetches the encoding behind a backing entry: the entry itself, or the
 * content of its side file for a long name (checked against the hash).
 * Returns the encoding length or -EBADMSG / -errno.
 */
int bname_encoding(int dirfd, const char *entry, char enc[NAME_ENC_MAX + 1]);

/* Reads a directory's id. 0, -EIO (missing or damaged; logged by caller), -errno. */
int dirid_read(int dirfd, uint8_t dirid[BYOKFS_DIR_ID_BYTES]);
/* Creates the id file of a new directory, fsync'd. 0 or -errno. */
int dirid_create(int dirfd, uint8_t dirid[BYOKFS_DIR_ID_BYTES]);
/* Writes a known id back (undo of a failed rmdir). */
int dirid_restore(int dirfd, const uint8_t dirid[BYOKFS_DIR_ID_BYTES]);

/*
 * 1 if a backing directory holds nothing but byokfs bookkeeping, 0 if it
 * has entries, -errno on error.
 */
int dir_is_empty(int dirfd);

/*
 * Removes the bookkeeping of an empty directory (orphaned side files, then
 * the id file) so that rmdir(2) can remove it. 0 or -errno.
 */
int dir_remove_internal(int dirfd);

#endif
