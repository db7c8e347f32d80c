/* SPDX-License-Identifier: MIT */
/*
 * The "aws-kms" provider: a master key in AWS KMS, named by key id, key
 * ARN, alias/NAME or alias ARN (aws-kms:arn:aws:kms:eu-west-1:111122223333:key/...).
 *
 * wrap = Encrypt, unwrap (and so every lease renewal) = Decrypt, rewrap =
 * ReEncrypt to the same key (its current backing key), all over the JSON 1.1
 * API, SigV4-signed by libcurl (CURLOPT_AWS_SIGV4 "aws:amz:REGION:kms"),
 * with the encryption context {"byokfs:volume": <volume id>} on every call,
 * so a wrapped key opens only for its own volume and a key policy can
 * require it (kms:EncryptionContext:byokfs:volume).
 *
 * libcurl 7.88 pitfalls avoided (KMS-NOTES): region and service given
 * explicitly; Content-Type, X-Amz-Target and X-Amz-Security-Token in
 * CURLOPT_HTTPHEADER (so they are signed); the body in CURLOPT_POSTFIELDS
 * (the only body SigV4 hashes); no header suppressed with "Name:"; no own
 * X-Amz-Date; the access key id checked to be [A-Z0-9]+ (sent unescaped).
 *
 * Credentials, as the AWS SDKs find them: the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); the shared credentials and
 * config files (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, profile
 * AWS_PROFILE or byokfs.conf's, else "default"), re-read when they change;
 * container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI,
 * AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]); EC2 instance metadata, IMDSv2
 * only (AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_DISABLED).
 * Temporary credentials are fetched again 5 minutes before they expire; a
 * failed refresh keeps the old ones while they last. Not done: SSO,
 * credential_process, role_arn/source_profile, web identity (use container
 * credentials or an external helper writing the credentials file).
 * Secrets live in secure memory and never appear in messages.
 *
 * Errors are classed by __type (parse.c). Transient ones are retried with
 * jittered backoff within retry_budget seconds and max_attempts attempts
 * (byokfs.conf; defaults 1.5 s and 3), so one call stays well under the
 * default lease/2; the lease machinery retries on top of that.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "crypto/secmem.h"
#include "kms/config.h"
#include "kms/http.h"
#include "kms/ini.h"
#include "kms/kms.h"
#include "kms/parse.h"

#define CONTEXT_KEY "byokfs:volume"
#define REFRESH_MARGIN 300 /* seconds before expiry, as the SDKs */
#define CRED_FILE_MAX (256 * 1024)
#define BODY_MAX 16384
#define IMDS_TOKEN_TTL 21600

enum source { SRC_NONE, SRC_ENV, SRC_FILE, SRC_CONTAINER, SRC_IMDS };
static const char *const source_names[] = {"none", "environment", "shared files", "container",
					   "instance metadata"};

/* Everything secret, in one block of secure memory. */
struct aws_secrets {
	struct aws_creds creds;    /* in use */
	struct aws_creds fresh;    /* being fetched */
	struct aws_profile profile;
	char imds_token[256];
	char hdr_token[AWS_TOKEN_MAX + 32]; /* X-Amz-Security-Token: ... */
	char hdr_extra[AWS_TOKEN_MAX + 64]; /* Authorization (container) or the IMDS token */
	char body[BODY_MAX];
	char b64[BODY_MAX];
	char path_token[4096];              /* container authorization token file */
};

struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int exists;
};

struct aws_key {
	pthread_mutex_t lock;                /* serialises calls; protects everything below */
	char spec[AWS_ID_MAX + 1];
	char arn[AWS_ID_MAX + 1];            /* the key ARN KMS answered with; "" until then */
	char region[AWS_REGION_MAX];
	char endpoint[600];
	char sigv4[AWS_REGION_MAX + 16];
	char profile[128];
	char cred_file[PATH_MAX], conf_file[PATH_MAX];
	char ca_bundle[PATH_MAX];
	struct kms_settings set;
	struct http_opts hopts;
	struct http_client *http;
	struct aws_secrets *sec;
	enum source src;
	time_t next_refresh;                 /* temporary credentials: fetch again at (epoch) */
	struct file_id cred_id, conf_id;     /* SRC_FILE: what was read */
	time_t imds_token_until;
};

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static int env_true(const char *name)
{
	const char *v = env(name);
	return v && (!strcasecmp(v, "true") || !strcmp(v, "1"));
}

