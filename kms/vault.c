/* SPDX-License-Identifier: MIT */
/*
 * The "vault-transit" provider: a master key in the transit secrets engine
 * of HashiCorp Vault or OpenBao, named MOUNT/KEY (vault-transit:transit/byokfs).
 *
 * wrap = transit/encrypt, unwrap (and so every lease renewal) =
 * transit/decrypt, rewrap = transit/rewrap (to the key's latest version,
 * without the volume key leaving Vault). The volume id is bound through a
 * derived key's `context` = base64("byokfs-volume:" + volume id): a derived
 * key (derived=true) makes a per-volume key from it, and unlike
 * associated_data it survives transit/rewrap (KMS-NOTES). wrap checks that
 * the key is derived: a decrypt under another context must fail, or the
 * wrap is refused.
 *
 * Settings, the Vault CLI's environment first: VAULT_ADDR (else byokfs.conf
 * address, else https://127.0.0.1:8200), VAULT_TOKEN (else byokfs.conf
 * token_file, else ~/.vault-token, re-read whenever the file changes, so a
 * Vault Agent sink can rotate it), VAULT_NAMESPACE, VAULT_CACERT,
 * VAULT_CAPATH. TLS verification is always on (VAULT_SKIP_VERIFY is
 * ignored); plain http only to loopback. The token lives in secure memory
 * and never appears in a message.
 *
 * Errors by status and text (parse.c): 403 and other refusals are denied,
 * 429/5xx/sealed transient, retried within retry_budget as for aws-kms.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/secmem.h"
#include "kms/config.h"
#include "kms/http.h"
#include "kms/ini.h"
#include "kms/kms.h"
#include "kms/parse.h"

#define CONTEXT_PREFIX "byokfs-volume:"
#define PROBE_PREFIX "byokfs-probe:"
#define TOKEN_MAX 4096
#define BODY_MAX 16384

struct vault_secrets {
	char token[TOKEN_MAX + 1];
	char hdr_token[TOKEN_MAX + 32];
	char body[BODY_MAX];
	char b64[256];
};

struct vault_key {
	pthread_mutex_t lock; /* serialises calls; protects everything below */
	char id[600], mount[256], name[256];
	char addr[512];
	char ns[256];
	char ca_bundle[PATH_MAX], ca_path[PATH_MAX];
	char token_file[PATH_MAX]; /* "" when VAULT_TOKEN is used */
	struct stat token_st;
	int token_loaded;
	struct kms_settings set;
	struct http_opts hopts;
	struct http_client *http;
	struct vault_secrets *sec;
};

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static int token_ok(const char *t)
{
	if (!*t)
		return 0;
	for (; *t; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return 0;
	return 1;
}

/* The token from VAULT_TOKEN, or the token file, read again when it changed. */
static enum kms_status get_token(struct vault_key *k, struct kms_err *err)
{
	struct stat st;
	char *text;
	size_t len;
	int r;

	if (!k->token_file[0])
		return KMS_OK; /* from the environment, checked at open */
	if (stat(k->token_file, &st) < 0) {
		sodium_memzero(k->sec->token, sizeof(k->sec->token));
		k->token_loaded = 0;
		return kms_fail(err, KMS_DENIED,
				"no Vault token: set VAULT_TOKEN or write it to '%.150s' (%s)", k->token_file,
				strerror(errno));
	}
	if (k->token_loaded && st.st_ino == k->token_st.st_ino && st.st_dev == k->token_st.st_dev &&
	    st.st_size == k->token_st.st_size && st.st_mtim.tv_sec == k->token_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == k->token_st.st_mtim.tv_nsec)
		return KMS_OK;
	r = kms_read_file(k->token_file, TOKEN_MAX, 0, &text, &len, &st);
	if (r < 0)
		return kms_fail(err, r == -ENOENT || r == -EACCES ? KMS_DENIED : KMS_TRANSIENT,
				"cannot read Vault token file '%.150s': %s", k->token_file,
				r == -EFBIG ? "too large" : strerror(-r));
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ' ||
			   text[len - 1] == '\t'))
		text[--len] = '\0';
	if (!token_ok(text)) {
		secmem_free(text);
		return kms_fail(err, KMS_DENIED, "Vault token file '%.150s' holds no valid token", k->token_file);
	}
	memcpy(k->sec->token, text, len + 1);
	secmem_free(text);
	k->token_st = st;
	k->token_loaded = 1;
	return KMS_OK;
}

/*
 * POST /v1/MOUNT/OP/NAME with the JSON body req (it may hold the volume
 * key), with retries. On KMS_OK *resp holds the answer; the caller wipes it.
 * status_out: the HTTP status of the last answer (0 if none).
 */
