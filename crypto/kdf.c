/* SPDX-License-Identifier: MIT */
/* Subkey derivation from the volume key: crypto_kdf_derive_from_key. */
#include "crypto/kdf.h"

#include <sodium.h>
#include <string.h>

#define KDF_CONTEXT "byokfsV1"

void kdf_derive(uint8_t out[BYOKFS_KEY_BYTES], enum kdf_subkey id,
		const uint8_t vkey[BYOKFS_KEY_BYTES])
{
	crypto_kdf_derive_from_key(out, BYOKFS_KEY_BYTES, (uint64_t)id, KDF_CONTEXT, vkey);
}

void vkeys_derive(struct vkeys *keys, const uint8_t vkey[BYOKFS_KEY_BYTES])
{
	if (keys->volume != vkey)
		memcpy(keys->volume, vkey, BYOKFS_KEY_BYTES);
	kdf_derive(keys->header, KDF_HEADER, keys->volume);
	kdf_derive(keys->name_mac, KDF_NAME_MAC, keys->volume);
	kdf_derive(keys->name_enc, KDF_NAME_ENC, keys->volume);
	kdf_derive(keys->desc_mac, KDF_DESC_MAC, keys->volume);
	kdf_derive(keys->link, KDF_LINK, keys->volume);
	kdf_derive(keys->xattr, KDF_XATTR, keys->volume);
}
