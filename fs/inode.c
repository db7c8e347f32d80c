/* SPDX-License-Identifier: MIT */
/* Inode table: a chained hash on (dev, ino) that grows by doubling. */
#include "fs/inode.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROOT_ID 1

static void free_name(struct inode *in)
{
	if (in->name) {
		sodium_memzero(in->name, strlen(in->name));
		free(in->name);
		in->name = NULL;
	}
}

struct named {
	uint64_t parent;
	char *name;
};

/* LRU list, under the table lock; the root is never on it. */
static void lru_unlink(struct inode *in)
{
	if (in->lru_next) {
		in->lru_prev->lru_next = in->lru_next;
		in->lru_next->lru_prev = in->lru_prev;
		in->lru_prev = in->lru_next = NULL;
	}
}

static void lru_touch(struct itable *t, struct inode *in)
{
	if (in == &t->root)
		return;
	lru_unlink(in);
	in->lru_prev = t->lru.lru_prev;
	in->lru_next = &t->lru;
	t->lru.lru_prev->lru_next = in;
	t->lru.lru_prev = in;
}

static size_t hash(dev_t dev, ino_t ino, size_t n)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev;
	return (size_t)(h ^ (h >> 29)) & (n - 1);
}

int itable_init(struct itable *t, int root_fd)
{
	struct stat st;

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->nbuckets = 1024;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	if (fstat(root_fd, &st) < 0)
		return -errno;
	t->root.fd = root_fd;
	t->root.bino = st.st_ino;
	t->root.dev = st.st_dev;
	t->root.type = S_IFDIR;
	t->root.nlookup = 2;
	pthread_mutex_init(&t->root.lock, NULL);
	t->lru.lru_prev = t->lru.lru_next = &t->lru;
	return 0;
}

struct inode *itable_get(struct itable *t, uint64_t id)
{
	return id == ROOT_ID ? &t->root : (struct inode *)(uintptr_t)id;
}

uint64_t itable_id(struct itable *t, struct inode *in)
{
	return in == &t->root ? ROOT_ID : (uint64_t)(uintptr_t)in;
}