static enum kms_status vault_call(struct vault_key *k, const char *op, json_t *req,
				  struct http_response *resp, long *status_out, struct kms_err *err)
{
	struct vault_secrets *sec = k->sec;
	char url[1200], ns_hdr[300], msg[PARSE_MSG_MAX];
	struct http_retry rt;
	enum kms_status s = KMS_TRANSIENT;
	size_t len;
	int attempts = 0;

	*status_out = 0;
	len = json_dumpb(req, sec->body, sizeof(sec->body), JSON_COMPACT);
	if (len == 0 || len >= sizeof(sec->body)) {
		sodium_memzero(sec->body, sizeof(sec->body));
		return kms_fail(err, KMS_INVALID, "Vault %s request does not fit", op);
	}
	snprintf(url, sizeof(url), "%s/v1/%s/%s/%s", k->addr, k->mount, op, k->name);
	snprintf(ns_hdr, sizeof(ns_hdr), "X-Vault-Namespace: %s", k->ns);
	http_retry_start(&rt, k->set.retry_budget, k->set.max_attempts);
	for (;;) {
		double wait = 0;
		struct http_opts o = k->hopts;

		s = get_token(k, err);
		if (s == KMS_OK) {
			struct http_request rq = {
				.method = "POST", .url = url,
				.headers = {"Content-Type: application/json", "X-Vault-Request: true", sec->hdr_token,
					    k->ns[0] ? ns_hdr : NULL},
				.body = sec->body, .body_len = len,
			};
			snprintf(sec->hdr_token, sizeof(sec->hdr_token), "X-Vault-Token: %s", sec->token);
			o.timeout = http_retry_timeout(&rt, k->set.timeout);
			attempts++;
			enum http_result hr = http_perform(k->http, &o, &rq, resp);
			sodium_memzero(sec->hdr_token, sizeof(sec->hdr_token));
			if (hr == HTTP_OK)
				*status_out = resp->status;
			if (hr == HTTP_OK && resp->status == 200) {
				s = KMS_OK;
				break;
			}
			if (hr == HTTP_OK) {
				s = vault_classify(resp->status, resp->body, resp->len, msg, sizeof(msg));
				http_response_wipe(k->http, resp);
				kms_fail(err, s, "Vault %s/%s %s: %s (HTTP %ld)", k->mount, k->name, op,
					 msg[0] ? msg : "no error text", resp->status);
				wait = resp->retry_after;
			} else if (hr == HTTP_TLS) {
				s = kms_fail(err, KMS_TRANSIENT, "Vault %s: TLS with %.100s failed: %s", op, k->addr,
					     resp->error);
				break;
			} else {
				s = kms_fail(err, KMS_TRANSIENT, "Vault %s: no answer from %.100s: %s", op, k->addr,
					     resp->error);
			}
		}
		if (s != KMS_TRANSIENT || !http_retry_wait(&rt, wait > 1 ? 1 : wait))
			break;
	}
	sodium_memzero(sec->body, sizeof(sec->body));
	if (s == KMS_TRANSIENT && attempts > 1) {
		char why[32];
		snprintf(why, sizeof(why), " (%d attempts)", attempts);
		size_t n = strlen(err->msg);
		if (n + strlen(why) < sizeof(err->msg))
			memcpy(err->msg + n, why, strlen(why) + 1);
	}
	return s;
}

/* base64(prefix + context) into k->sec->b64; NULL if too long */
static const char *context_b64(struct vault_key *k, const char *prefix, const char *context)
{
	char raw[160];
	int n = snprintf(raw, sizeof(raw), "%s%s", prefix, context);

	if (n < 0 || (size_t)n >= sizeof(raw) ||
	    sodium_base64_ENCODED_LEN((size_t)n, sodium_base64_VARIANT_ORIGINAL) > sizeof(k->sec->b64))
		return NULL;
	return sodium_bin2base64(k->sec->b64, sizeof(k->sec->b64), (const uint8_t *)raw, (size_t)n,
				 sodium_base64_VARIANT_ORIGINAL);
}

/* The key must be derived, or the context (the volume id) is ignored. */
static enum kms_status check_derived(struct vault_key *k, const char *context, const uint8_t *blob,
				     size_t bloblen, struct kms_err *err)
{
	struct http_response resp;
	char ct[KMS_BLOB_MAX + 1];
	const char *probe = context_b64(k, PROBE_PREFIX, context);
	long status;
	enum kms_status s;
	json_t *req;

	memcpy(ct, blob, bloblen);
	ct[bloblen] = '\0';
	req = probe ? json_pack("{s:s, s:s}", "ciphertext", ct, "context", probe) : NULL;
	if (!req)
		return kms_fail(err, KMS_INVALID, "cannot build the Vault decrypt request");
	s = vault_call(k, "decrypt", req, &resp, &status, err);
	json_decref(req);
	if (s == KMS_OK) {
		http_response_wipe(k->http, &resp);
		return kms_fail(err, KMS_INVALID,
				"Vault key %s/%s is not a derived key: it ignores the volume id; create it with derived=true",
				k->mount, k->name);
	}
	if (status == 400 && strstr(err->msg, "message authentication failed")) {
		err->status = KMS_OK;
		err->msg[0] = '\0';
		return KMS_OK; /* another context, another key: bound as it must be */
	}
	return s;
}

