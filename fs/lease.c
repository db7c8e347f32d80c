/* SPDX-License-Identifier: MIT */
/*
 * Lease renewal and expiry (see lease.h).
 *
 * Time is CLOCK_MONOTONIC. The timer thread sleeps in poll() on a wake-up
 * pipe and the provider's watch descriptor (inotify for key files) until
 * the next renewal or the deadline, whichever is first. A renewal is handed
 * to the caller thread; its result comes back under l->lock. A result that
 * started before a revocation (older `epoch`) is ignored.
 *
 * Renewals (the caller thread's and lease_unlock's) run one at a time
 * under renew_lock: each reads the descriptor again (see lease.h) and may
 * replace the provider key. A replaced key may still be the one whose watch
 * descriptor the timer thread is polling; it is then parked in `retired`
 * and closed by the timer thread once it polls the new key's descriptor.
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
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "crypto/kdf.h"
#include "crypto/secmem.h"
#include "fs/log.h"

struct lease {
	struct vol *v;
	struct lease_cfg cfg;
	pthread_t timer, caller;
	int wake[2];               /* wakes the timer thread */

	pthread_mutex_t renew_lock; /* one renewal at a time; protects the fields below */
	struct vdesc good;         /* last descriptor that authenticated (holds our slot) */
	char slot[VDESC_SLOT_NAME_MAX + 1];
	char key_provider[VDESC_PROVIDER_MAX + 1]; /* the slot's provider and key id */
	char key_for[VDESC_KEY_ID_MAX + 1];        /* when `key` was chosen */
	char desc_problem[512];    /* the descriptor problem last logged, "" if none */
	uint8_t *mac_key;          /* secure memory: scratch for the descriptor MAC key */

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
	struct kms_key *key;       /* renewals use it; changed under renew_lock and lock */
	int key_owned;             /* opened by the lease (cfg.key is the caller's) */
	struct kms_key *polled;    /* the key whose watch descriptor the timer polls */
	struct kms_key *retired;   /* replaced while polled: the timer closes it */
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

/* Logs a descriptor problem once (until it changes or goes away). */
static void desc_problem(struct lease *l, const char *what)
{
	if (!strcmp(l->desc_problem, what))
		return;
	snprintf(l->desc_problem, sizeof(l->desc_problem), "%s", what);
	log_warn("%s; renewals use the last good volume descriptor", what);
}

static void desc_good(struct lease *l)
{
	if (!l->desc_problem[0])
		return;
	l->desc_problem[0] = '\0';
	log_msg(LOG_NOTICE, __func__, "the volume descriptor authenticates again");
}

/*
 * Checks nd with the MAC key of vkey. Returns 1 if nd authenticates, 0 if
 * it does not, -1 if vkey is not this volume's key (the last good
 * descriptor, which authenticated under it, does not).
 */
static int desc_authentic(struct lease *l, const struct vdesc *nd, const uint8_t *vkey)
{
	int r;

	kdf_derive(l->mac_key, KDF_DESC_MAC, vkey);
	if (vdesc_verify(&l->good, l->mac_key) != 0)
		r = -1;
	else
		r = vdesc_verify(nd, l->mac_key) == 0;
	sodium_memzero(l->mac_key, BYOKFS_KEY_BYTES);
	secmem_wipe_stack(); /* BLAKE2b left the MAC key in dead frames */
	return r;
}

/* The last good descriptor is now nd (moved). Caller holds renew_lock. */
static void desc_adopt(struct lease *l, struct vdesc *nd)
{
	vdesc_release(&l->good);
	l->good = *nd;
	memset(nd, 0, sizeof(*nd));
	desc_good(l);
}

/* Renewals use nk (opened by us) for slot s from now on. Caller holds renew_lock. */
static void key_switch(struct lease *l, struct kms_key *nk, const struct vslot *s)
{
	struct kms_key *old, *close_now = NULL;

	pthread_mutex_lock(&l->lock);
	old = l->key;
	l->key = nk;
	if (l->key_owned) {
		if (old == l->polled)
			l->retired = old; /* the timer is polling its watch descriptor */
		else
			close_now = old;
	}
	l->key_owned = 1;
	pthread_mutex_unlock(&l->lock);
	kms_close(close_now);
	snprintf(l->key_provider, sizeof(l->key_provider), "%s", s->provider);
	snprintf(l->key_for, sizeof(l->key_for), "%s", s->key_id);
	wake(l); /* the timer watches the new key */
}