static void file_id_of(const char *path, struct file_id *id)
{
	struct stat st;
	memset(id, 0, sizeof(*id));
	if (stat(path, &st) == 0) {
		id->exists = 1;
		id->dev = st.st_dev;
		id->ino = st.st_ino;
		id->size = st.st_size;
		id->mtime = st.st_mtim;
	}
}

static int file_id_same(const struct file_id *a, const struct file_id *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* ---- credentials ------------------------------------------------------------------ */

static void set_creds(struct aws_key *k, const struct aws_creds *c, enum source src)
{
	time_t now = time(NULL);

	if (&k->sec->creds != c)
		memcpy(&k->sec->creds, c, sizeof(*c));
	k->src = src;
	if (c->expires > 0) {
		k->next_refresh = (time_t)c->expires - REFRESH_MARGIN;
		if (k->next_refresh < now + 1)
			k->next_refresh = now + 1;
	} else {
		k->next_refresh = (src == SRC_CONTAINER || src == SRC_IMDS) ? now + 3600 : 0;
	}
}

static enum kms_status from_env(struct aws_key *k, struct kms_err *err, int *found)
{
	const char *id = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
	const char *token = env("AWS_SESSION_TOKEN");
	struct aws_creds *c = &k->sec->fresh;
	char why[160];

	*found = 0;
	if (!id || !secret)
		return KMS_OK;
	*found = 1;
	sodium_memzero(c, sizeof(*c));
	if (strlen(id) > AWS_AKID_MAX || strlen(secret) > AWS_SECRET_MAX ||
	    (token && strlen(token) > AWS_TOKEN_MAX))
		return kms_fail(err, KMS_DENIED, "AWS credentials in the environment are too long");
	snprintf(c->akid, sizeof(c->akid), "%s", id);
	snprintf(c->secret, sizeof(c->secret), "%s", secret);
	snprintf(c->token, sizeof(c->token), "%s", token ? token : "");
	if (aws_creds_check(c, why, sizeof(why)) < 0)
		return kms_fail(err, KMS_DENIED, "environment: %s", why);
	set_creds(k, c, SRC_ENV);
	return KMS_OK;
}

/* Reads the profile from both files into k->sec->profile. */
static void read_profile(struct aws_key *k)
{
	struct aws_profile *p = &k->sec->profile;
	const char *paths[2] = {k->cred_file, k->conf_file};
	struct file_id *ids[2] = {&k->cred_id, &k->conf_id};

	sodium_memzero(p, sizeof(*p));
	for (int i = 0; i < 2; i++) {
		char *text;
		size_t len;
		file_id_of(paths[i], ids[i]);
		if (!paths[i][0] || kms_read_file(paths[i], CRED_FILE_MAX, 0, &text, &len, NULL) < 0)
			continue;
		aws_parse_profile(text, len, k->profile, i == 1, p);
		secmem_free(text);
	}
}

static enum kms_status from_files(struct aws_key *k, struct kms_err *err, int *found)
{
	struct aws_profile *p = &k->sec->profile;
	char why[160];

	*found = 0;
	read_profile(k);
	if (!p->has_akid || !p->has_secret)
		return KMS_OK;
	*found = 1;
	if (aws_creds_check(&p->creds, why, sizeof(why)) < 0)
		return kms_fail(err, KMS_DENIED, "profile '%s': %s", k->profile, why);
	set_creds(k, &p->creds, SRC_FILE);
	sodium_memzero(&p->creds, sizeof(p->creds));
	return KMS_OK;
}

/* GET/PUT to a metadata service; the answer is in *resp (200) or the class is returned. */
static enum kms_status meta_request(struct aws_key *k, const char *what, const char *method,
				    const char *url, const char *shown, const char *header,
				    struct http_response *resp, struct kms_err *err)
{
	struct http_request rq = {.method = method, .url = url, .headers = {header}};
	/* the metadata services answer locally: short timeouts */
	struct http_opts o = {.ca_bundle = k->hopts.ca_bundle, .ca_path = k->hopts.ca_path,
			      .connect_timeout = k->set.connect_timeout < 1 ? k->set.connect_timeout : 1,
			      .timeout = k->set.timeout < 2 ? k->set.timeout : 2};

	if (http_perform(k->http, &o, &rq, resp) != HTTP_OK)
		return kms_fail(err, KMS_TRANSIENT, "%s at %.100s did not answer: %s", what, shown,
				resp->error);
	if (resp->status == 200)
		return KMS_OK;
	enum kms_status s = resp->status >= 500 || resp->status == 429 ? KMS_TRANSIENT : KMS_DENIED;
	http_response_wipe(k->http, resp);
	return kms_fail(err, s, "%s at %.100s answered HTTP %ld", what, shown, resp->status);
}

static enum kms_status from_container(struct aws_key *k, struct kms_err *err, int *found)
{
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tokfile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tok = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	char url[1024], why[200];
	struct http_response resp;
	enum kms_status s;
	char *ftext = NULL;

	*found = 0;
	if (!rel && !full)
		return KMS_OK;
	*found = 1;
	if (rel)
		snprintf(url, sizeof(url), "http://169.254.170.2%s%s", rel[0] == '/' ? "" : "/", rel);
	else
		snprintf(url, sizeof(url), "%s", full);
	if (!http_url_ok(url, 1, why, sizeof(why)))
		return kms_fail(err, KMS_DENIED, "container credentials: %s", why);
	k->sec->hdr_extra[0] = '\0';
	if (tokfile) {
		size_t len;
		int r = kms_read_file(tokfile, sizeof(k->sec->path_token) - 1, 0, &ftext, &len, NULL);
		if (r < 0)
			return kms_fail(err, KMS_DENIED, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE '%.100s': %s",
					tokfile, strerror(-r));
		while (len > 0 && (ftext[len - 1] == '\n' || ftext[len - 1] == '\r' || ftext[len - 1] == ' '))
			ftext[--len] = '\0';
		tok = ftext;
	}
	if (tok) {
		for (const char *p = tok; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f) {
				secmem_free(ftext);
				return kms_fail(err, KMS_DENIED, "container authorization token has control characters");
			}
		snprintf(k->sec->hdr_extra, sizeof(k->sec->hdr_extra), "Authorization: %s", tok);
	}
	secmem_free(ftext);
	/* the relative URI is a per-task capability: not in messages */
	s = meta_request(k, "container credentials", "GET", url, rel ? "http://169.254.170.2" : url,
			 tok ? k->sec->hdr_extra : NULL, &resp, err);
	sodium_memzero(k->sec->hdr_extra, sizeof(k->sec->hdr_extra));
	if (s != KMS_OK)
		return s;
	if (aws_parse_creds_json(resp.body, resp.len, &k->sec->fresh, why, sizeof(why)) < 0) {
		http_response_wipe(k->http, &resp);
		return kms_fail(err, KMS_TRANSIENT, "container credentials: %s", why);
	}
	http_response_wipe(k->http, &resp);
	set_creds(k, &k->sec->fresh, SRC_CONTAINER);
	sodium_memzero(&k->sec->fresh, sizeof(k->sec->fresh));
	return KMS_OK;
}

static enum kms_status imds_token(struct aws_key *k, const char *base, struct kms_err *err)
{
	char url[700];
	struct http_response resp;
	enum kms_status s;
	time_t now = time(NULL);

	if (k->sec->imds_token[0] && now < k->imds_token_until)
		return KMS_OK;
	snprintf(url, sizeof(url), "%s/latest/api/token", base);
	s = meta_request(k, "instance metadata (IMDSv2 token)", "PUT", url, url,
			 "X-aws-ec2-metadata-token-ttl-seconds: 21600", &resp, err);
	if (s != KMS_OK)
		return s;
	if (resp.len == 0 || resp.len >= sizeof(k->sec->imds_token) ||
	    memchr(resp.body, '\n', resp.len) || memchr(resp.body, '\r', resp.len) ||
	    memchr(resp.body, '\0', resp.len)) {
		http_response_wipe(k->http, &resp);
		return kms_fail(err, KMS_TRANSIENT, "instance metadata sent a bad IMDSv2 token");
	}
	memcpy(k->sec->imds_token, resp.body, resp.len);
	k->sec->imds_token[resp.len] = '\0';
	http_response_wipe(k->http, &resp);
	k->imds_token_until = now + IMDS_TOKEN_TTL - 60;
	return KMS_OK;
}

static enum kms_status from_imds(struct aws_key *k, struct kms_err *err, int *found)
{
	const char *ep = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	char base[512], url[900], role[256], why[200];
	struct http_response resp;
	enum kms_status s;
	size_t n;

	*found = 0;
	if (env_true("AWS_EC2_METADATA_DISABLED") || k->set.imds == 0)
		return KMS_OK;
	*found = 1;
	snprintf(base, sizeof(base), "%s",
		 ep ? ep : (mode && !strcasecmp(mode, "IPv6")) ? "http://[fd00:ec2::254]" : "http://169.254.169.254");
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	if (!http_url_ok(base, 1, why, sizeof(why)))
		return kms_fail(err, KMS_DENIED, "instance metadata: %s", why);
	for (int attempt = 0;; attempt++) {
		if ((s = imds_token(k, base, err)) != KMS_OK)
			return s;
		snprintf(k->sec->hdr_extra, sizeof(k->sec->hdr_extra), "X-aws-ec2-metadata-token: %s",
			 k->sec->imds_token);
		snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/", base);
		s = meta_request(k, "instance metadata", "GET", url, url, k->sec->hdr_extra, &resp, err);
		if (s != KMS_OK && attempt == 0 && strstr(err->msg, "HTTP 401")) {
			k->sec->imds_token[0] = '\0'; /* token expired: one more time with a new one */
			continue;
		}
		break;
	}
	if (s != KMS_OK) {
		sodium_memzero(k->sec->hdr_extra, sizeof(k->sec->hdr_extra));
		if (strstr(err->msg, "HTTP 404"))
			return kms_fail(err, KMS_DENIED, "instance metadata: no IAM role is attached to this instance");
		return s;
	}
	n = strcspn((const char *)resp.body, "\r\n");
	if (n > resp.len)
		n = resp.len;
	if (n == 0 || n >= sizeof(role)) {
		http_response_wipe(k->http, &resp);
		sodium_memzero(k->sec->hdr_extra, sizeof(k->sec->hdr_extra));
		return kms_fail(err, KMS_DENIED, "instance metadata: no IAM role is attached to this instance");
	}
	memcpy(role, resp.body, n);
	role[n] = '\0';
	http_response_wipe(k->http, &resp);
	if (role[strspn(role, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-")]) {
		sodium_memzero(k->sec->hdr_extra, sizeof(k->sec->hdr_extra));
		return kms_fail(err, KMS_TRANSIENT, "instance metadata: bad IAM role name");
	}
	snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/%s", base, role);
	s = meta_request(k, "instance metadata", "GET", url, url, k->sec->hdr_extra, &resp, err);
	sodium_memzero(k->sec->hdr_extra, sizeof(k->sec->hdr_extra));
	if (s != KMS_OK)
		return s;
	if (aws_parse_creds_json(resp.body, resp.len, &k->sec->fresh, why, sizeof(why)) < 0) {
		http_response_wipe(k->http, &resp);
		return kms_fail(err, KMS_TRANSIENT, "instance metadata role '%s': %s", role, why);
	}
	http_response_wipe(k->http, &resp);
	set_creds(k, &k->sec->fresh, SRC_IMDS);
	sodium_memzero(&k->sec->fresh, sizeof(k->sec->fresh));
	return KMS_OK;
}

/*
 * Makes k->sec->creds usable: the cached ones while valid, else the chain.
 * force: the cached ones were refused (e.g. ExpiredTokenException).
 */
static enum kms_status get_creds(struct aws_key *k, int force, struct kms_err *err)
{
	time_t now = time(NULL);
	enum kms_status s;
	int found = 0;
	char unsupported[200] = "";

	if (!force) {
		switch (k->src) {
		case SRC_ENV:
			return KMS_OK;
		case SRC_FILE: {
			struct file_id a, b;
			file_id_of(k->cred_file, &a);
			file_id_of(k->conf_file, &b);
			if (file_id_same(&a, &k->cred_id) && file_id_same(&b, &k->conf_id))
				return KMS_OK;
			break;
		}
		case SRC_CONTAINER:
		case SRC_IMDS:
			if (now < k->next_refresh)
				return KMS_OK;
			break;
		case SRC_NONE:
			break;
		}
	}
	/* the chain, in the SDKs' order */
	s = from_env(k, err, &found);
	if (found)
		return s;
	s = from_files(k, err, &found);
	if (found)
		return s;
	if (k->sec->profile.unsupported[0])
		snprintf(unsupported, sizeof(unsupported),
			 "; profile '%.60s' uses %.47s, which byokfs does not support", k->profile,
			 k->sec->profile.unsupported);
	s = from_container(k, err, &found);
	if (!found)
		s = from_imds(k, err, &found);
	if (found && s != KMS_OK && (k->src == SRC_CONTAINER || k->src == SRC_IMDS) &&
	    k->sec->creds.expires > (int64_t)now + 10 && !force) {
		/* the refresh failed, the credentials we have still hold: keep them */
		k->next_refresh = now + 10;
		err->status = KMS_OK;
		err->msg[0] = '\0';
		return KMS_OK;
	}
	if (found)
		return s;
	sodium_memzero(&k->sec->creds, sizeof(k->sec->creds));
	k->src = SRC_NONE;
	return kms_fail(err, KMS_DENIED,
			"no AWS credentials: none in the environment, profile '%s' has none%s, no container credentials, instance metadata %s",
			k->profile, unsupported,
			env_true("AWS_EC2_METADATA_DISABLED") || k->set.imds == 0 ? "disabled" : "not tried");
}

/* ---- KMS calls ------------------------------------------------------------------------ */

/*
 * One KMS operation with retries. req is the request object (it may hold
 * the volume key; the caller frees it). On KMS_OK, *resp holds the answer
 * body; the caller wipes it.
 */
static enum kms_status kms_call(struct aws_key *k, const char *op, json_t *req,
				struct http_response *resp, struct kms_err *err)
{
	struct aws_secrets *sec = k->sec;
	char target[64], why[200];
	size_t len;
	struct http_retry rt;
	enum kms_status s = KMS_TRANSIENT;
	int auth_retried = 0, attempts = 0;

	len = json_dumpb(req, sec->body, sizeof(sec->body), JSON_COMPACT);
	if (len == 0 || len >= sizeof(sec->body)) {
		sodium_memzero(sec->body, sizeof(sec->body));
		return kms_fail(err, KMS_INVALID, "AWS KMS %s request does not fit", op);
	}
	snprintf(target, sizeof(target), "X-Amz-Target: TrentService.%s", op);
	http_retry_start(&rt, k->set.retry_budget, k->set.max_attempts);
	for (;;) {
		double wait = 0;
		struct http_opts o = k->hopts;

		s = get_creds(k, auth_retried == 1, err);
		if (auth_retried == 1)
			auth_retried = 2;
		if (s == KMS_OK) {
			struct http_request rq = {
				.method = "POST", .url = k->endpoint,
				.headers = {"Content-Type: application/x-amz-json-1.1", target},
				.body = sec->body, .body_len = len,
				.sigv4 = k->sigv4, .sigv4_user = sec->creds.akid, .sigv4_secret = sec->creds.secret,
			};
			if (sec->creds.token[0]) {
				snprintf(sec->hdr_token, sizeof(sec->hdr_token), "X-Amz-Security-Token: %s",
					 sec->creds.token);
				rq.headers[2] = sec->hdr_token;
			}
			o.timeout = http_retry_timeout(&rt, k->set.timeout);
			attempts++;
			enum http_result hr = http_perform(k->http, &o, &rq, resp);
			sodium_memzero(sec->hdr_token, sizeof(sec->hdr_token));
			if (hr == HTTP_OK && resp->status == 200) {
				s = KMS_OK;
				break;
			}
			if (hr == HTTP_OK) {
				struct aws_error e;
				s = aws_classify(resp->status, resp->body, resp->len, resp->error_type, &e);
				http_response_wipe(k->http, resp);
				if (e.type[0])
					kms_fail(err, s, "AWS KMS %s: %s%s%s%s%s%s", op, e.type,
						 e.message[0] ? ": " : "", e.message,
						 e.auth ? " (credentials from " : "",
						 e.auth ? source_names[k->src] : "", e.auth ? ")" : "");
				else
					kms_fail(err, s, "AWS KMS %s: HTTP %ld from %.100s (not an AWS answer)", op,
						 resp->status, k->endpoint);
				if (e.auth && !auth_retried && k->src != SRC_ENV) {
					/* refused credentials: fetch them again and retry at once */
					auth_retried = 1;
					if (http_retry_timeout(&rt, 1) > 0.05)
						continue;
				}
				wait = resp->retry_after;
			} else if (hr == HTTP_TLS) {
				s = kms_fail(err, KMS_TRANSIENT, "AWS KMS %s: TLS with %.100s failed: %s", op,
					     k->endpoint, resp->error);
				break; /* a certificate does not mend in milliseconds */
			} else {
				s = kms_fail(err, KMS_TRANSIENT, "AWS KMS %s: no answer from %.100s: %s", op,
					     k->endpoint, resp->error);
			}
		}
		if (s != KMS_TRANSIENT || !http_retry_wait(&rt, wait > 1 ? 1 : wait))
			break;
	}
	sodium_memzero(sec->body, sizeof(sec->body));
	if (s == KMS_TRANSIENT && attempts > 1) {
		snprintf(why, sizeof(why), " (%d attempts)", attempts);
		size_t n = strlen(err->msg);
		if (n + strlen(why) < sizeof(err->msg))
			memcpy(err->msg + n, why, strlen(why) + 1);
	}
	return s;
}

static const char *call_key_id(const struct aws_key *k)
{
	return k->arn[0] ? k->arn : k->spec;
}

static void learn_arn(struct aws_key *k, const char *arn)
{
	if (!k->arn[0] && arn[0])
		snprintf(k->arn, sizeof(k->arn), "%s", arn);
}

/* base64 of bin into k->sec->b64 */
static const char *b64(struct aws_key *k, const uint8_t *bin, size_t len)
{
	return sodium_bin2base64(k->sec->b64, sizeof(k->sec->b64), bin, len,
				 sodium_base64_VARIANT_ORIGINAL);
}

/*
 * Sends req (consumed; NULL: it could not be built) as the KMS action op,
 * whose reply carries a CiphertextBlob and the key's ARN; the blob goes to
 * blob, the ARN is learnt. The caller holds k->lock.
 */
static enum kms_status blob_call(struct aws_key *k, const char *op, json_t *req, uint8_t *blob,
				 size_t *bloblen, struct kms_err *err)
{
	struct http_response resp;
	char arn[AWS_ID_MAX + 1], why[160];
	enum kms_status s;

	if (!req)
		return kms_fail(err, KMS_INVALID, "cannot build the AWS KMS %s request", op);
	s = kms_call(k, op, req, &resp, err);
	json_decref(req);
	if (s != KMS_OK)
		return s;
	s = aws_parse_blob_reply(resp.body, resp.len, blob, bloblen, arn, sizeof(arn), why, sizeof(why));
	http_response_wipe(k->http, &resp);
	if (s != KMS_OK)
		return kms_fail(err, s, "%s", why);
	learn_arn(k, arn);
	return KMS_OK;
}

static enum kms_status aws_wrap(void *state, const char *context, const uint8_t key[KMS_KEY_BYTES],
				uint8_t *blob, size_t *bloblen, struct kms_err *err)
{
	struct aws_key *k = state;
	enum kms_status s;
	json_t *req;

	pthread_mutex_lock(&k->lock);
	req = json_pack("{s:s, s:s, s:{s:s}}", "KeyId", call_key_id(k), "Plaintext",
			b64(k, key, KMS_KEY_BYTES), "EncryptionContext", CONTEXT_KEY, context);
	sodium_memzero(k->sec->b64, sizeof(k->sec->b64));
	s = blob_call(k, "Encrypt", req, blob, bloblen, err);
	pthread_mutex_unlock(&k->lock);
	secmem_wipe_stack();
	return s;
}

static enum kms_status aws_unwrap(void *state, const char *context, const uint8_t *blob,
				  size_t bloblen, uint8_t key[KMS_KEY_BYTES], struct kms_err *err)
{
	struct aws_key *k = state;
	struct http_response resp;
	char arn[AWS_ID_MAX + 1], why[160];
	enum kms_status s;
	json_t *req;

	if (bloblen == 0 || bloblen > AWS_BLOB_MAX)
		return kms_fail(err, KMS_INVALID, "wrapped key is %zu bytes, not 1 to %d: the key slot is damaged",
				bloblen, AWS_BLOB_MAX);
	pthread_mutex_lock(&k->lock);
	req = json_pack("{s:s, s:s, s:{s:s}}", "CiphertextBlob", b64(k, blob, bloblen), "KeyId",
			call_key_id(k), "EncryptionContext", CONTEXT_KEY, context);
	if (!req) {
		s = kms_fail(err, KMS_INVALID, "cannot build the AWS KMS Decrypt request");
		goto out;
	}
	s = kms_call(k, "Decrypt", req, &resp, err);
	json_decref(req);
	if (s != KMS_OK)
		goto out;
	s = aws_parse_plaintext_reply(resp.body, resp.len, key, arn, sizeof(arn), why, sizeof(why));
	http_response_wipe(k->http, &resp);
	if (s != KMS_OK)
		kms_fail(err, s, "%s", why);
	else
		learn_arn(k, arn);
out:
	pthread_mutex_unlock(&k->lock);
	secmem_wipe_stack();
	return s;
}

static enum kms_status aws_rewrap(void *state, const char *context, const uint8_t *blob,
				  size_t bloblen, uint8_t *newblob, size_t *newlen, struct kms_err *err)
{
	struct aws_key *k = state;
	enum kms_status s;
	json_t *req;

	if (bloblen == 0 || bloblen > AWS_BLOB_MAX)
		return kms_fail(err, KMS_INVALID, "wrapped key is %zu bytes, not 1 to %d: the key slot is damaged",
				bloblen, AWS_BLOB_MAX);
	pthread_mutex_lock(&k->lock);
	/* to the same key: KMS encrypts under its current backing key */
	req = json_pack("{s:s, s:s, s:s, s:{s:s}, s:{s:s}}", "CiphertextBlob", b64(k, blob, bloblen),
			"SourceKeyId", call_key_id(k), "DestinationKeyId", call_key_id(k),
			"SourceEncryptionContext", CONTEXT_KEY, context, "DestinationEncryptionContext",
			CONTEXT_KEY, context);
	s = blob_call(k, "ReEncrypt", req, newblob, newlen, err);
	pthread_mutex_unlock(&k->lock);
	secmem_wipe_stack();
	return s;
}

/* ---- open / close ------------------------------------------------------------------------ */

static void aws_close(void *state)
{
	struct aws_key *k = state;

	if (!k)
		return;
	http_client_free(k->http);
	secmem_free(k->sec);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static enum kms_status aws_open(const char *id, void **state, struct kms_err *err)
{
	struct aws_key *k;
	char why[PATH_MAX + 200], part[32], arn_region[AWS_REGION_MAX];
	const char *home = env("HOME"), *v;
	enum kms_status s = KMS_DENIED;

	*state = NULL;
	if (aws_parse_key_spec(id, arn_region, part, why, sizeof(why)) < 0)
		return kms_fail(err, KMS_INVALID, "%s", why);
	k = calloc(1, sizeof(*k));
	if (!k)
		return kms_fail(err, KMS_TRANSIENT, "out of memory");
	pthread_mutex_init(&k->lock, NULL);
	snprintf(k->spec, sizeof(k->spec), "%s", id);
	if (aws_is_key_arn(id))
		snprintf(k->arn, sizeof(k->arn), "%s", id);
	k->sec = secmem_alloc(sizeof(*k->sec));
	if (!k->sec) {
		s = kms_fail(err, KMS_TRANSIENT, "out of secure memory");
		goto fail;
	}
	if (config_provider("aws-kms", &k->set, why, sizeof(why)) < 0) {
		s = kms_fail(err, KMS_DENIED, "byokfs.conf: %.200s", why);
		goto fail;
	}
	if (http_client_new(&k->http, why, sizeof(why)) < 0) {
		s = kms_fail(err, KMS_TRANSIENT, "aws-kms: %.220s", why);
		goto fail;
	}

	/* profile and its files */
	snprintf(k->profile, sizeof(k->profile), "%s",
		 env("AWS_PROFILE") ? env("AWS_PROFILE") : k->set.profile[0] ? k->set.profile : "default");
	if ((v = env("AWS_SHARED_CREDENTIALS_FILE")))
		snprintf(k->cred_file, sizeof(k->cred_file), "%s", v);
	else if (home)
		snprintf(k->cred_file, sizeof(k->cred_file), "%s/.aws/credentials", home);
	if ((v = env("AWS_CONFIG_FILE")))
		snprintf(k->conf_file, sizeof(k->conf_file), "%s", v);
	else if (home)
		snprintf(k->conf_file, sizeof(k->conf_file), "%s/.aws/config", home);

	/* region: the ARN's, the environment, byokfs.conf, the AWS config profile */
	if (arn_region[0])
		snprintf(k->region, sizeof(k->region), "%s", arn_region);
	else if ((v = env("AWS_REGION")) || (v = env("AWS_DEFAULT_REGION")))
		snprintf(k->region, sizeof(k->region), "%s", v);
	else if (k->set.region[0])
		snprintf(k->region, sizeof(k->region), "%s", k->set.region);
	else {
		read_profile(k);
		snprintf(k->region, sizeof(k->region), "%s", k->sec->profile.region);
		sodium_memzero(&k->sec->profile, sizeof(k->sec->profile));
		memset(&k->cred_id, 0, sizeof(k->cred_id));
		memset(&k->conf_id, 0, sizeof(k->conf_id));
	}
	if (!k->region[0]) {
		s = kms_fail(err, KMS_DENIED,
			     "no AWS region for key '%.100s': use its key ARN, or set AWS_REGION or region in byokfs.conf [aws-kms]",
			     id);
		goto fail;
	}
	if (k->region[strspn(k->region, "abcdefghijklmnopqrstuvwxyz0123456789-")]) {
		s = kms_fail(err, KMS_DENIED, "bad AWS region '%.60s'", k->region);
		goto fail;
	}
	snprintf(k->sigv4, sizeof(k->sigv4), "aws:amz:%s:kms", k->region);

	/* endpoint */
	if (!env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") &&
	    ((v = env("AWS_ENDPOINT_URL_KMS")) || (v = env("AWS_ENDPOINT_URL"))))
		snprintf(k->endpoint, sizeof(k->endpoint), "%s", v);
	else if (k->set.endpoint[0])
		snprintf(k->endpoint, sizeof(k->endpoint), "%s", k->set.endpoint);
	else
		snprintf(k->endpoint, sizeof(k->endpoint), "https://kms.%s.amazonaws.com%s", k->region,
			 !strcmp(part, "aws-cn") || !strncmp(k->region, "cn-", 3) ? ".cn" : "");
	if (!http_url_ok(k->endpoint, 0, why, sizeof(why))) {
		s = kms_fail(err, KMS_DENIED, "AWS KMS endpoint: %.220s", why);
		goto fail;
	}

	/* TLS and timeouts */
	snprintf(k->ca_bundle, sizeof(k->ca_bundle), "%s",
		 env("AWS_CA_BUNDLE") ? env("AWS_CA_BUNDLE") : k->set.ca_bundle);
	k->hopts.ca_bundle = k->ca_bundle;
	k->hopts.ca_path = k->set.ca_path;
	k->hopts.connect_timeout = k->set.connect_timeout;
	k->hopts.timeout = k->set.timeout;
	*state = k;
	return KMS_OK;
fail:
	aws_close(k);
	return s;
}

static const char *aws_key_id(void *state)
{
	struct aws_key *k = state;
	return k->arn[0] ? k->arn : k->spec;
}

const struct kms_provider kms_aws = {
	.name = "aws-kms",
	.open = aws_open,
	.wrap = aws_wrap,
	.unwrap = aws_unwrap,
	.rewrap = aws_rewrap,
	.key_id = aws_key_id,
	.close = aws_close,
};

