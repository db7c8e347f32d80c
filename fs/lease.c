/* SPDX-License-Identifier: MIT */
/*
 * Lease renewal and expiry (see lease.h).
 *
 * Time is CLOCK_MONOTONIC. The timer thread sleeps in poll() on a wake-up
 * pipe and the provider's watch descriptor (inotify for key files) until
 * the next renewal or the deadline, whichever is first. A renewal is handed
 * to the caller thread; its result comes back under l->lock. A result that
 * started before a revocation (older `epoch`) is ignored.
 */
#include "fs/lease.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/secmem.h"
#include "fs/log.h"

struct lease {
	struct vol *v;
	struct lease_cfg cfg;
	pthread_t timer, caller;
	int wake[2];               /* wakes the timer thread */

	pthread_mutex_t lock;      /* protects everything below */
	pthread_cond_t cond;       /* caller thread: work to do / result taken */
	int stop;
	int call_wanted;           /* timer asks the caller for a renewal */
	int call_running;
	uint64_t epoch;            /* bumped by revoke and unlock */
	double deadline;           /* key usable until then (monotonic) */
	double next_renewal;
	double backoff;
	int revoked_by_command;
	double last_ok;            /* monotonic time of last success, 0 = none */
	double last_latency_ms;
	uint64_t ok, failed;
	char last_error[KMS_MSG_MAX];
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *vol_state_name(enum vol_state s)
{
	switch (s) {
	case VOL_UNLOCKED:
		return "unlocked";
	case VOL_LOCKED:
		return "locked";
	case VOL_REVOKED:
		return "revoked";
	}
	return "unknown";
}

static void wake(struct lease *l)
{
	char c = 1;
	if (write(l->wake[1], &c, 1) < 0 && errno != EAGAIN)
		log_warn("cannot wake the lease thread: %s", strerror(errno));
}

/* Wipes keys into `state` and invalidates caches. Caller holds l->lock. */
static void wipe_locked(struct lease *l, enum vol_state state)
{
	double t0 = now();
	vol_wipe(l->v, state);
	double t1 = now();
	l->deadline = 0;
	if (l->cfg.on_wipe)
		l->cfg.on_wipe(l->cfg.ctx, state);
	log_debug("wipe: keys %.2f ms, caches %.2f ms", (t1 - t0) * 1000, (now() - t1) * 1000);
}

/*
 * One provider call: unwraps the slot and compares with the held key, or,
 * when the volume is not unlocked, unlocks it with the result.
 * Returns KMS_OK, a class, or KMS_DENIED for a different key.
 */
static enum kms_status renew_once(struct lease *l, uint8_t *vkey, struct kms_err *err, double *ms)
{
	double t0 = now();
	enum kms_status s = kms_unwrap(l->cfg.key, l->v->volume_id_hex, l->cfg.blob, l->cfg.bloblen,
				       vkey, err);
	*ms = (now() - t0) * 1000.0;
	return s;
}

/* Applies a successful unwrap under l->lock. */
static enum kms_status apply_ok(struct lease *l, const uint8_t *vkey, struct kms_err *err)
{
	enum vol_state st = (enum vol_state)atomic_load(&l->v->state);