static enum kms_status unwrap_slot(struct lease *l, struct kms_key *key, const struct vslot *s,
				   uint8_t *vkey, struct kms_err *err, double *ms)
{
	double t0 = now();
	enum kms_status st = kms_unwrap(key, l->v->volume_id_hex, s->wrapped, s->wrapped_len, vkey,
					err);
	*ms += (now() - t0) * 1000.0;
	if (st != KMS_OK)
		sodium_memzero(vkey, KMS_KEY_BYTES);
	return st;
}

/*
 * A renewal's provider work: reads the descriptor, unwraps our slot (see
 * lease.h for changed and removed slots) into vkey. Returns KMS_OK, or a
 * class with err set. The caller compares vkey with the held key (apply_ok).
 */
static enum kms_status renew_once(struct lease *l, uint8_t *vkey, struct kms_err *err, double *ms)
{
	struct vdesc nd;
	struct kms_key *nk = NULL;
	struct kms_err nerr = {0};
	const struct vslot *gs, *ns = NULL;
	char derr[512];
	enum kms_status s, nst;
	int have, a;

	*ms = 0;
	pthread_mutex_lock(&l->renew_lock);
	have = vdesc_load(&nd, l->v->backing, derr, sizeof(derr)) == 0;
	if (!have)
		desc_problem(l, derr);
	gs = vdesc_slot(&l->good, l->slot);
	if (have)
		ns = vdesc_slot(&nd, l->slot);

	if (ns && !vslot_equal(ns, gs)) {
		/* the slot changed (rotate): try it; it decides nothing until the
		 * descriptor naming it authenticates */
		if (!strcmp(ns->provider, l->key_provider) && !strcmp(ns->key_id, l->key_for))
			nst = KMS_OK; /* same key, new blob */
		else
			nst = kms_open2(ns->provider, ns->key_id, &nk, &nerr);
		if (nst == KMS_OK)
			nst = unwrap_slot(l, nk ? nk : l->key, ns, vkey, &nerr, ms);
		if (nst == KMS_OK && desc_authentic(l, &nd, vkey) == 1) {
			desc_adopt(l, &nd);
			if (nk) {
				key_switch(l, nk, vdesc_slot(&l->good, l->slot));
				log_msg(LOG_NOTICE, __func__, "key slot '%s' changed: renewals use %s:%s",
					l->slot, kms_provider_name(nk), kms_key_id(nk));
				nk = NULL; /* transferred */
			}
			s = KMS_OK;
			goto out;
		}
		sodium_memzero(vkey, KMS_KEY_BYTES);
		/* authenticate the new descriptor with the slot as it was */
		s = unwrap_slot(l, l->key, gs, vkey, err, ms);
		if (s != KMS_OK) {
			if (nst != KMS_OK) {
				*err = nerr; /* the key the descriptor names now is the one that counts */
				s = nst;
			}
			goto out;
		}
		a = desc_authentic(l, &nd, vkey);
		if (a == 1) {
			/* a real change, and the slot's new key does not work here */
			sodium_memzero(vkey, KMS_KEY_BYTES);
			if (nst == KMS_OK) {
				s = kms_fail(err, KMS_DENIED, "key slot '%s' does not hold this volume's key",
					     l->slot);
			} else {
				*err = nerr;
				s = nst;
			}
			desc_adopt(l, &nd);
			if (nk) {
				key_switch(l, nk, vdesc_slot(&l->good, l->slot));
				nk = NULL; /* transferred: renewals retry the new key */
			}
		} else if (a == 0) {
			desc_problem(l, "the volume descriptor fails authentication (modified?)");
		}
	} else if (have && !ns) {
		s = unwrap_slot(l, l->key, gs, vkey, err, ms);
		if (s == KMS_OK) {
			a = desc_authentic(l, &nd, vkey);
			if (a == 1) {
				sodium_memzero(vkey, KMS_KEY_BYTES);
				s = kms_fail(err, KMS_DENIED, "key slot '%s' was removed", l->slot);
			} else if (a == 0) {
				desc_problem(l, "the volume descriptor fails authentication (modified?)");
			}
		}
	} else {
		/* our slot as before, or no usable descriptor: the last good slot */
		s = unwrap_slot(l, l->key, gs, vkey, err, ms);
		if (s == KMS_OK && have) {
			a = desc_authentic(l, &nd, vkey);
			if (a == 1)
				desc_adopt(l, &nd); /* other slots may have changed */
			else if (a == 0)
				desc_problem(l, "the volume descriptor fails authentication (modified?)");
		}
	}
out:
	pthread_mutex_unlock(&l->renew_lock);
	kms_close(nk);
	if (have)
		vdesc_release(&nd);
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

/*
 * The lease threads act on a denial and enforce the deadline: on a machine
 * busy with the very readers they must cut off, they must not wait their
 * turn. Highest normal priority when allowed (root, CAP_SYS_NICE), as the
 * control threads; otherwise as we are.
 */
static void lease_thread_priority(const char *name)
{
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), -20) < 0)
		log_debug("%s thread keeps its priority: %s", name, strerror(errno));
	pthread_setname_np(pthread_self(), name); /* as ps -L shows it; named once set */
}

