/* SPDX-License-Identifier: MIT */
/*
 * Parsing and error classes of the aws-kms and vault-transit providers
 * (see parse.h). Divisions: helpers; AWS key specs; AWS errors; AWS answers;
 * AWS credentials (JSON, time, shared files); Vault.
 *
 * Every JSON document is parsed by jansson from the caller's (secure)
 * buffer; jansson's allocations are wiped on free (kms/http.c). Base64
 * through libsodium, strict: padding required, nothing ignored.
 */
#include "kms/parse.h"

#include <ctype.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto/secmem.h"
#include "kms/ini.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

/* ---- helpers ----------------------------------------------------------------- */

void parse_sanitise(char *dst, size_t dstlen, const char *src, size_t n)
{
	size_t j = 0;

	if (!dstlen)
		return;
	for (size_t i = 0; i < n && src[i] && j + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == '\n' || c == '\t' || c == '\r') {
			if (j > 0 && dst[j - 1] != ' ')
				dst[j++] = ' ';
			continue;
		}
		dst[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	while (j > 0 && dst[j - 1] == ' ')
		j--;
	dst[j] = '\0';
}

static json_t *load(const uint8_t *body, size_t len)
{
	json_error_t jerr;
	json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A string member of o, or NULL; *n its length. */
static const char *member(json_t *o, const char *name, size_t *n)
{
	json_t *v = json_object_get(o, name);
	if (!json_is_string(v))
		return NULL;
	if (n)
		*n = json_string_length(v);
	return json_string_value(v);
}

static int b64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	const char *end = NULL;
	if (sodium_base642bin(out, cap, s, n, NULL, outlen, &end, B64) != 0 || end != s + n)
		return -1;
	return 0;
}

static int all_of(const char *s, const char *set)
{
	return s[strspn(s, set)] == '\0';
}

#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define DIGITS "0123456789"

/* ---- AWS key specs ----------------------------------------------------------- */

int aws_is_key_arn(const char *s)
{
	char region[AWS_REGION_MAX], part[32], err[8];
	return aws_parse_key_spec(s, region, part, err, sizeof(err)) == 0 && !strncmp(s, "arn:", 4) &&
	       strstr(s, ":key/") != NULL;
}

int aws_parse_key_spec(const char *spec, char region[AWS_REGION_MAX], char partition[32], char *err,
		       size_t errlen)
{
	size_t n = strlen(spec);

	region[0] = partition[0] = '\0';
	if (n == 0 || n > AWS_ID_MAX) {
		snprintf(err, errlen, "bad AWS KMS key id: empty or longer than %d", AWS_ID_MAX);
		return -1;
	}
	if (!strncmp(spec, "arn:", 4)) {
		/* arn:PARTITION:kms:REGION:ACCOUNT:key/ID or :alias/NAME */
		char buf[AWS_ID_MAX + 1], *f[6], *p;
		int i = 0;
		memcpy(buf, spec, n + 1);
		for (p = buf; i < 5 && p; i++) {
			f[i] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = '\0';
		}
		if (i < 5 || !p) {
			snprintf(err, errlen, "bad AWS KMS key ARN '%.100s'", spec);
			return -1;
		}
		f[5] = p;
		if (strcmp(f[2], "kms") || !*f[1] || strlen(f[1]) >= 32 || !all_of(f[1], LOWER "-") ||
		    !*f[3] || strlen(f[3]) >= AWS_REGION_MAX || !all_of(f[3], LOWER DIGITS "-") ||
		    strlen(f[4]) != 12 || !all_of(f[4], DIGITS) ||
		    (strncmp(f[5], "key/", 4) && strncmp(f[5], "alias/", 6)) ||
		    !all_of(f[5], UPPER LOWER DIGITS "/_-") || !strcmp(f[5], "key/") || !strcmp(f[5], "alias/")) {
			snprintf(err, errlen,
				 "bad AWS KMS key ARN '%.100s': expected arn:aws:kms:REGION:ACCOUNT:key/ID or ...:alias/NAME",
				 spec);
			return -1;
		}
		snprintf(region, AWS_REGION_MAX, "%s", f[3]);
		snprintf(partition, 32, "%s", f[1]);
		return 0;
	}
	if (!strncmp(spec, "alias/", 6)) {
		if (n == 6 || n > 256 || !all_of(spec + 6, UPPER LOWER DIGITS "/_-") ||
		    !strncmp(spec, "alias/aws/", 10)) {
			snprintf(err, errlen, "bad AWS KMS alias '%.100s'%s", spec,
				 !strncmp(spec, "alias/aws/", 10) ? ": AWS managed keys cannot be used" : "");
			return -1;
		}
		return 0;
	}
	if (n > 128 || !all_of(spec, UPPER LOWER DIGITS "-")) {
		snprintf(err, errlen,
			 "bad AWS KMS key id '%.100s': expected a key id, key ARN, alias/NAME or alias ARN", spec);
		return -1;
	}
	return 0;
}

/* ---- AWS errors ---------------------------------------------------------------- */

static const struct {
	const char *type;
	enum kms_status cls;
	int auth;
} aws_types[] = {
	/* the customer (or an administrator) took access away */
	{"DisabledException", KMS_DENIED, 0},
	{"KMSInvalidStateException", KMS_DENIED, 0},
	{"AccessDeniedException", KMS_DENIED, 0},
	{"NotFoundException", KMS_DENIED, 0},
	{"InvalidCiphertextException", KMS_DENIED, 0},
	{"IncorrectKeyException", KMS_DENIED, 0},
	{"InvalidKeyUsageException", KMS_DENIED, 0},
	{"UnrecognizedClientException", KMS_DENIED, 1}, /* access key deleted or deactivated */
	{"InvalidSignatureException", KMS_DENIED, 1},   /* wrong secret; clock skew: below */
	/* no answer this time */
	{"ThrottlingException", KMS_TRANSIENT, 0},
	{"KMSInternalException", KMS_TRANSIENT, 0},
	{"KeyUnavailableException", KMS_TRANSIENT, 0},
	{"DependencyTimeoutException", KMS_TRANSIENT, 0},
	{"ExpiredTokenException", KMS_TRANSIENT, 1},
	{"RequestExpired", KMS_TRANSIENT, 0},
	{"RequestLimitExceeded", KMS_TRANSIENT, 0},
	{"TooManyRequestsException", KMS_TRANSIENT, 0},
	{"LimitExceededException", KMS_TRANSIENT, 0},
	{"ServiceUnavailable", KMS_TRANSIENT, 0},
	{"ServiceUnavailableException", KMS_TRANSIENT, 0},
	{"InternalFailure", KMS_TRANSIENT, 0},
	{"InternalServerError", KMS_TRANSIENT, 0},
	{"RequestTimeout", KMS_TRANSIENT, 0},
	{"RequestTimeoutException", KMS_TRANSIENT, 0},
	{"PriorRequestNotComplete", KMS_TRANSIENT, 0},
	/* our request is wrong: a bug, or a damaged key slot */
	{"ValidationException", KMS_INVALID, 0},
	{"SerializationException", KMS_INVALID, 0},
	{"UnknownOperationException", KMS_INVALID, 0},
	{"MissingAuthenticationTokenException", KMS_INVALID, 0},
	{"IncompleteSignatureException", KMS_INVALID, 0},
	{"UnsupportedOperationException", KMS_INVALID, 0},
	{"DryRunOperationException", KMS_INVALID, 0},
};

enum kms_status aws_class_of_type(const char *type, const char *message, long status, int *auth)
{
	*auth = 0;
	if (!type || !*type)
		return KMS_TRANSIENT; /* not an answer of KMS: a proxy, a load balancer */
	/* "Signature expired" / "not yet current": our clock is off, not a refusal */
	if (!strcmp(type, "InvalidSignatureException") && message &&
	    (strstr(message, "Signature expired") || strstr(message, "Signature not yet current")))
		return KMS_TRANSIENT;
	for (size_t i = 0; i < sizeof(aws_types) / sizeof(aws_types[0]); i++)
		if (!strcmp(type, aws_types[i].type)) {
			*auth = aws_types[i].auth;
			return aws_types[i].cls;
		}
	return status >= 500 ? KMS_TRANSIENT : KMS_DENIED;
}

/* "com.amazonaws.kms#Name" or "Name:http://internal..." -> "Name" */
static void strip_type(char *dst, size_t dstlen, const char *src)
{
	const char *h = strrchr(src, '#');
	char tmp[AWS_TYPE_MAX];

	parse_sanitise(tmp, sizeof(tmp), h ? h + 1 : src, strlen(h ? h + 1 : src));
	tmp[strcspn(tmp, ": ")] = '\0';
	snprintf(dst, dstlen, "%s", tmp);
}

enum kms_status aws_classify(long status, const uint8_t *body, size_t len, const char *type_header,
			     struct aws_error *e)
{
	json_t *j = len ? load(body, len) : NULL;
	const char *t = NULL, *m = NULL;
	size_t mn = 0;

	memset(e, 0, sizeof(*e));
	if (j) {
		t = member(j, "__type", NULL);
		m = member(j, "message", &mn);
		if (!m)
			m = member(j, "Message", &mn);
	}
	if (t)
		strip_type(e->type, sizeof(e->type), t);
	else if (type_header && *type_header)
		strip_type(e->type, sizeof(e->type), type_header);
	if (m)
		parse_sanitise(e->message, sizeof(e->message), m, mn);
	json_decref(j);
	return aws_class_of_type(e->type, e->message, status, &e->auth);
}

/* ---- AWS answers ------------------------------------------------------------------ */

static void copy_keyid(json_t *j, char *keyid, size_t keyidlen)
{
	size_t n = 0;
	const char *k = member(j, "KeyId", &n);

	if (!keyidlen)
		return;
	keyid[0] = '\0';
	if (k && n < keyidlen && aws_is_key_arn(k))
		memcpy(keyid, k, n + 1);
}

enum kms_status aws_parse_blob_reply(const uint8_t *body, size_t len, uint8_t *blob, size_t *bloblen,
				     char *keyid, size_t keyidlen, char *err, size_t errlen)
{
	json_t *j = load(body, len);
	const char *b;
	size_t n = 0, out = 0;
	enum kms_status s = KMS_OK;

	if (!j) {
		snprintf(err, errlen, "AWS KMS answer is not a JSON object");
		return KMS_TRANSIENT;
	}
	b = member(j, "CiphertextBlob", &n);
	if (!b || b64_decode(b, n, blob, *bloblen < AWS_BLOB_MAX ? *bloblen : AWS_BLOB_MAX, &out) < 0 ||
	    out == 0) {
		snprintf(err, errlen, "AWS KMS answer has no valid CiphertextBlob");
		s = KMS_TRANSIENT;
	} else {
		*bloblen = out;
		copy_keyid(j, keyid, keyidlen);
	}
	json_decref(j);
	return s;
}

enum kms_status aws_parse_plaintext_reply(const uint8_t *body, size_t len, uint8_t key[KMS_KEY_BYTES],
					  char *keyid, size_t keyidlen, char *err, size_t errlen)
{
	json_t *j = load(body, len);
	const char *b;
	size_t n = 0, out = 0;
	uint8_t tmp[KMS_KEY_BYTES + 3];
	enum kms_status s = KMS_OK;

	if (!j) {
		snprintf(err, errlen, "AWS KMS answer is not a JSON object");
		return KMS_TRANSIENT;
	}
	b = member(j, "Plaintext", &n);
	if (!b || b64_decode(b, n, tmp, sizeof(tmp), &out) < 0) {
		snprintf(err, errlen, "AWS KMS answer has no valid Plaintext");
		s = KMS_TRANSIENT;
	} else if (out != KMS_KEY_BYTES) {
		/* a valid answer, but not a volume key: this blob wraps something else */
		snprintf(err, errlen, "AWS KMS unwrapped %zu bytes, not a %d-byte volume key", out,
			 KMS_KEY_BYTES);
		s = KMS_DENIED;
	} else {
		memcpy(key, tmp, KMS_KEY_BYTES);
		copy_keyid(j, keyid, keyidlen);
	}
	sodium_memzero(tmp, sizeof(tmp));
	json_decref(j);
	return s;
}

/* ---- AWS credentials -------------------------------------------------------------- */

static int printable_noblank(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

int aws_creds_check(const struct aws_creds *c, char *err, size_t errlen)
{
	size_t n = strlen(c->akid);

	/* libcurl 7.88 puts the access key id into the Authorization header
	 * unescaped (curl#21923): only the characters AWS uses */
	if (n < 1 || n > AWS_AKID_MAX || !all_of(c->akid, UPPER DIGITS)) {
		snprintf(err, errlen, "bad AWS access key id: expected up to %d of A-Z, 0-9", AWS_AKID_MAX);
		return -1;
	}
	if (!c->secret[0] || !printable_noblank(c->secret)) {
		snprintf(err, errlen, "bad AWS secret access key for access key id %s", c->akid);
		return -1;
	}
	if (c->token[0] && !printable_noblank(c->token)) {
		snprintf(err, errlen, "bad AWS session token for access key id %s", c->akid);
		return -1;
	}
	return 0;
}

int aws_parse_time(const char *s, int64_t *t)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	const char *p;
	long off = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
		return -1;
	p = s + n;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' && p[1] == '\0') {
		off = 0;
	} else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5 &&
		   p[6] == '\0' && oh < 24 && om < 60) {
		off = (*p == '+' ? 1 : -1) * (long)(oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*t = (int64_t)timegm(&tm) - off;
	return 0;
}

static int copy_secret(char *dst, size_t cap, const char *src, size_t n)
{
	if (!src || n == 0 || n >= cap || memchr(src, '\0', n))
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int aws_parse_creds_json(const uint8_t *body, size_t len, struct aws_creds *c, char *err,
			 size_t errlen)
{
	json_t *j = load(body, len);
	const char *akid, *secret, *token, *exp, *code;
	size_t na = 0, ns = 0, nt = 0;
	int r = -1;

	sodium_memzero(c, sizeof(*c));
	if (!j) {
		snprintf(err, errlen, "credentials answer is not a JSON object");
		return -1;
	}
	code = member(j, "Code", NULL);
	akid = member(j, "AccessKeyId", &na);
	secret = member(j, "SecretAccessKey", &ns);
	token = member(j, "Token", &nt);
	exp = member(j, "Expiration", NULL);
	if (code && strcmp(code, "Success")) {
		char why[48];
		parse_sanitise(why, sizeof(why), code, strlen(code));
		snprintf(err, errlen, "credentials answer says Code '%s'", why);
	} else if (copy_secret(c->akid, sizeof(c->akid), akid, na) < 0 ||
		   copy_secret(c->secret, sizeof(c->secret), secret, ns) < 0) {
		snprintf(err, errlen, "credentials answer lacks AccessKeyId or SecretAccessKey");
	} else if (token && copy_secret(c->token, sizeof(c->token), token, nt) < 0) {
		snprintf(err, errlen, "credentials answer has a bad Token");
	} else if (exp && aws_parse_time(exp, &c->expires) < 0) {
		snprintf(err, errlen, "credentials answer has a bad Expiration");
	} else if (aws_creds_check(c, err, errlen) == 0) {
		r = 0;
	}
	json_decref(j);
	if (r < 0)
		sodium_memzero(c, sizeof(*c));
	return r;
}

struct profile_ctx {
	const char *name;
	int config;
	struct aws_profile *p;
	struct aws_creds got; /* what this file sets; copied into p where p has nothing */
	char region[AWS_REGION_MAX];
	int has_akid, has_secret, has_token, has_region, found;
	char unsupported[48];
};

static int in_profile(const struct profile_ctx *x, const char *section)
{
	if (!x->config)
		return !strcmp(section, x->name);
	if (!strcmp(x->name, "default") && !strcmp(section, "default"))
		return 1;
	return !strncmp(section, "profile ", 8) && !strcmp(section + 8 + strspn(section + 8, " "), x->name);
}

/* Sets or (continued) appends value to dst; -1 if it does not fit. */
static int put(char *dst, size_t cap, const char *value, int continued)
{
	size_t have = continued ? strlen(dst) : 0, n = strlen(value);
	if (have + n >= cap)
		return -1;
	memcpy(dst + have, value, n + 1);
	return 0;
}

static int profile_line(void *u, const char *section, const char *name, const char *value, int continued,
			int line)
{
	struct profile_ctx *x = u;
	static const char *const unsupported[] = {
		"role_arn", "credential_process", "sso_start_url", "sso_session", "web_identity_token_file",
	};

	(void)line;
	if (!in_profile(x, section))
		return 1;
	x->found = 1;
	if (!strcmp(name, "aws_access_key_id")) {
		x->has_akid = put(x->got.akid, sizeof(x->got.akid), value, continued) == 0;
	} else if (!strcmp(name, "aws_secret_access_key")) {
		x->has_secret = put(x->got.secret, sizeof(x->got.secret), value, continued) == 0;
	} else if (!strcmp(name, "aws_session_token") || !strcmp(name, "aws_security_token")) {
		x->has_token = put(x->got.token, sizeof(x->got.token), value, continued) == 0;
	} else if (!strcmp(name, "region")) {
		x->has_region = put(x->region, sizeof(x->region), value, continued) == 0;
	} else {
		for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
			if (!strcmp(name, unsupported[i]) && !x->unsupported[0])
				snprintf(x->unsupported, sizeof(x->unsupported), "%s", name);
	}
	return 1;
}

int aws_parse_profile(const char *text, size_t len, const char *name, int config,
		      struct aws_profile *p)
{
	struct profile_ctx *x = secmem_alloc(sizeof(*x));
	int r;

	if (!x)
		return 1;
	x->name = name;
	x->config = config;
	x->p = p;
	r = kms_ini_parse(text, len, profile_line, x);
	if (x->found)
		p->found = 1;
	/* the credentials file first: a file fills only what is still empty */
	if (x->has_akid && !p->has_akid) {
		memcpy(p->creds.akid, x->got.akid, sizeof(p->creds.akid));
		p->has_akid = 1;
	}
	if (x->has_secret && !p->has_secret) {
		memcpy(p->creds.secret, x->got.secret, sizeof(p->creds.secret));
		memcpy(p->creds.token, x->got.token, sizeof(p->creds.token)); /* goes with the secret */
		p->has_secret = 1;
	}
	if (x->has_region && !p->region[0] && all_of(x->region, LOWER DIGITS "-"))
		memcpy(p->region, x->region, sizeof(p->region));
	if (x->unsupported[0] && !p->unsupported[0])
		memcpy(p->unsupported, x->unsupported, sizeof(p->unsupported));
	secmem_free(x);
	return r;
}

/* ---- Vault ---------------------------------------------------------------------------- */

int vault_parse_spec(const char *id, char *mount, size_t mountlen, char *name, size_t namelen,
		     char *err, size_t errlen)
{
	const char *slash = strrchr(id, '/');
	size_t ml;

	if (!slash || slash == id || !slash[1]) {
		snprintf(err, errlen, "bad Vault transit key '%.100s': expected MOUNT/KEY, e.g. transit/byokfs", id);
		return -1;
	}
	ml = (size_t)(slash - id);
	if (ml >= mountlen || strlen(slash + 1) >= namelen || id[0] == '/' ||
	    strstr(id, "//") || strstr(id, "/../") || !strncmp(id, "../", 3) || strstr(id, "/./")) {
		snprintf(err, errlen, "bad Vault transit key '%.100s': expected MOUNT/KEY", id);
		return -1;
	}
	memcpy(mount, id, ml);
	mount[ml] = '\0';
	snprintf(name, namelen, "%s", slash + 1);
	if (!all_of(mount, UPPER LOWER DIGITS "._-/") || !all_of(name, UPPER LOWER DIGITS "._-@") ||
	    name[0] == '.' || mount[0] == '.') {
		snprintf(err, errlen,
			 "bad Vault transit key '%.100s': mount and key name may hold letters, digits, '.', '_', '-'",
			 id);
		return -1;
	}
	return 0;
}

/* The first of {"errors":[...]}, sanitised. */
static void vault_first_error(const uint8_t *body, size_t len, char *msg, size_t msglen)
{
	json_t *j = len ? load(body, len) : NULL;
	json_t *errs = j ? json_object_get(j, "errors") : NULL;
	json_t *e0 = json_is_array(errs) ? json_array_get(errs, 0) : NULL;

	msg[0] = '\0';
	if (json_is_string(e0))
		parse_sanitise(msg, msglen, json_string_value(e0), json_string_length(e0));
	json_decref(j);
	/* Vault wraps some as "1 error occurred: * text" */
	if (!strncmp(msg, "1 error occurred: * ", 20))
		memmove(msg, msg + 20, strlen(msg + 20) + 1);
}

enum kms_status vault_classify(long status, const uint8_t *body, size_t len, char *msg, size_t msglen)
{
	vault_first_error(body, len, msg, msglen);
	if (status >= 300 && status < 400) {
		if (!msg[0])
			snprintf(msg, msglen, "redirected (a standby node?): point VAULT_ADDR at the active node");
		return KMS_TRANSIENT;
	}
	if (status == 408 || status == 412 || status == 429 || status >= 500)
		return KMS_TRANSIENT;
	if (status == 400) {
		if (strstr(msg, "invalid ciphertext") && !strstr(msg, "version is too new"))
			return KMS_INVALID;
		if (strstr(msg, "missing 'context'"))
			return KMS_INVALID;
		return KMS_DENIED; /* too old, authentication failed, key not found, ... */
	}
	if (status == 404 && !msg[0])
		snprintf(msg, msglen, "no such key or mount");
	return KMS_DENIED;
}

long vault_blob_version(const uint8_t *blob, size_t len)
{
	size_t i = 7;
	long v = 0;

	if (len < 10 || len > KMS_BLOB_MAX || memcmp(blob, "vault:v", 7))
		return -1;
	if (blob[i] < '1' || blob[i] > '9')
		return -1;
	for (; i < len && blob[i] >= '0' && blob[i] <= '9'; i++) {
		if (v > 100000000)
			return -1;
		v = v * 10 + (blob[i] - '0');
	}
	if (i >= len || blob[i] != ':' || ++i >= len)
		return -1;
	for (; i < len; i++)
		if (!isalnum(blob[i]) && blob[i] != '+' && blob[i] != '/' && blob[i] != '=')
			return -1;
	return v;
}

static json_t *vault_data(const uint8_t *body, size_t len, json_t **root)
{
	json_t *d;
	*root = load(body, len);
	d = *root ? json_object_get(*root, "data") : NULL;
	return json_is_object(d) ? d : NULL;
}

enum kms_status vault_parse_ciphertext_reply(const uint8_t *body, size_t len, uint8_t *blob,
					     size_t *bloblen, char *err, size_t errlen)
{
	json_t *root, *d = vault_data(body, len, &root);
	size_t n = 0;
	const char *ct = d ? member(d, "ciphertext", &n) : NULL;
	enum kms_status s = KMS_OK;

	if (!ct || n > *bloblen || vault_blob_version((const uint8_t *)ct, n) < 1) {
		snprintf(err, errlen, "Vault answer has no valid data.ciphertext");
		s = KMS_TRANSIENT;
	} else {
		memcpy(blob, ct, n);
		*bloblen = n;
	}
	json_decref(root);
	return s;
}

enum kms_status vault_parse_plaintext_reply(const uint8_t *body, size_t len,
					    uint8_t key[KMS_KEY_BYTES], char *err, size_t errlen)
{
	json_t *root, *d = vault_data(body, len, &root);
	size_t n = 0, out = 0;
	const char *pt = d ? member(d, "plaintext", &n) : NULL;
	uint8_t tmp[KMS_KEY_BYTES + 3];
	enum kms_status s = KMS_OK;

	if (!pt || b64_decode(pt, n, tmp, sizeof(tmp), &out) < 0) {
		snprintf(err, errlen, "Vault answer has no valid data.plaintext");
		s = KMS_TRANSIENT;
	} else if (out != KMS_KEY_BYTES) {
		snprintf(err, errlen, "Vault unwrapped %zu bytes, not a %d-byte volume key", out, KMS_KEY_BYTES);
		s = KMS_DENIED;
	} else {
		memcpy(key, tmp, KMS_KEY_BYTES);
	}
	sodium_memzero(tmp, sizeof(tmp));
	json_decref(root);
	return s;
}
