/* SPDX-License-Identifier: MIT */
/*
 * The volume descriptor: ".byokfs.volume" at the backing root, INI (inih).
 *
 * [volume] holds the format version, volume id, cipher, block size, name
 * scheme, long-name threshold, key epoch and a MAC; one [slot NAME] section
 * per key slot holds the provider, the key id and the volume key wrapped by
 * that master key. The MAC (keyed BLAKE2b-256 under a key derived from the
 * volume key) covers every value, slots included, so nobody without the
 * volume key can change a parameter, add, drop or reorder a slot.
 *
 * Calling sequence:
 *   mount:  vdesc_load() -> unwrap a slot (kms) -> vdesc_verify()
 *   init:   fill struct -> vdesc_seal() -> vdesc_store()
 *   keyslot, rotate: vdesc_load() -> unwrap -> vdesc_verify() ->
 *           vdesc_add_slot()/vdesc_remove_slot()/vdesc_set_slot() ->
 *           vdesc_seal() -> vdesc_store()
 */
#ifndef BYOKFS_CRYPTO_VDESC_H
#define BYOKFS_CRYPTO_VDESC_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/params.h"

#define VDESC_FILE ".byokfs.volume"
#define VDESC_MAX_SLOTS 8
#define VDESC_SLOT_NAME_MAX 32
#define VDESC_PROVIDER_MAX 32
#define VDESC_KEY_ID_MAX 1024
#define VDESC_WRAPPED_MAX 8192
#define VDESC_NAMES_SCHEME "siv-xchacha20-blake2b"
#define VDESC_MAC_BYTES 32

struct vslot {
	char name[VDESC_SLOT_NAME_MAX + 1];
	char provider[VDESC_PROVIDER_MAX + 1];
	char *key_id;     /* malloc'd */
	uint8_t *wrapped; /* malloc'd: the provider's blob (ciphertext) */
	size_t wrapped_len;
};

/* The previous volume key of an unfinished rekey, sealed (crypto/seal.h). */
#define VDESC_REKEY_PREV_BYTES (BYOKFS_KEY_BYTES + 40)
#define VDESC_REKEY_AD "byokfs-rekey-v1:"

struct vdesc {
	unsigned format;
	uint8_t id[BYOKFS_VOLUME_ID_BYTES];
	enum byokfs_cipher cipher;
	unsigned block_shift;
	unsigned longname_max;
	uint32_t key_epoch;
	char created[32];
	uint8_t mac[VDESC_MAC_BYTES];
	unsigned nslots;
	struct vslot slots[VDESC_MAX_SLOTS];
	/*
	 * [rekey], present only while a rekey is unfinished: headers of key
	 * epoch rekey_from_epoch and names, symlink targets and xattrs under
	 * the previous volume key still exist. rekey_prev is that key, sealed
	 * under KDF(current volume key, KDF_REKEY) with AD VDESC_REKEY_AD ||
	 * id hex.
	 */
	int rekey;
	uint32_t rekey_from_epoch;
	uint8_t rekey_prev[VDESC_REKEY_PREV_BYTES];
};

/* The volume id as 32 lowercase hex characters (the providers' context). */
void vdesc_id_hex(const struct vdesc *d, char out[2 * BYOKFS_VOLUME_ID_BYTES + 1]);

/*
 * Parses descriptor text. Returns 0, or -EBADMSG with a one-line reason in
 * err (errlen bytes) naming the line or the field.
 */
__attribute__((warn_unused_result))
int vdesc_parse(struct vdesc *d, const char *text, char *err, size_t errlen);

/* Reads dir/.byokfs.volume. -ENOENT, -errno, or -EBADMSG (see err). */
__attribute__((warn_unused_result))
int vdesc_load(struct vdesc *d, const char *dir, char *err, size_t errlen);

/* Renders the descriptor as INI; returns malloc'd text, or NULL (out of
 * memory, or a key id no INI line split can carry). */
char *vdesc_format(const struct vdesc *d);

/* Computes the MAC into d->mac. */
void vdesc_seal(struct vdesc *d, const uint8_t desc_mac_key[BYOKFS_KEY_BYTES]);

/* 0 if d->mac is right for desc_mac_key, else -EBADMSG. */
__attribute__((warn_unused_result))
int vdesc_verify(const struct vdesc *d, const uint8_t desc_mac_key[BYOKFS_KEY_BYTES]);

/*
 * Writes dir/.byokfs.volume atomically (temporary file, fsync, rename,
 * fsync of the directory). Returns 0 or -errno.
 */
int vdesc_store(const struct vdesc *d, const char *dir);

/* Adds a slot (copies key_id and wrapped). 0, -ENOSPC, -EEXIST or -EINVAL. */
int vdesc_add_slot(struct vdesc *d, const char *name, const char *provider,
		   const char *key_id, const uint8_t *wrapped, size_t wrapped_len);

/*
 * Removes the slot called name, keeping the order of the others. 0,
 * -ENOENT (no such slot) or -EBUSY (it is the last slot: a descriptor
 * needs one). The caller re-seals.
 */
int vdesc_remove_slot(struct vdesc *d, const char *name);

/*
 * Replaces a slot's provider, key id and wrapped key (copies them); the
 * slot keeps its name and place. 0, -EINVAL or -ENOMEM (then unchanged).
 */
int vdesc_set_slot(struct vslot *s, const char *provider, const char *key_id,
		   const uint8_t *wrapped, size_t wrapped_len);

/* Deep copy of src into dst (released by vdesc_release). 0 or -ENOMEM. */
int vdesc_copy(struct vdesc *dst, const struct vdesc *src);

/* 1 if two slots have the same name, provider, key id and wrapped key. */
int vslot_equal(const struct vslot *a, const struct vslot *b);

/* Returns the slot called name, or NULL. */
struct vslot *vdesc_slot(struct vdesc *d, const char *name);

/* 1 if a value can be stored in the descriptor (printable, no " ;"). */
int vdesc_value_ok(const char *value);

void vdesc_release(struct vdesc *d);

#endif
