/* SPDX-License-Identifier: MIT */
/* The inode-table pruner (see prune.h): polls every 5 ms, prunes to 90%. */
#include "fs/prune.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_MS 5
#define BATCH 4096

struct pruner {
	struct itable *t;
	struct fuse_session *se;
	size_t high, low;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop; /* protected by lock */
};

static void drop(void *ctx, uint64_t parent, const char *name)
{
	struct pruner *p = ctx;
	fuse_lowlevel_notify_inval_entry(p->se, parent, name, strlen(name));
}

static void *prune_main(void *arg)
{
	struct pruner *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += POLL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		if (p->stop)
			break;
		size_t n = itable_count(p->t);
		if (n <= p->high)
			continue;
		pthread_mutex_unlock(&p->lock);
		size_t want = n - p->low;
		itable_oldest(p->t, want < BATCH ? want : BATCH, drop, p);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct pruner *pruner_start(struct itable *t, struct fuse_session *se, size_t max_inodes)
{
	struct pruner *p;

	if (max_inodes == 0 || !(p = calloc(1, sizeof(*p))))
		return NULL;
	p->t = t;
	p->se = se;
	p->high = max_inodes;
	p->low = max_inodes - max_inodes / 10;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pthread_create(&p->thread, NULL, prune_main, p) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

void pruner_stop(struct pruner *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}
