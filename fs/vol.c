/* SPDX-License-Identifier: MIT */
/* The volume: descriptor, keys and the revocation gate (see vol.h). */
#include "fs/vol.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/blk.h"
#include "crypto/seal.h"

int vol_open(struct vol *v, const char *backing, char *err, size_t errlen)
{
	char real[PATH_MAX];
	pthread_rwlockattr_t attr;
	int r;

	memset(v, 0, sizeof(*v));
	v->root_fd = -1;
	if (!realpath(backing, real)) {
		r = -errno;
		snprintf(err, errlen, "cannot open backing directory '%s': %s", backing,
			 strerror(errno));
		return r;
	}
	v->backing = strdup(real);
	if (!v->backing)
		return -ENOMEM;
	v->root_fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (v->root_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open backing directory '%s': %s", real, strerror(errno));
		goto fail;
	}
	r = vdesc_load(&v->desc, real, err, errlen);
	if (r == -ENOENT) {
		snprintf(err, errlen, "'%s' is not a byokfs volume: no %s (run byokfs init first)",
			 real, VDESC_FILE);
		goto fail;
	}
	if (r < 0)
		goto fail;
	if (!cipher_available(v->desc.cipher)) {
		snprintf(err, errlen, "this CPU cannot run the volume's cipher %s",
			 cipher_name(v->desc.cipher));
		r = -ENOTSUP;
		goto fail;
	}
	v->cipher = v->desc.cipher;
	v->block_shift = v->desc.block_shift;
	v->block_size = (size_t)1 << v->block_shift;
	v->overhead = blk_overhead(v->cipher);
	v->longname_max = v->desc.longname_max;
	vdesc_id_hex(&v->desc, v->volume_id_hex);

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&v->gate, &attr);
	pthread_rwlockattr_destroy(&attr);
	atomic_store(&v->state, VOL_LOCKED);
	v->keys = secmem_alloc(sizeof(*v->keys));
	v->old_keys = secmem_alloc(sizeof(*v->old_keys));
	v->pool = keypool_new(sizeof(struct blk_key));
	if (!v->keys || !v->old_keys || !v->pool) {
		snprintf(err, errlen, "out of secure memory");
		r = -ENOMEM;
		goto fail;
	}
	v->nk.mac = v->keys->name_mac;
	v->nk.enc = v->keys->name_enc;
	v->old_nk.mac = v->old_keys->name_mac;
	v->old_nk.enc = v->old_keys->name_enc;
	return 0;
fail:
	vol_close(v);
	return r;
}

int vol_unlock(struct vol *v, const uint8_t vkey[BYOKFS_KEY_BYTES])
{
	struct vkeys *k = secmem_alloc(sizeof(*k));
	int r;

	if (!k)
		return -ENOMEM;
	vkeys_derive(k, vkey);
	if (vdesc_verify(&v->desc, k->desc_mac) != 0) {
		secmem_free(k);
		secmem_wipe_stack();
		return -EBADMSG;
	}
	/* an unfinished rekey: the previous generation's key comes along */
	uint8_t *prev = NULL;
	if (v->desc.rekey) {
		char ad[64];
		prev = secmem_alloc(BYOKFS_KEY_BYTES + BYOKFS_KEY_BYTES);
		if (!prev) {
			secmem_free(k);
			return -ENOMEM;
		}
		kdf_derive(prev + BYOKFS_KEY_BYTES, KDF_REKEY, vkey);
		snprintf(ad, sizeof(ad), "%s%s", VDESC_REKEY_AD, v->volume_id_hex);
		if (unseal(prev + BYOKFS_KEY_BYTES, (const uint8_t *)ad, strlen(ad), v->desc.rekey_prev,
			   sizeof(v->desc.rekey_prev), prev) != BYOKFS_KEY_BYTES) {
			secmem_free(prev);
			secmem_free(k);
			secmem_wipe_stack();
			return -EBADMSG;
		}
	}
	/* the previous generation first: nothing runs until the state says unlocked */
	if (prev) {
		vol_set_previous(v, v->desc.rekey_from_epoch, prev);
		secmem_free(prev);
	}
	pthread_rwlock_wrlock(&v->gate);
	memcpy(v->keys, k, sizeof(*k));
	atomic_fetch_add(&v->key_gen, 1);
	atomic_store(&v->state, VOL_UNLOCKED);
	pthread_rwlock_unlock(&v->gate);
	secmem_free(k);
	secmem_wipe_stack();
	r = 0;
	return r;
}

void vol_wipe(struct vol *v, enum vol_state state)
{
	pthread_rwlock_wrlock(&v->gate);
	atomic_store(&v->state, state);
	if (v->keys)
		sodium_memzero(v->keys, sizeof(*v->keys));
	if (v->old_keys)
		sodium_memzero(v->old_keys, sizeof(*v->old_keys));
	v->has_old = 0;
	if (v->pool)
		keypool_wipe_all(v->pool);
	atomic_fetch_add(&v->key_gen, 1);
	pthread_rwlock_unlock(&v->gate);
	secmem_wipe_stack();
}

void vol_set_previous(struct vol *v, uint32_t epoch, const uint8_t old_vkey[BYOKFS_KEY_BYTES])
{
	struct vkeys *k = secmem_alloc(sizeof(*k));

	if (!k)
		return;
	vkeys_derive(k, old_vkey);
	pthread_rwlock_wrlock(&v->gate);
	memcpy(v->old_keys, k, sizeof(*k));
	v->old_epoch = epoch;
	v->has_old = 1;
	atomic_fetch_add(&v->key_gen, 1);
	pthread_rwlock_unlock(&v->gate);
	secmem_free(k);
	secmem_wipe_stack();
}

const uint8_t *vol_header_key(const struct vol *v, uint32_t epoch)
{
	if (epoch == v->desc.key_epoch)
		return v->keys->header;
	if (v->has_old && epoch == v->old_epoch)
		return v->old_keys->header;
	return NULL;
}

int vol_gate_enter(struct vol *v)
{
	pthread_rwlock_rdlock(&v->gate);
	if (atomic_load(&v->state) != VOL_UNLOCKED) {
		pthread_rwlock_unlock(&v->gate);
		return -EKEYREVOKED;
	}
	return 0;
}

void vol_gate_leave(struct vol *v)
{
	pthread_rwlock_unlock(&v->gate);
	/* the primitives just called left key material in dead stack frames */
	secmem_wipe_stack();
}

int vol_key_matches(struct vol *v, const uint8_t vkey[BYOKFS_KEY_BYTES])
{
	int eq = 0;

	if (vol_gate_enter(v) == 0) {
		eq = sodium_memcmp(v->keys->volume, vkey, BYOKFS_KEY_BYTES) == 0;
		vol_gate_leave(v);
	}
	return eq;
}

void vol_close(struct vol *v)
{
	if (v->keys)
		secmem_free(v->keys);
	v->keys = NULL;
	if (v->old_keys)
		secmem_free(v->old_keys);
	v->old_keys = NULL;
	keypool_free(v->pool);
	v->pool = NULL;
	if (v->root_fd >= 0)
		close(v->root_fd);
	v->root_fd = -1;
	vdesc_release(&v->desc);
	free(v->backing);
	v->backing = NULL;
}
