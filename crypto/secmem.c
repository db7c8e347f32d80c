/* SPDX-License-Identifier: MIT */
/*
 * Secure memory for byokfs: libsodium start-up and the key-slot pool.
 * Slabs of 64 slots come from sodium_malloc; a bitmap per slab marks the
 * slots in use, so no bookkeeping lives inside key memory.
 * Limits: slabs are never returned to the system before keypool_free().
 */
#include "crypto/secmem.h"

#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS_PER_SLAB 64

int secmem_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

#define STACK_WIPE_BYTES 16384

__attribute__((noinline)) void secmem_wipe_stack(void)
{
	unsigned char buf[STACK_WIPE_BYTES];

	sodium_memzero(buf, sizeof(buf));
	__asm__ __volatile__("" : : "r"(buf) : "memory");
#if defined(__x86_64__)
	/* libsodium's SIMD code leaves keys in vector registers, which a signal
	 * frame or the lazy-binding trampoline would save to the stack */
	if (__builtin_cpu_supports("avx"))
		__asm__ __volatile__("vzeroall" ::: "memory");
	else
		__asm__ __volatile__("pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\t"
				     "pxor %%xmm2, %%xmm2\n\tpxor %%xmm3, %%xmm3\n\t"
				     "pxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
				     "pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7" ::: "memory",
				     "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7");
#endif
}

void *secmem_alloc(size_t len)
{
	void *p = sodium_malloc(len);
	if (p)
		sodium_memzero(p, len);
	return p;
}

void secmem_free(void *p)
{
	sodium_free(p); /* wipes before unmapping */
}

struct slab {
	struct slab *next;
	uint64_t used;      /* bit i set: slot i handed out */
	unsigned char *mem; /* sodium_malloc'd, SLOTS_PER_SLAB * slot_size */
};

struct keypool {
	pthread_mutex_t lock;
	size_t slot_size;
	struct slab *slabs; /* protected by lock */
	size_t in_use;      /* protected by lock */
};

struct keypool *keypool_new(size_t slot_size)
{
	struct keypool *pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	pthread_mutex_init(&pool->lock, NULL);
	pool->slot_size = (slot_size + 63) & ~(size_t)63;
	return pool;
}

static struct slab *keypool_grow(struct keypool *pool)
{
	struct slab *slab = calloc(1, sizeof(*slab));
	if (!slab)
		return NULL;
	slab->mem = sodium_malloc(pool->slot_size * SLOTS_PER_SLAB);
	if (!slab->mem) {
		free(slab);
		return NULL;
	}
	sodium_memzero(slab->mem, pool->slot_size * SLOTS_PER_SLAB);
	slab->next = pool->slabs;
	pool->slabs = slab;
	return slab;
}

void *keypool_get(struct keypool *pool)
{
	void *slot = NULL;
	struct slab *s;

	pthread_mutex_lock(&pool->lock);
	for (s = pool->slabs; s; s = s->next)
		if (s->used != UINT64_MAX)
			break;
	if (!s && !(s = keypool_grow(pool)))
		goto out;
	int i = __builtin_ctzll(~s->used);
	s->used |= UINT64_C(1) << i;
	slot = s->mem + (size_t)i * pool->slot_size;
	sodium_memzero(slot, pool->slot_size);
	pool->in_use++;
out:
	pthread_mutex_unlock(&pool->lock);
	return slot;
}

void keypool_put(struct keypool *pool, void *slot)
{
	if (!slot)
		return;
	sodium_memzero(slot, pool->slot_size);
	pthread_mutex_lock(&pool->lock);
	for (struct slab *s = pool->slabs; s; s = s->next) {
		unsigned char *p = slot;
		if (p >= s->mem && p < s->mem + pool->slot_size * SLOTS_PER_SLAB) {
			size_t i = (size_t)(p - s->mem) / pool->slot_size;
			s->used &= ~(UINT64_C(1) << i);
			pool->in_use--;
			break;
		}
	}
	pthread_mutex_unlock(&pool->lock);
}

void keypool_wipe_all(struct keypool *pool)
{
	pthread_mutex_lock(&pool->lock);
	for (struct slab *s = pool->slabs; s; s = s->next)
		sodium_memzero(s->mem, pool->slot_size * SLOTS_PER_SLAB);
	pthread_mutex_unlock(&pool->lock);
}

size_t keypool_in_use(struct keypool *pool)
{
	pthread_mutex_lock(&pool->lock);
	size_t n = pool->in_use;
	pthread_mutex_unlock(&pool->lock);
	return n;
}

void keypool_free(struct keypool *pool)
{
	if (!pool)
		return;
	struct slab *s = pool->slabs;
	while (s) {
		struct slab *next = s->next;
		sodium_free(s->mem);
		free(s);
		s = next;
	}
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}