	if (st == VOL_UNLOCKED) {
		if (!vol_key_matches(l->v, vkey))
			return kms_fail(err, KMS_DENIED, "the key provider returned a different volume key");
	} else if (vol_unlock(l->v, vkey) != 0) {
		return kms_fail(err, KMS_DENIED, "the key provider returned a key that does not open this volume");
	}
	return KMS_OK;
}

static void *caller_main(void *arg)
{
	struct lease *l = arg;
	uint8_t *vkey = secmem_alloc(KMS_KEY_BYTES);

	pthread_mutex_lock(&l->lock);
	while (!l->stop) {
		if (!l->call_wanted) {
			pthread_cond_wait(&l->cond, &l->lock);
			continue;
		}
		l->call_wanted = 0;
		l->call_running = 1;
		uint64_t epoch = l->epoch;
		pthread_mutex_unlock(&l->lock);

		struct kms_err err = {0};
		double ms = 0;
		enum kms_status s = vkey ? renew_once(l, vkey, &err, &ms)
					 : kms_fail(&err, KMS_TRANSIENT, "out of secure memory");

		pthread_mutex_lock(&l->lock);
		l->call_running = 0;
		l->last_latency_ms = ms;
		if (epoch != l->epoch || l->revoked_by_command) {
			/* revoked or unlocked by command meanwhile: this answer is stale */
		} else {
			double t = now();
			if (s == KMS_OK)
				s = apply_ok(l, vkey, &err);
			if (s == KMS_OK) {
				if (atomic_load(&l->v->state) == VOL_UNLOCKED && l->last_ok > 0 &&
				    l->deadline == 0)
					log_info("key provider answers again: volume unlocked");
				l->ok++;
				l->last_ok = t;
				l->deadline = t + l->cfg.seconds;
				l->next_renewal = t + l->cfg.seconds / 2;
				l->backoff = 0;
				l->last_error[0] = '\0';
			} else {
				l->failed++;
				snprintf(l->last_error, sizeof(l->last_error), "%s", err.msg);
				if (s == KMS_DENIED) {
					log_err("key provider denied the volume key: %s; revoking", err.msg);
					wipe_locked(l, VOL_REVOKED);
				} else {
					/* retry with jittered exponential backoff, within the lease */
					l->backoff = l->backoff ? fmin(l->backoff * 2, l->cfg.seconds / 4) : 0.1;
					double jitter = l->backoff * (0.8 + 0.4 * randombytes_uniform(1000) / 1000.0);
					l->next_renewal = t + jitter;
					log_warn("lease renewal failed (%s): %s; retrying in %.2fs",
						 kms_strerror(s), err.msg, jitter);
				}
			}
			if (vkey)
				sodium_memzero(vkey, KMS_KEY_BYTES);
		}
		wake(l);
	}
	pthread_mutex_unlock(&l->lock);
	secmem_free(vkey);
	return NULL;
}

static void *timer_main(void *arg)
{
	struct lease *l = arg;
	int watch = kms_watch_fd(l->cfg.key);

	pthread_mutex_lock(&l->lock);
	while (!l->stop) {
		double t = now();
		int revoked = atomic_load(&l->v->state) == VOL_REVOKED;

		/* the deadline holds even while a provider call hangs */
		if (!revoked && l->deadline > 0 && t >= l->deadline &&
		    atomic_load(&l->v->state) == VOL_UNLOCKED) {
			log_err("lease expired: the key provider has not confirmed the key for %.1fs; locking",
				l->cfg.seconds);
			wipe_locked(l, VOL_LOCKED);
		}
		if (!revoked && !l->call_running && !l->call_wanted && t >= l->next_renewal) {
			l->call_wanted = 1;
			pthread_cond_signal(&l->cond);
		}
		double until = revoked ? 3600 : l->next_renewal - t;
		if (!revoked && l->deadline > 0 && l->deadline - t < until)
			until = l->deadline - t;
		if (l->call_running || l->call_wanted)
			until = l->deadline > 0 ? fmax(l->deadline - t, 0) : 3600;
		if (until < 0)
			until = 0;
		pthread_mutex_unlock(&l->lock);

		struct pollfd pfd[2] = {{.fd = l->wake[0], .events = POLLIN},
					{.fd = watch, .events = POLLIN}};
		int n = poll(pfd, watch >= 0 ? 2 : 1, (int)ceil(until * 1000));
		pthread_mutex_lock(&l->lock);
		if (n > 0 && (pfd[0].revents & POLLIN)) {
			char buf[64];
			while (read(l->wake[0], buf, sizeof(buf)) > 0)
				;
		}
		if (n > 0 && watch >= 0 && (pfd[1].revents & POLLIN)) {
			/* the key file changed: ask the provider now */
			kms_watch_drain(l->cfg.key);
			l->next_renewal = 0;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

struct lease *lease_start(struct vol *v, const struct lease_cfg *cfg)
{
	struct lease *l = calloc(1, sizeof(*l));
	double t = now();

	if (!l)
		return NULL;
	l->v = v;
	l->cfg = *cfg;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	l->deadline = t + cfg->seconds; /* the unwrap that unlocked the volume counts */
	l->last_ok = t;
	l->next_renewal = t + cfg->seconds / 2;
	if (pipe2(l->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		free(l);
		return NULL;
	}
	if (pthread_create(&l->caller, NULL, caller_main, l) != 0) {
		close(l->wake[0]);
		close(l->wake[1]);
		free(l);
		return NULL;
	}
	if (pthread_create(&l->timer, NULL, timer_main, l) != 0) {
		pthread_mutex_lock(&l->lock);
		l->stop = 1;
		pthread_cond_broadcast(&l->cond);
		pthread_mutex_unlock(&l->lock);
		pthread_join(l->caller, NULL);
		close(l->wake[0]);
		close(l->wake[1]);
		free(l);
		return NULL;
	}
	return l;
}

void lease_revoke(struct lease *l)
{
	double t0 = now(), t1, t2;

	pthread_mutex_lock(&l->lock);
	t1 = now();
	l->epoch++;
	l->revoked_by_command = 1;
	snprintf(l->last_error, sizeof(l->last_error), "revoked by command");
	wipe_locked(l, VOL_REVOKED);
	t2 = now();
	pthread_mutex_unlock(&l->lock);
	wake(l);
	log_err("volume revoked by command: keys wiped and caches dropped in %.1f ms", (t2 - t0) * 1000);
	log_debug("revoke: %.2f ms waiting for the lease lock", (t1 - t0) * 1000);
}

int lease_unlock(struct lease *l, char *err, size_t errlen)
{
	uint8_t *vkey = secmem_alloc(KMS_KEY_BYTES);
	struct kms_err kerr = {0};
	double ms;
	enum kms_status s;
	uint64_t epoch;

	if (!vkey) {
		snprintf(err, errlen, "out of secure memory");
		return KMS_TRANSIENT;
	}
	pthread_mutex_lock(&l->lock);
	epoch = ++l->epoch; /* answers of renewals already under way are stale now */
	pthread_mutex_unlock(&l->lock);

	s = renew_once(l, vkey, &kerr, &ms);

	pthread_mutex_lock(&l->lock);
	l->last_latency_ms = ms;
	if (epoch != l->epoch) {
		s = kms_fail(&kerr, KMS_DENIED, "revoked while unlocking");
	} else {
		if (s == KMS_OK)
			s = apply_ok(l, vkey, &kerr);
		if (s == KMS_OK) {
			double t = now();
			l->revoked_by_command = 0;
			l->ok++;
			l->last_ok = t;
			l->deadline = t + l->cfg.seconds;
			l->next_renewal = t + l->cfg.seconds / 2;
			l->backoff = 0;
			l->last_error[0] = '\0';
			log_err("volume unlocked by command");
		} else {
			l->failed++;
			snprintf(l->last_error, sizeof(l->last_error), "%s", kerr.msg);
		}
	}
	pthread_mutex_unlock(&l->lock);
	secmem_free(vkey);
	wake(l);
	snprintf(err, errlen, "%s", kerr.msg);
	return s;
}

void lease_get_status(struct lease *l, struct lease_status *st)
{
	double t = now();

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&l->lock);
	st->state = (enum vol_state)atomic_load(&l->v->state);
	st->revoked_by_command = l->revoked_by_command;
	st->seconds = l->cfg.seconds;
	st->expires_in = st->state == VOL_UNLOCKED ? l->deadline - t : 0;
	st->last_renewal_ago = l->last_ok > 0 ? t - l->last_ok : -1;
	st->last_latency_ms = l->last_latency_ms;
	st->renewals_ok = l->ok;
	st->renewals_failed = l->failed;
	snprintf(st->last_error, sizeof(st->last_error), "%s", l->last_error);
	pthread_mutex_unlock(&l->lock);
}

void lease_stop(struct lease *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = 1;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	wake(l);
	pthread_join(l->timer, NULL);
	/* a provider call may still be running: it ends within its own timeout */
	pthread_join(l->caller, NULL);
	close(l->wake[0]);
	close(l->wake[1]);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->cond);
	free(l);
}