static void grow(struct itable *t)
{
	size_t n = t->nbuckets * 2;
	struct inode **b = calloc(n, sizeof(*b));
	if (!b)
		return; /* keep the longer chains */
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct inode *in = t->buckets[i];
		while (in) {
			struct inode *next = in->next;
			size_t h = hash(in->dev, in->bino, n);
			in->next = b[h];
			b[h] = in;
			in = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

struct inode *itable_add(struct itable *t, int fd, const struct stat *st)
{
	struct inode *in;
	size_t h;

	pthread_mutex_lock(&t->lock);
	if (st->st_ino == t->root.bino && st->st_dev == t->root.dev) {
		in = &t->root;
		goto found;
	}
	h = hash(st->st_dev, st->st_ino, t->nbuckets);
	for (in = t->buckets[h]; in; in = in->next)
		if (in->bino == st->st_ino && in->dev == st->st_dev)
			goto found;
	in = calloc(1, sizeof(*in));
	if (!in) {
		pthread_mutex_unlock(&t->lock);
		close(fd);
		return NULL;
	}
	in->bino = st->st_ino;
	in->dev = st->st_dev;
	in->fd = fd;
	in->type = st->st_mode & S_IFMT;
	in->nlookup = 1;
	pthread_mutex_init(&in->lock, NULL);
	in->next = t->buckets[h];
	t->buckets[h] = in;
	lru_touch(t, in);
	if (++t->count > t->nbuckets)
		grow(t);
	pthread_mutex_unlock(&t->lock);
	return in;
found:
	in->nlookup++;
	lru_touch(t, in);
	pthread_mutex_unlock(&t->lock);
	close(fd);
	return in;
}

void itable_forget(struct itable *t, struct inode *in, uint64_t n)
{
	pthread_mutex_lock(&t->lock);
	if (in == &t->root || in->nlookup > n) {
		if (in != &t->root)
			in->nlookup -= n;
		pthread_mutex_unlock(&t->lock);
		return;
	}
	struct inode **pp = &t->buckets[hash(in->dev, in->bino, t->nbuckets)];
	while (*pp && *pp != in)
		pp = &(*pp)->next;
	if (*pp)
		*pp = in->next;
	lru_unlink(in);
	t->count--;
	pthread_mutex_unlock(&t->lock);
	/* the kernel forgets an inode only after releasing its files */
	free_name(in);
	close(in->fd);
	pthread_mutex_destroy(&in->lock);
	free(in);
}

void itable_set_name(struct itable *t, struct inode *in, uint64_t parent_id, const char *name)
{
	char *copy = strdup(name);

	pthread_mutex_lock(&t->lock);
	if (in != &t->root) {
		free_name(in);
		in->name = copy;
		in->parent_id = parent_id;
		copy = NULL;
	}
	pthread_mutex_unlock(&t->lock);
	free(copy);
}

void itable_rename(struct itable *t, const struct stat *st, uint64_t parent_id, const char *name)
{
	char *copy = strdup(name);

	pthread_mutex_lock(&t->lock);
	for (struct inode *in = t->buckets[hash(st->st_dev, st->st_ino, t->nbuckets)]; in;
	     in = in->next) {
		if (in->bino == st->st_ino && in->dev == st->st_dev) {
			free_name(in);
			in->name = copy;
			in->parent_id = parent_id;
			copy = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	free(copy);
}

void itable_drop_names(struct itable *t, void (*cb)(void *ctx, uint64_t parent, const char *name),
		       void *ctx)
{
	struct named *list;
	size_t n = 0, cap;

	pthread_mutex_lock(&t->lock);
	cap = t->count;
	list = calloc(cap ? cap : 1, sizeof(*list));
	for (size_t i = 0; i < t->nbuckets; i++) {
		for (struct inode *in = t->buckets[i]; in; in = in->next) {
			if (!in->name)
				continue;
			if (list && n < cap) {
				list[n].parent = in->parent_id;
				list[n].name = in->name; /* transferred */
				n++;
				in->name = NULL;
			} else {
				free_name(in);
			}
		}
	}
	pthread_mutex_unlock(&t->lock);
	for (size_t i = 0; i < n; i++) {
		cb(ctx, list[i].parent, list[i].name);
		sodium_memzero(list[i].name, strlen(list[i].name));
		free(list[i].name);
	}
	free(list);
}

size_t itable_oldest(struct itable *t, size_t max,
		     void (*cb)(void *ctx, uint64_t parent, const char *name), void *ctx)
{
	struct named *list = calloc(max ? max : 1, sizeof(*list));
	size_t n = 0, seen = 0;

	if (!list)
		return 0;
	pthread_mutex_lock(&t->lock);
	struct inode *in = t->lru.lru_next;
	while (in != &t->lru && n < max && seen < t->count) {
		struct inode *next = in->lru_next;
		seen++;
		/* an open file's inode stays. in->fc belongs to in->lock, only
		 * tried here so that no thread ever waits for an inode's lock
		 * while holding the table lock; busy counts as open */
		int is_open = 1;
		if (in->name && pthread_mutex_trylock(&in->lock) == 0) {
			is_open = in->fc != NULL;
			pthread_mutex_unlock(&in->lock);
		}
		if (in->name && !is_open) {
			list[n].parent = in->parent_id;
			list[n].name = strdup(in->name);
			if (list[n].name)
				n++;
			lru_touch(t, in);
		}
		in = next;
	}
	pthread_mutex_unlock(&t->lock);
	for (size_t i = 0; i < n; i++) {
		cb(ctx, list[i].parent, list[i].name);
		sodium_memzero(list[i].name, strlen(list[i].name));
		free(list[i].name);
	}
	free(list);
	return n;
}

size_t itable_count(struct itable *t)
{
	pthread_mutex_lock(&t->lock);
	size_t n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}

size_t itable_ids(struct itable *t, uint64_t *ids, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&t->lock);
	if (n < max)
		ids[n++] = ROOT_ID;
	for (size_t i = 0; i < t->nbuckets && n < max; i++)
		for (struct inode *in = t->buckets[i]; in && n < max; in = in->next)
			ids[n++] = (uint64_t)(uintptr_t)in;
	pthread_mutex_unlock(&t->lock);
	return n;
}

void itable_destroy(struct itable *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct inode *in = t->buckets[i];
		while (in) {
			struct inode *next = in->next;
			free_name(in);
			close(in->fd);
			pthread_mutex_destroy(&in->lock);
			free(in);
			in = next;
		}
	}
	free(t->buckets);
	pthread_mutex_destroy(&t->root.lock);
	pthread_mutex_destroy(&t->lock);
	memset(t, 0, sizeof(*t));
}
