/* SPDX-License-Identifier: MIT */
/*
 * Key providers: where master keys live. A key is named "PROVIDER:ID"
 * (local:/path/to/key, aws-kms:ARN, vault-transit:MOUNT/KEY, pkcs11:URI).
 *
 * A provider wraps and unwraps the 32-byte volume key under its master key,
 * binding it to a context (the volume id) so that a wrapped key cannot be
 * moved to another volume. Every failure is classed:
 *   KMS_DENIED     the key is gone, disabled or refused: access is revoked;
 *   KMS_TRANSIENT  the provider could not answer (network, throttling): retry;
 *   KMS_INVALID    the key name, the configuration or the wrapped key is
 *                  malformed: a user error, or a damaged key slot.
 *
 * Calling sequence:
 *   kms_open(spec) -> kms_wrap()/kms_unwrap()/kms_check() ... -> kms_close()
 * A struct kms_key may be used from several threads; providers serialise
 * internally where they must.
 */
#ifndef BYOKFS_KMS_KMS_H
#define BYOKFS_KMS_KMS_H

#include <stddef.h>
#include <stdint.h>

#define KMS_KEY_BYTES 32
#define KMS_BLOB_MAX 8192
#define KMS_MSG_MAX 256

enum kms_status {
	KMS_OK = 0,
	KMS_DENIED = 1,
	KMS_TRANSIENT = 2,
	KMS_INVALID = 3,
};

struct kms_err {
	enum kms_status status;
	char msg[KMS_MSG_MAX]; /* one line, never contains key material */
};

struct kms_key;

struct kms_provider {
	const char *name; /* "local" */
	/* Opens the key named id (the part after "PROVIDER:"). */
	enum kms_status (*open)(const char *id, void **state, struct kms_err *err);
	/* Wraps key under the master key, bound to context. *bloblen: in cap, out len. */
	enum kms_status (*wrap)(void *state, const char *context, const uint8_t key[KMS_KEY_BYTES],
				uint8_t *blob, size_t *bloblen, struct kms_err *err);
	/* Unwraps blob (bound to context) into key. */
	enum kms_status (*unwrap)(void *state, const char *context, const uint8_t *blob,
				  size_t bloblen, uint8_t key[KMS_KEY_BYTES], struct kms_err *err);
	/*
	 * Optional: re-encrypts a blob under the newest version of the master
	 * key without exposing the plaintext (Vault transit/rewrap, AWS
	 * ReEncrypt). *newlen: in cap, out len. NULL: the provider cannot.
	 */
	enum kms_status (*rewrap)(void *state, const char *context, const uint8_t *blob,
				  size_t bloblen, uint8_t *newblob, size_t *newlen,
				  struct kms_err *err);
	/*
	 * Optional: a file descriptor that becomes readable when the provider
	 * may have changed its mind (e.g. inotify on a key file); -1 if none.
	 * After it fires, call the provider's unwrap to find out.
	 */
	int (*watch_fd)(void *state);
	/* Optional: drain events after watch_fd fired. */
	void (*watch_drain)(void *state);
	/* The key id in canonical form (absolute path, full ARN...). */
	const char *(*key_id)(void *state);
	void (*close)(void *state);
};

/* Parses "PROVIDER:ID" and opens the key. Returns KMS_OK and *key, or a class. */
enum kms_status kms_open(const char *spec, struct kms_key **key, struct kms_err *err);
/* Opens a key by provider name and id, as stored in a key slot. */
enum kms_status kms_open2(const char *provider, const char *id, struct kms_key **key,
			  struct kms_err *err);
enum kms_status kms_wrap(struct kms_key *key, const char *context,
			 const uint8_t vkey[KMS_KEY_BYTES], uint8_t *blob, size_t *bloblen,
			 struct kms_err *err);
__attribute__((warn_unused_result))
enum kms_status kms_unwrap(struct kms_key *key, const char *context, const uint8_t *blob,
			   size_t bloblen, uint8_t vkey[KMS_KEY_BYTES], struct kms_err *err);
/* Rewraps under the newest key version; KMS_INVALID if the provider cannot. */
enum kms_status kms_rewrap(struct kms_key *key, const char *context, const uint8_t *blob,
			   size_t bloblen, uint8_t *newblob, size_t *newlen, struct kms_err *err);
int kms_watch_fd(struct kms_key *key);
void kms_watch_drain(struct kms_key *key);
/* "local", "aws-kms", ... */
const char *kms_provider_name(const struct kms_key *key);
/* Canonical key id. */
const char *kms_key_id(const struct kms_key *key);
void kms_close(struct kms_key *key);

/* "denied", "transient", ... */
const char *kms_strerror(enum kms_status s);

/* Sets err to a class and a formatted one-line message; returns the class. */
enum kms_status kms_fail(struct kms_err *err, enum kms_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Counts unwrap and wrap calls made through this module (tests, status). */
uint64_t kms_calls(void);

#endif
