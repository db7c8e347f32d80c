/* SPDX-License-Identifier: MIT */
/*
 * The lease: the mount may use the volume key only while the key provider
 * keeps confirming it. Every lease/2 seconds a renewal asks the provider to
 * unwrap the slot's wrapped volume key (not merely describe the key), so a
 * disabled key and a withdrawn permission both show. The key may be used
 * until `lease` seconds after the last successful renewal.
 *
 * Each renewal reads the volume descriptor again and finds its key slot by
 * name, so `byokfs rotate` and `byokfs keyslot` take effect on running
 * mounts at their next renewal:
 *   slot changed (rotated)  -> the provider key is reopened if its provider
 *                              or key id changed, and the new blob is used
 *   slot removed            -> denied ("key slot 'X' was removed")
 *   descriptor unreadable, unparsable or failing authentication
 *                           -> logged; the last good descriptor is used
 * A new descriptor decides nothing until it authenticates under the
 * volume key (MAC key derived from the key a renewal unwrapped, checked
 * against the last good descriptor), so a storage writer cannot steer a
 * mount to another key or revoke it by editing the descriptor.
 *
 *   denied     -> revoked: keys wiped at once; stays so until lease_unlock()
 *   transient  -> still unlocked until the lease runs out, then locked
 *                 (keys wiped); unlocks on its own when a renewal succeeds
 *   a different key -> denied
 *
 * Two threads: a timer thread that owns the schedule and the deadline and
 * never blocks on the provider, and a caller thread that makes provider
 * calls, so a hung provider can delay a renewal but never the deadline.
 * After any wipe, the on_wipe callback invalidates the kernel's caches.
 *
 * Calling sequence:
 *   lease_start() -> [lease_revoke() | lease_unlock() | lease_status()]* -> lease_stop()
 */
#ifndef BYOKFS_FS_LEASE_H
#define BYOKFS_FS_LEASE_H

#include <stddef.h>
#include <stdint.h>

#include "fs/vol.h"
#include "kms/kms.h"

struct lease;

struct lease_cfg {
	double seconds;        /* lease length; renewals every seconds/2 */
	/* provider key of the slot that unlocked the volume; stays the
	 * caller's (closed by the caller after lease_stop) */
	struct kms_key *key;
	const char *slot;      /* that slot's name in v->desc */
	/* called after every wipe, from the thread that wiped */
	void (*on_wipe)(void *ctx, enum vol_state why);
	void *ctx;
};

struct lease_status {
	enum vol_state state;
	int revoked_by_command;
	double seconds;
	double expires_in;          /* seconds left; <= 0 when not unlocked */
	double last_renewal_ago;    /* seconds since the last successful renewal, -1 if none */
	double last_latency_ms;     /* of the last provider call */
	uint64_t renewals_ok, renewals_failed;
	char last_error[KMS_MSG_MAX];
	char slot[VDESC_SLOT_NAME_MAX + 1];     /* the key slot renewals go through */
	char provider[VDESC_PROVIDER_MAX + 1];  /* the key renewals use now */
	char key_id[VDESC_KEY_ID_MAX + 1];
};

/*
 * Starts the threads. v->desc must be the descriptor that unlocked v (it
 * authenticated) and hold cfg->slot. NULL on failure (errno set).
 */
struct lease *lease_start(struct vol *v, const struct lease_cfg *cfg);

/*
 * Revokes now: wipes every key, invalidates caches (on_wipe) and returns.
 * Renewals stop until lease_unlock().
 */
void lease_revoke(struct lease *l);

/*
 * Asks the provider again; on success unlocks the volume and restarts
 * renewals. Returns 0, or a kms_status class with a reason in err.
 */
int lease_unlock(struct lease *l, char *err, size_t errlen);

void lease_get_status(struct lease *l, struct lease_status *st);

/* Stops the threads (does not wipe: the caller does at unmount). */
void lease_stop(struct lease *l);

const char *vol_state_name(enum vol_state s);

#endif
