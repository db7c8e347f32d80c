/* SPDX-License-Identifier: MIT */
/*
 * The unlocked volume: parameters, keys, and the gate that revocation closes.
 *
 * Every use of a key (encrypting or decrypting a block, a name, a header)
 * happens between vol_gate_enter() and vol_gate_leave(), and so does handing
 * the resulting plaintext to the kernel. Revocation takes the gate
 * exclusively, so it waits only for crypto calls already running (never for
 * I/O), wipes every key, and from then on vol_gate_enter() fails with
 * -EKEYREVOKED. The gate prefers the writer: a stream of readers cannot
 * starve a revocation.
 *
 * Calling sequence:
 *   vol_open() -> vol_unlock() -> [vol_gate_enter() ... vol_gate_leave()]*
 *   -> vol_revoke()/vol_lock() -> vol_unlock() ... -> vol_close()
 */
#ifndef BYOKFS_FS_VOL_H
#define BYOKFS_FS_VOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/kdf.h"
#include "crypto/name.h"
#include "crypto/params.h"
#include "crypto/secmem.h"
#include "crypto/vdesc.h"

#define DIRID_FILE ".byokfs.dirid"
#define BACKING_RESERVED_PREFIX ".byokfs."

enum vol_state {
	VOL_UNLOCKED = 0,
	VOL_LOCKED = 1,  /* lease ran out: resumes on its own */
	VOL_REVOKED = 2, /* denied or revoked by command */
};

struct vol_stats {
	atomic_uint_fast64_t bytes_read;
	atomic_uint_fast64_t bytes_written;
	atomic_uint_fast64_t auth_failures;
};

struct vol {
	char *backing;       /* absolute path of the backing directory */
	int root_fd;         /* O_PATH of the backing directory */
	struct vdesc desc;
	enum byokfs_cipher cipher;
	unsigned block_shift;
	size_t block_size;   /* plaintext bytes per block */
	size_t overhead;     /* nonce + tag per stored block */
	unsigned longname_max;
	char volume_id_hex[2 * BYOKFS_VOLUME_ID_BYTES + 1];

	pthread_rwlock_t gate;       /* readers: key users; writer: revoke/lock/unlock */
	atomic_int state;            /* enum vol_state; written under the gate's write side */
	atomic_uint_fast64_t key_gen; /* bumped whenever keys are wiped or replaced */
	struct vkeys *keys;          /* secure memory; valid while state == VOL_UNLOCKED */
	struct name_keys nk;         /* points into keys */
	struct keypool *pool;        /* data keys (struct blk_key slots) */
	struct vol_stats stats;

	/*
	 * A rekey left unfinished (byokfs rekey, interrupted): the previous
	 * volume key's keys, so headers of key epoch old_epoch and names,
	 * symlink targets and xattrs still under the previous keys read. Set
	 * with the current keys at unlock; wiped with them.
	 */
	struct vkeys *old_keys;      /* secure memory */
	struct name_keys old_nk;     /* points into old_keys */
	uint32_t old_epoch;
	int has_old;
};

/* Stored size of block i's slot when full: block_size + overhead. */
static inline size_t vol_slot_size(const struct vol *v)
{
	return v->block_size + v->overhead;
}

/*
 * Opens the backing directory and reads its descriptor. Keys are not
 * touched. On error returns -errno or -EBADMSG with a one-line err.
 */
int vol_open(struct vol *v, const char *backing, char *err, size_t errlen);

/*
 * Installs a volume key (copied; caller wipes its copy) after checking the
 * descriptor's MAC with it: -EBADMSG if the MAC does not match. Leaves the
 * volume unlocked.
 */
__attribute__((warn_unused_result))
int vol_unlock(struct vol *v, const uint8_t vkey[BYOKFS_KEY_BYTES]);

/*
 * Wipes every key and enters state (VOL_LOCKED or VOL_REVOKED). Waits only
 * for crypto calls in progress. Safe to call in any state.
 */
void vol_wipe(struct vol *v, enum vol_state state);

/* 0 with the gate held (shared), or -EKEYREVOKED (gate not held). */
__attribute__((warn_unused_result))
int vol_gate_enter(struct vol *v);
void vol_gate_leave(struct vol *v);

/*
 * Installs the previous volume key of an unfinished rekey (copied). Call
 * under the same unlock as vol_unlock(); vol_wipe() forgets it.
 */
void vol_set_previous(struct vol *v, uint32_t epoch, const uint8_t old_vkey[BYOKFS_KEY_BYTES]);

/* The header key for a file's key epoch, or NULL. Caller holds the gate. */
const uint8_t *vol_header_key(const struct vol *v, uint32_t epoch);

/* Compares vkey with the held volume key in constant time: 1 equal, 0 not/none. */
int vol_key_matches(struct vol *v, const uint8_t vkey[BYOKFS_KEY_BYTES]);

void vol_close(struct vol *v);

#endif
