/* SPDX-License-Identifier: MIT */
/* Provider registry and the dispatch of kms.h calls. */
#include "kms/kms.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secmem.h"

extern const struct kms_provider kms_local;
extern const struct kms_provider kms_aws;
extern const struct kms_provider kms_vault;

/* The only list of providers. */
static const struct kms_provider *const providers[] = {
	&kms_local,
	&kms_aws,
	&kms_vault,
};

struct kms_key {
	const struct kms_provider *prov;
	void *state;
};

static atomic_uint_fast64_t calls;

enum kms_status kms_fail(struct kms_err *err, enum kms_status s, const char *fmt, ...)
{
	va_list ap;

	err->status = s;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return s;
}

const char *kms_strerror(enum kms_status s)
{
	switch (s) {
	case KMS_OK:
		return "ok";
	case KMS_DENIED:
		return "denied";
	case KMS_TRANSIENT:
		return "provider unavailable";
	case KMS_INVALID:
		return "invalid key or configuration";
	}
	return "unknown";
}

enum kms_status kms_open2(const char *provider, const char *id, struct kms_key **key,
			  struct kms_err *err)
{
	const struct kms_provider *p = NULL;
	struct kms_key *k;
	enum kms_status s;

	*key = NULL;
	for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (!strcmp(providers[i]->name, provider))
			p = providers[i];
	if (!p)
		return kms_fail(err, KMS_INVALID, "unknown key provider '%s'", provider);
	if (!*id)
		return kms_fail(err, KMS_INVALID, "empty key id for provider '%s'", provider);
	k = calloc(1, sizeof(*k));
	if (!k)
		return kms_fail(err, KMS_TRANSIENT, "out of memory");
	k->prov = p;
	s = p->open(id, &k->state, err);
	if (s != KMS_OK) {
		free(k);
		return s;
	}
	*key = k;
	return KMS_OK;
}

enum kms_status kms_open(const char *spec, struct kms_key **key, struct kms_err *err)
{
	const char *colon = strchr(spec, ':');
	char prov[32];

	*key = NULL;
	if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(prov))
		return kms_fail(err, KMS_INVALID, "bad key '%s': expected PROVIDER:ID, e.g. local:/path/to/key",
				spec);
	memcpy(prov, spec, (size_t)(colon - spec));
	prov[colon - spec] = '\0';
	return kms_open2(prov, colon + 1, key, err);
}

enum kms_status kms_wrap(struct kms_key *key, const char *context,
			 const uint8_t vkey[KMS_KEY_BYTES], uint8_t *blob, size_t *bloblen,
			 struct kms_err *err)
{
	atomic_fetch_add(&calls, 1);
	err->status = KMS_OK;
	err->msg[0] = '\0';
	enum kms_status s = key->prov->wrap(key->state, context, vkey, blob, bloblen, err);
	secmem_wipe_stack(); /* the provider handled the master and volume keys */
	return s;
}

enum kms_status kms_unwrap(struct kms_key *key, const char *context, const uint8_t *blob,
			   size_t bloblen, uint8_t vkey[KMS_KEY_BYTES], struct kms_err *err)
{
	atomic_fetch_add(&calls, 1);
	err->status = KMS_OK;
	err->msg[0] = '\0';
	enum kms_status s = key->prov->unwrap(key->state, context, blob, bloblen, vkey, err);
	secmem_wipe_stack(); /* the provider handled the master and volume keys */
	return s;
}

enum kms_status kms_rewrap(struct kms_key *key, const char *context, const uint8_t *blob,
			   size_t bloblen, uint8_t *newblob, size_t *newlen, struct kms_err *err)
{
	err->status = KMS_OK;
	err->msg[0] = '\0';
	if (!key->prov->rewrap)
		return kms_fail(err, KMS_INVALID, "provider '%s' has no key versions to rewrap under",
				key->prov->name);
	atomic_fetch_add(&calls, 1);
	enum kms_status s = key->prov->rewrap(key->state, context, blob, bloblen, newblob, newlen, err);
	secmem_wipe_stack();
	return s;
}

int kms_watch_fd(struct kms_key *key)
{
	return key->prov->watch_fd ? key->prov->watch_fd(key->state) : -1;
}

void kms_watch_drain(struct kms_key *key)
{
	if (key->prov->watch_drain)
		key->prov->watch_drain(key->state);
}

const char *kms_provider_name(const struct kms_key *key)
{
	return key->prov->name;
}

const char *kms_key_id(const struct kms_key *key)
{
	return key->prov->key_id(key->state);
}

void kms_close(struct kms_key *key)
{
	if (!key)
		return;
	key->prov->close(key->state);
	free(key);
}

uint64_t kms_calls(void)
{
	return atomic_load(&calls);
}
