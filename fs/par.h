/* SPDX-License-Identifier: MIT */
/*
 * Splitting one request's crypto over the CPUs. A single stream reaches
 * the mount one request at a time, so its blocks are encrypted or
 * decrypted on one core unless a request is split. par_run() runs
 * fn(ctx, lo, hi) over [0, n) in parts: one on the calling thread, the
 * others on helper threads that are idle; when every helper is busy (many
 * streams already keep the CPUs busy) the caller does the whole range.
 * fn must be safe to run on several parts at once. The caller's context
 * (for byokfs: the volume gate it holds) covers the helpers, since
 * par_run() returns only when every part is done.
 */
#ifndef BYOKFS_FS_PAR_H
#define BYOKFS_FS_PAR_H

#include <stddef.h>

/* Starts n helper threads (n < 0: CPUs - 1; at most 7; 0: none). 0 or -errno. */
int par_start(int n);
void par_stop(void);

/* Runs fn over [0, n); splits only when n >= min_split and a helper is idle. */
void par_run(void (*fn)(void *ctx, size_t lo, size_t hi), void *ctx, size_t n, size_t min_split);

#endif