static void *caller_main(void *arg)
{
	struct lease *l = arg;
	uint8_t *vkey = secmem_alloc(KMS_KEY_BYTES);

	lease_thread_priority("byokfs-renew");
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
	int watch = -1;

	lease_thread_priority("byokfs-lease");
	pthread_mutex_lock(&l->lock);
	while (!l->stop) {
		if (l->polled != l->key) {
			/* a new key (first run, or a renewal replaced it): watch it */
			struct kms_key *k = l->key;
			l->polled = k;
			if (l->retired) {
				kms_close(l->retired); /* no longer polled */
				l->retired = NULL;
			}
			pthread_mutex_unlock(&l->lock);
			/* k stays open while it is l->polled: renewals retire it to us */
			watch = kms_watch_fd(k);
			pthread_mutex_lock(&l->lock);
			continue;
		}
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
			kms_watch_drain(l->polled);
			l->next_renewal = 0;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

struct lease *lease_start(struct vol *v, const struct lease_cfg *cfg)
{
	struct lease *l = calloc(1, sizeof(*l));
	const struct vslot *s;
	double t = now();

	if (!l)
		return NULL;
	l->v = v;
	l->cfg = *cfg;
	l->key = cfg->key;
	l->wake[0] = l->wake[1] = -1;
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_init(&l->renew_lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	if (vdesc_copy(&l->good, &v->desc) < 0 || !(l->mac_key = secmem_alloc(BYOKFS_KEY_BYTES))) {
		errno = ENOMEM;
		goto fail;
	}
	s = cfg->slot ? vdesc_slot(&l->good, cfg->slot) : NULL;
	if (!s) {
		errno = EINVAL;
		goto fail;
	}
	snprintf(l->slot, sizeof(l->slot), "%s", s->name);
	snprintf(l->key_provider, sizeof(l->key_provider), "%s", s->provider);
	snprintf(l->key_for, sizeof(l->key_for), "%s", s->key_id);
	l->deadline = t + cfg->seconds; /* the unwrap that unlocked the volume counts */
	l->last_ok = t;
	l->next_renewal = t + cfg->seconds / 2;
	if (pipe2(l->wake, O_NONBLOCK | O_CLOEXEC) < 0)
		goto fail;
	if (pthread_create(&l->caller, NULL, caller_main, l) != 0)
		goto fail;
	if (pthread_create(&l->timer, NULL, timer_main, l) != 0) {
		pthread_mutex_lock(&l->lock);
		l->stop = 1;
		pthread_cond_broadcast(&l->cond);
		pthread_mutex_unlock(&l->lock);
		pthread_join(l->caller, NULL);
		goto fail;
	}
	return l;
fail:
	if (l->wake[0] >= 0) {
		close(l->wake[0]);
		close(l->wake[1]);
	}
	vdesc_release(&l->good);
	secmem_free(l->mac_key);
	free(l);
	return NULL;
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
	snprintf(st->slot, sizeof(st->slot), "%s", l->slot);
	snprintf(st->provider, sizeof(st->provider), "%s", kms_provider_name(l->key));
	snprintf(st->key_id, sizeof(st->key_id), "%s", kms_key_id(l->key));
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
	kms_close(l->retired);
	if (l->key_owned)
		kms_close(l->key);
	vdesc_release(&l->good);
	secmem_free(l->mac_key);
	pthread_mutex_destroy(&l->lock);
	pthread_mutex_destroy(&l->renew_lock);
	pthread_cond_destroy(&l->cond);
	free(l);
}
