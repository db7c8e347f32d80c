/* SPDX-License-Identifier: MIT */
/*
 * Secure memory: library start-up and a slab pool of key slots.
 *
 * Key slots live in sodium_malloc'd memory (guard pages, mlock'd, excluded
 * from core dumps with MADV_DONTDUMP by libsodium) and are wiped with
 * sodium_memzero when released. The pool exists because sodium_malloc costs
 * several pages and system calls per allocation; a file open must not.
 */
#ifndef BYOKFS_CRYPTO_SECMEM_H
#define BYOKFS_CRYPTO_SECMEM_H

#include <stddef.h>

/* Initialises libsodium. Returns 0, or -1 if the library cannot start. */
int secmem_init(void);

/*
 * Allocates len bytes of guarded, locked memory, zeroed. NULL on failure.
 * Free with secmem_free(), which wipes.
 */
void *secmem_alloc(size_t len);
void secmem_free(void *p);

/*
 * Wipes the stack below the caller. libsodium's primitives leave key
 * material in dead stack frames (BLAKE2b's padded key block, ChaCha20's
 * partial-block copy of a short plaintext such as an unwrapped key); call
 * this after every section that used a key, from the function that called
 * the primitives (or its caller), so the wipe covers their frames.
 */
void secmem_wipe_stack(void);

struct keypool;

/* A pool of fixed-size slots of slot_size bytes (rounded up to 64). */
struct keypool *keypool_new(size_t slot_size);
/* Returns a zeroed slot, or NULL when memory is exhausted. Thread-safe. */
void *keypool_get(struct keypool *pool);
/* Wipes the slot and returns it to the pool. Thread-safe. */
void keypool_put(struct keypool *pool, void *slot);
/*
 * Wipes every slot, in use or not (revocation). The caller guarantees that
 * no thread is using a slot during the call.
 */
void keypool_wipe_all(struct keypool *pool);
/* Slots handed out and not returned; for status and tests. */
size_t keypool_in_use(struct keypool *pool);
/* Wipes and frees everything. */
void keypool_free(struct keypool *pool);

#endif
