/* SPDX-License-Identifier: MIT */
/*
 * Pure parsing and classification for the aws-kms and vault-transit
 * providers: key specs, answers, error classes, credentials. No network,
 * no global state: unit-tested table by table (tests/unit/test_kms_parse.c)
 * and fuzzed (tests/fuzz/fuzz_kms_*.c). JSON through jansson, base64
 * through libsodium; nothing here ever puts key material or credentials
 * into an error message.
 */
#ifndef BYOKFS_KMS_PARSE_H
#define BYOKFS_KMS_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "kms/kms.h"

#define AWS_ID_MAX 2048     /* key id, ARN or alias (AWS: 2048) */
#define AWS_AKID_MAX 128    /* access key id */
#define AWS_SECRET_MAX 256  /* secret access key */
#define AWS_TOKEN_MAX 8192  /* session token */
#define AWS_REGION_MAX 64
#define AWS_TYPE_MAX 96     /* error type name */
#define AWS_BLOB_MAX 6144   /* CiphertextBlob (AWS: 6144) */
#define PARSE_MSG_MAX 160   /* an error message from the provider, sanitised */

/* ---- AWS KMS ---- */

/*
 * Checks a key spec: key id, key ARN, alias/NAME or alias ARN. Copies the
 * ARN's region and partition (else "" each). Returns 0, or -1 with err.
 */
int aws_parse_key_spec(const char *spec, char region[AWS_REGION_MAX], char partition[32], char *err,
		       size_t errlen);

/* 1 if s is a key ARN (arn:PARTITION:kms:REGION:ACCOUNT:key/ID), else 0. */
int aws_is_key_arn(const char *s);

struct aws_error {
	char type[AWS_TYPE_MAX];     /* __type without "com.amazonaws.kms#", "" if none */
	char message[PARSE_MSG_MAX]; /* "message" or "Message", sanitised, "" if none */
	int auth;                    /* the credentials may be stale: refresh them and retry once */
};

/*
 * Classes an error answer (HTTP status, body, x-amzn-ErrorType header or
 * NULL) by its __type, not its status:
 *   denied    DisabledException, KMSInvalidStateException, AccessDeniedException,
 *             NotFoundException, InvalidCiphertextException, IncorrectKeyException,
 *             InvalidKeyUsageException, UnrecognizedClientException,
 *             InvalidSignatureException (except clock skew), unknown types below 500
 *   transient ThrottlingException, KMSInternalException, KeyUnavailableException,
 *             DependencyTimeoutException, ExpiredTokenException, clock skew,
 *             other throttling/5xx names, unknown types from 500 up, and answers
 *             without any type (not from KMS: a proxy, a load balancer)
 *   invalid   ValidationException, SerializationException, UnknownOperationException,
 *             MissingAuthenticationTokenException, IncompleteSignatureException,
 *             UnsupportedOperationException, DryRunOperationException
 */
enum kms_status aws_classify(long status, const uint8_t *body, size_t len, const char *type_header,
			     struct aws_error *e);

/* The class of one error type name (already stripped); *auth as above. */
enum kms_status aws_class_of_type(const char *type, const char *message, long status, int *auth);

/*
 * Encrypt / ReEncrypt answer: base64 CiphertextBlob into blob (*bloblen: in
 * cap, out length), KeyId (the key ARN) into keyid. KMS_OK or a class with err.
 */
enum kms_status aws_parse_blob_reply(const uint8_t *body, size_t len, uint8_t *blob, size_t *bloblen,
				     char *keyid, size_t keyidlen, char *err, size_t errlen);

/* Decrypt answer: Plaintext (exactly KMS_KEY_BYTES) into key, KeyId into keyid. */
__attribute__((warn_unused_result))
enum kms_status aws_parse_plaintext_reply(const uint8_t *body, size_t len, uint8_t key[KMS_KEY_BYTES],
					  char *keyid, size_t keyidlen, char *err, size_t errlen);

/* Credentials; keep the struct in secure memory. */
struct aws_creds {
	char akid[AWS_AKID_MAX + 1];
	char secret[AWS_SECRET_MAX + 1];
	char token[AWS_TOKEN_MAX + 1]; /* "" for long-term keys */
	int64_t expires;               /* epoch seconds; 0 = does not expire */
};

/*
 * Checks credentials: access key id [A-Z0-9]{1,128}, secret and token
 * printable ASCII without blanks (they go into a header). 0, or -1 with err
 * (never quoting the secret or the token).
 */
int aws_creds_check(const struct aws_creds *c, char *err, size_t errlen);

/*
 * Container-credentials and IMDS answers:
 * {"AccessKeyId","SecretAccessKey","Token","Expiration"[,"Code":"Success"]}.
 * Fills c. 0, or -1 with err.
 */
int aws_parse_creds_json(const uint8_t *body, size_t len, struct aws_creds *c, char *err,
			 size_t errlen);

/* ISO 8601 UTC time (2026-11-28T17:04:44Z, fractions and +hh:mm allowed). 0 or -1. */
int aws_parse_time(const char *s, int64_t *t);

/* One profile from the shared credentials file or the config file. Secure memory. */
struct aws_profile {
	struct aws_creds creds;
	int found;                     /* the profile's section exists */
	int has_akid, has_secret;
	char region[AWS_REGION_MAX];
	char unsupported[48];          /* a credential setting byokfs does not do: role_arn, ... */
};

/*
 * Reads profile `name` from the text of a credentials file ([name]) or,
 * when config is set, a config file ([profile name], or [default]).
 * Values already in p are kept unless the file sets them (call it for the
 * credentials file first, then the config file, which fills only the gaps).
 * Returns 0, or the line number of the first syntax error.
 */
int aws_parse_profile(const char *text, size_t len, const char *name, int config,
		      struct aws_profile *p);

/* ---- Vault / OpenBao transit ---- */

/* "MOUNT/KEY" (the mount may have slashes). 0, or -1 with err. */
int vault_parse_spec(const char *id, char *mount, size_t mountlen, char *name, size_t namelen,
		     char *err, size_t errlen);

/*
 * Classes an error answer by status and message ({"errors":[...]}):
 *   denied    401, 403 (bad, revoked or expired token, policy), 404 (key or mount
 *             missing), 400 "disallowed by policy (too old)" (min_decryption_version),
 *             "message authentication failed", "key not found", "version is too new",
 *             other 400s and other 4xx
 *   transient 408, 412, 429, 5xx (503: sealed), 3xx (a standby node redirecting)
 *   invalid   400 "invalid ciphertext" (a damaged slot), "missing 'context'"
 * The first error text goes into msg, sanitised.
 */
enum kms_status vault_classify(long status, const uint8_t *body, size_t len, char *msg, size_t msglen);

/* "vault:vN:<base64>": N, or -1 if malformed. */
long vault_blob_version(const uint8_t *blob, size_t len);

/* encrypt / rewrap answer: data.ciphertext into blob (*bloblen: in cap, out length). */
enum kms_status vault_parse_ciphertext_reply(const uint8_t *body, size_t len, uint8_t *blob,
					     size_t *bloblen, char *err, size_t errlen);

/* decrypt answer: data.plaintext (exactly KMS_KEY_BYTES) into key. */
__attribute__((warn_unused_result))
enum kms_status vault_parse_plaintext_reply(const uint8_t *body, size_t len,
					    uint8_t key[KMS_KEY_BYTES], char *err, size_t errlen);

/* Copies printable ASCII of src (at most n bytes) to dst, other bytes as '?'. */
void parse_sanitise(char *dst, size_t dstlen, const char *src, size_t n);

#endif
