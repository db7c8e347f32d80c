/* SPDX-License-Identifier: MIT */
/* Helper threads for par_run() (see par.h): each takes one part at a time. */
#include "fs/par.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_HELPERS 7

struct helper {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_int busy;       /* claimed by a caller (atomic: the caller's try) */
	int has_work, done, stop; /* protected by lock */
	void (*fn)(void *ctx, size_t lo, size_t hi);
	void *ctx;
	size_t lo, hi;
};

static struct helper helpers[MAX_HELPERS];
static int nhelpers;

static void *helper_main(void *arg)
{
	struct helper *h = arg;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (!h->has_work && !h->stop)
			pthread_cond_wait(&h->cond, &h->lock);
		if (h->stop)
			break;
		h->has_work = 0;
		pthread_mutex_unlock(&h->lock);
		h->fn(h->ctx, h->lo, h->hi);
		pthread_mutex_lock(&h->lock);
		h->done = 1;
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

int par_start(int n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int want = n >= 0 ? n : (cpus > 1 ? (int)(cpus - 1) : 0);

	if (want > MAX_HELPERS)
		want = MAX_HELPERS;
	for (nhelpers = 0; nhelpers < want; nhelpers++) {
		struct helper *h = &helpers[nhelpers];
		pthread_mutex_init(&h->lock, NULL);
		pthread_cond_init(&h->cond, NULL);
		if (pthread_create(&h->thread, NULL, helper_main, h) != 0)
			return nhelpers ? 0 : -EAGAIN;
	}
	return 0;
}

void par_stop(void)
{
	for (int i = 0; i < nhelpers; i++) {
		struct helper *h = &helpers[i];
		pthread_mutex_lock(&h->lock);
		h->stop = 1;
		pthread_cond_signal(&h->cond);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->thread, NULL);
		pthread_mutex_destroy(&h->lock);
		pthread_cond_destroy(&h->cond);
	}
	nhelpers = 0;
}

void par_run(void (*fn)(void *ctx, size_t lo, size_t hi), void *ctx, size_t n, size_t min_split)
{
	struct helper *got[MAX_HELPERS];
	int k = 0;

	if (n >= min_split) {
		for (int i = 0; i < nhelpers; i++) {
			int idle = 0;
			if (atomic_compare_exchange_strong(&helpers[i].busy, &idle, 1))
				got[k++] = &helpers[i];
		}
	}
	if (k == 0) {
		fn(ctx, 0, n);
		return;
	}
	/* k + 1 parts: helpers take the later ones, the caller the first */
	size_t part = n / (size_t)(k + 1);
	for (int i = 0; i < k; i++) {
		struct helper *h = got[i];
		pthread_mutex_lock(&h->lock);
		h->fn = fn;
		h->ctx = ctx;
		h->lo = part * (size_t)(i + 1);
		h->hi = i == k - 1 ? n : part * (size_t)(i + 2);
		h->has_work = 1;
		h->done = 0;
		pthread_cond_signal(&h->cond);
		pthread_mutex_unlock(&h->lock);
	}
	fn(ctx, 0, part);
	for (int i = 0; i < k; i++) {
		struct helper *h = got[i];
		pthread_mutex_lock(&h->lock);
		while (!h->done)
			pthread_cond_wait(&h->cond, &h->lock);
		pthread_mutex_unlock(&h->lock);
		atomic_store(&h->busy, 0);
	}
}