static enum kms_status vault_wrap(void *state, const char *context, const uint8_t key[KMS_KEY_BYTES],
				  uint8_t *blob, size_t *bloblen, struct kms_err *err)
{
	struct vault_key *k = state;
	struct http_response resp;
	char why[160], pt[64];
	enum kms_status s;
	json_t *req = NULL;
	long status;
	const char *ctx;

	pthread_mutex_lock(&k->lock);
	sodium_bin2base64(pt, sizeof(pt), key, KMS_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
	ctx = context_b64(k, CONTEXT_PREFIX, context);
	if (ctx)
		req = json_pack("{s:s, s:s}", "plaintext", pt, "context", ctx);
	sodium_memzero(pt, sizeof(pt));
	if (!req) {
		s = kms_fail(err, KMS_INVALID, "cannot build the Vault encrypt request");
		goto out;
	}
	s = vault_call(k, "encrypt", req, &resp, &status, err);
	json_decref(req);
	if (s != KMS_OK)
		goto out;
	s = vault_parse_ciphertext_reply(resp.body, resp.len, blob, bloblen, why, sizeof(why));
	http_response_wipe(k->http, &resp);
	if (s != KMS_OK) {
		kms_fail(err, s, "%s", why);
		goto out;
	}
	s = check_derived(k, context, blob, *bloblen, err);
out:
	pthread_mutex_unlock(&k->lock);
	secmem_wipe_stack();
	return s;
}

static enum kms_status check_blob(const uint8_t *blob, size_t bloblen, char *ct, struct kms_err *err)
{
	if (vault_blob_version(blob, bloblen) < 1)
		return kms_fail(err, KMS_INVALID,
				"wrapped key is not a Vault ciphertext (vault:vN:...): the key slot is damaged");
	memcpy(ct, blob, bloblen);
	ct[bloblen] = '\0';
	return KMS_OK;
}

static enum kms_status vault_unwrap(void *state, const char *context, const uint8_t *blob,
				    size_t bloblen, uint8_t key[KMS_KEY_BYTES], struct kms_err *err)
{
	struct vault_key *k = state;
	struct http_response resp;
	char why[160], ct[KMS_BLOB_MAX + 1];
	enum kms_status s;
	json_t *req = NULL;
	long status;
	const char *ctx;

	if ((s = check_blob(blob, bloblen, ct, err)) != KMS_OK)
		return s;
	pthread_mutex_lock(&k->lock);
	ctx = context_b64(k, CONTEXT_PREFIX, context);
	if (ctx)
		req = json_pack("{s:s, s:s}", "ciphertext", ct, "context", ctx);
	if (!req) {
		s = kms_fail(err, KMS_INVALID, "cannot build the Vault decrypt request");
		goto out;
	}
	s = vault_call(k, "decrypt", req, &resp, &status, err);
	json_decref(req);
	if (s != KMS_OK) {
		if (strstr(err->msg, "too old")) {
			/* name the version, so the administrator sees what was retired */
			size_t n = strlen(err->msg);
			snprintf(err->msg + n, sizeof(err->msg) - n, "; the key slot holds version %ld",
				 vault_blob_version(blob, bloblen));
		}
		goto out;
	}
	s = vault_parse_plaintext_reply(resp.body, resp.len, key, why, sizeof(why));
	http_response_wipe(k->http, &resp);
	if (s != KMS_OK)
		kms_fail(err, s, "%s", why);
out:
	pthread_mutex_unlock(&k->lock);
	secmem_wipe_stack();
	return s;
}

static enum kms_status vault_rewrap(void *state, const char *context, const uint8_t *blob,
				    size_t bloblen, uint8_t *newblob, size_t *newlen, struct kms_err *err)
{
	struct vault_key *k = state;
	struct http_response resp;
	char why[160], ct[KMS_BLOB_MAX + 1];
	enum kms_status s;
	json_t *req = NULL;
	long status;
	const char *ctx;

	if ((s = check_blob(blob, bloblen, ct, err)) != KMS_OK)
		return s;
	pthread_mutex_lock(&k->lock);
	ctx = context_b64(k, CONTEXT_PREFIX, context);
	if (ctx)
		req = json_pack("{s:s, s:s}", "ciphertext", ct, "context", ctx);
	if (!req) {
		s = kms_fail(err, KMS_INVALID, "cannot build the Vault rewrap request");
		goto out;
	}
	s = vault_call(k, "rewrap", req, &resp, &status, err);
	json_decref(req);
	if (s != KMS_OK)
		goto out;
	s = vault_parse_ciphertext_reply(resp.body, resp.len, newblob, newlen, why, sizeof(why));
	http_response_wipe(k->http, &resp);
	if (s != KMS_OK)
		kms_fail(err, s, "%s", why);
out:
	pthread_mutex_unlock(&k->lock);
	secmem_wipe_stack();
	return s;
}

static void vault_close(void *state)
{
	struct vault_key *k = state;

	if (!k)
		return;
	http_client_free(k->http);
	secmem_free(k->sec);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static enum kms_status vault_open(const char *id, void **state, struct kms_err *err)
{
	struct vault_key *k;
	char why[PATH_MAX + 200];
	const char *v, *home = env("HOME");
	enum kms_status s = KMS_DENIED;
	size_t n;

	*state = NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return kms_fail(err, KMS_TRANSIENT, "out of memory");
	pthread_mutex_init(&k->lock, NULL);
	if (vault_parse_spec(id, k->mount, sizeof(k->mount), k->name, sizeof(k->name), why, sizeof(why)) < 0) {
		s = kms_fail(err, KMS_INVALID, "%s", why);
		goto fail;
	}
	snprintf(k->id, sizeof(k->id), "%s/%s", k->mount, k->name);
	k->sec = secmem_alloc(sizeof(*k->sec));
	if (!k->sec) {
		s = kms_fail(err, KMS_TRANSIENT, "out of secure memory");
		goto fail;
	}
	if (config_provider("vault-transit", &k->set, why, sizeof(why)) < 0) {
		s = kms_fail(err, KMS_DENIED, "byokfs.conf: %.200s", why);
		goto fail;
	}
	if (http_client_new(&k->http, why, sizeof(why)) < 0) {
		s = kms_fail(err, KMS_TRANSIENT, "vault-transit: %.220s", why);
		goto fail;
	}
	snprintf(k->addr, sizeof(k->addr), "%s",
		 env("VAULT_ADDR") ? env("VAULT_ADDR") : k->set.endpoint[0] ? k->set.endpoint : "https://127.0.0.1:8200");
	n = strlen(k->addr);
	while (n > 0 && k->addr[n - 1] == '/')
		k->addr[--n] = '\0';
	if (!http_url_ok(k->addr, 0, why, sizeof(why))) {
		s = kms_fail(err, KMS_DENIED, "Vault address: %.220s", why);
		goto fail;
	}
	snprintf(k->ns, sizeof(k->ns), "%s",
		 env("VAULT_NAMESPACE") ? env("VAULT_NAMESPACE") : k->set.vault_namespace);
	if (k->ns[strspn(k->ns, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-")]) {
		s = kms_fail(err, KMS_DENIED, "bad Vault namespace '%.100s'", k->ns);
		goto fail;
	}
	if ((v = env("VAULT_TOKEN"))) {
		if (strlen(v) > TOKEN_MAX || !token_ok(v)) {
			s = kms_fail(err, KMS_DENIED, "VAULT_TOKEN is not a valid token");
			goto fail;
		}
		snprintf(k->sec->token, sizeof(k->sec->token), "%s", v);
	} else if (k->set.token_file[0]) {
		snprintf(k->token_file, sizeof(k->token_file), "%s", k->set.token_file);
	} else if (home) {
		snprintf(k->token_file, sizeof(k->token_file), "%s/.vault-token", home);
	} else {
		s = kms_fail(err, KMS_DENIED, "no Vault token: set VAULT_TOKEN, or token_file in byokfs.conf");
		goto fail;
	}
	snprintf(k->ca_bundle, sizeof(k->ca_bundle), "%s",
		 env("VAULT_CACERT") ? env("VAULT_CACERT") : k->set.ca_bundle);
	snprintf(k->ca_path, sizeof(k->ca_path), "%s", env("VAULT_CAPATH") ? env("VAULT_CAPATH") : k->set.ca_path);
	k->hopts.ca_bundle = k->ca_bundle;
	k->hopts.ca_path = k->ca_path;
	k->hopts.connect_timeout = k->set.connect_timeout;
	k->hopts.timeout = k->set.timeout;
	*state = k;
	return KMS_OK;
fail:
	vault_close(k);
	return s;
}

static const char *vault_key_id(void *state)
{
	return ((struct vault_key *)state)->id;
}

const struct kms_provider kms_vault = {
	.name = "vault-transit",
	.open = vault_open,
	.wrap = vault_wrap,
	.unwrap = vault_unwrap,
	.rewrap = vault_rewrap,
	.key_id = vault_key_id,
	.close = vault_close,
};
