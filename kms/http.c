/* SPDX-License-Identifier: MIT */
/*
 * HTTP for the key providers over a dlopen'ed libcurl (see http.h).
 *
 * Divisions: the wiping allocator; loading libcurl (and setting the
 * allocators of libcurl, OpenSSL and jansson); URL checks; the request;
 * retries.
 *
 * Why a wiping allocator: a KMS request or answer carries a volume key
 * (base64) and credentials. libcurl copies the request into its send
 * buffer, OpenSSL into its record buffer, jansson into its strings; freed,
 * those copies would stay in the heap until reused. Every free here first
 * zeroes the whole block (malloc_usable_size), so any pointer from the
 * plain malloc() may be freed by it and any of its pointers by plain
 * free(): no header, no ordering constraint.
 */
#include "kms/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto/secmem.h"

#ifndef BYOKFS_VERSION
#define BYOKFS_VERSION "unknown"
#endif

/* OpenSSL >= 3.0: SSL_OP_CLEANSE_PLAINTEXT (ssl.h SSL_OP_BIT(1)); SSL_CTRL_MODE, SSL_MODE_RELEASE_BUFFERS */
#define OSSL_OP_CLEANSE_PLAINTEXT ((uint64_t)1 << 1)
#define OSSL_CTRL_MODE 33
#define OSSL_MODE_RELEASE_BUFFERS 0x10L

/* ---- the wiping allocator -------------------------------------------------- */

static void wipe_free(void *p)
{
	if (!p)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

static void *wipe_malloc(size_t n)
{
	return malloc(n ? n : 1);
}

static void *wipe_calloc(size_t n, size_t m)
{
	return calloc(n ? n : 1, m ? m : 1);
}

static void *wipe_realloc(void *p, size_t n)
{
	void *q;
	size_t old;

	if (!p)
		return wipe_malloc(n);
	if (!n) {
		wipe_free(p);
		return NULL;
	}
	/* never realloc() in place: the old block would be released unwiped */
	old = malloc_usable_size(p);
	q = malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	wipe_free(p);
	return q;
}

static char *wipe_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static void *ossl_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return wipe_malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return wipe_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	wipe_free(p);
}

/*
 * jansson parses KMS answers and builds requests holding keys; its global
 * allocator is set before main() so that every jansson object of the
 * process, whoever made it, is wiped when freed.
 */
__attribute__((constructor)) static void http_jansson_wiping(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
}

/* ---- loading libcurl ---------------------------------------------------------- */

static struct {
	CURLcode (*global_init_mem)(long, curl_malloc_callback, curl_free_callback,
				    curl_realloc_callback, curl_strdup_callback, curl_calloc_callback);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLSH *(*share_init)(void);
	CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
	CURLSHcode (*share_cleanup)(CURLSH *);
	curl_version_info_data *(*version_info)(CURLversion);
	CURLU *(*url)(void);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
	void (*url_cleanup)(CURLU *);
	void (*free)(void *);
	/* libssl, when libcurl uses OpenSSL 3 */
	uint64_t (*ssl_ctx_set_options)(void *, uint64_t);
	long (*ssl_ctx_ctrl)(void *, int, long, void *);
	int wiping_curl, wiping_openssl;
	int ok;
	char err[200];
} C;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

/* Before anything allocates in libcrypto: its allocator can be set once only. */
static void set_openssl_allocator(void)
{
	static const char *const names[] = {"libcrypto.so.3", "libcrypto.so.1.1"};
	int (*set_mem)(void *(*)(size_t, const char *, int),
		       void *(*)(void *, size_t, const char *, int),
		       void (*)(void *, const char *, int));

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		if (!h)
			continue;
		*(void **)&set_mem = dlsym(h, "CRYPTO_set_mem_functions");
		/* 0: libcrypto allocated already (loaded by someone else) */
		if (set_mem && set_mem(ossl_malloc, ossl_realloc, ossl_free) == 1)
			C.wiping_openssl = 1;
		return; /* keep it loaded: libcurl's libssl uses it */
	}
}

#define SYM(field, name)                                                                      \
	do {                                                                                  \
		*(void **)&C.field = dlsym(lib, name);                                        \
		if (!C.field) {                                                               \
			snprintf(C.err, sizeof(C.err), "libcurl.so.4 lacks %s: libcurl too old", name); \
			return;                                                               \
		}                                                                             \
	} while (0)

static void load_curl(void)
{
	void *lib;
	curl_version_info_data *vi;

	set_openssl_allocator();
	lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		const char *e = dlerror();
		snprintf(C.err, sizeof(C.err),
			 "cannot load libcurl.so.4 (%s): install libcurl (Debian: apt-get install libcurl4)",
			 e ? e : "not found");
		return;
	}
	SYM(global_init_mem, "curl_global_init_mem");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
	SYM(share_init, "curl_share_init");
	SYM(share_setopt, "curl_share_setopt");
	SYM(share_cleanup, "curl_share_cleanup");
	SYM(version_info, "curl_version_info");
	SYM(url, "curl_url");
	SYM(url_set, "curl_url_set");
	SYM(url_get, "curl_url_get");
	SYM(url_cleanup, "curl_url_cleanup");
	SYM(free, "curl_free");

	vi = C.version_info(CURLVERSION_NOW);
	/* CURLOPT_AWS_SIGV4: 7.75; CURLOPT_PROTOCOLS_STR: 7.85 */
	if (!vi || vi->version_num < 0x075500 || !(vi->features & CURL_VERSION_SSL)) {
		snprintf(C.err, sizeof(C.err), "libcurl %s is too old or has no TLS: byokfs needs >= 7.85 with TLS",
			 vi && vi->version ? vi->version : "?");
		return;
	}
	if (vi->ssl_version && !strncmp(vi->ssl_version, "OpenSSL/3", 9)) {
		void *ssl = dlopen("libssl.so.3", RTLD_NOW | RTLD_NOLOAD);
		if (ssl) {
			*(void **)&C.ssl_ctx_set_options = dlsym(ssl, "SSL_CTX_set_options");
			*(void **)&C.ssl_ctx_ctrl = dlsym(ssl, "SSL_CTX_ctrl");
		}
	}
	/* not thread-safe, hence once; the allocators before anything else */
	if (C.global_init_mem(CURL_GLOBAL_DEFAULT, wipe_malloc, wipe_free, wipe_realloc, wipe_strdup,
			      wipe_calloc) != CURLE_OK) {
		snprintf(C.err, sizeof(C.err), "curl_global_init failed");
		return;
	}
	C.wiping_curl = 1;
	C.ok = 1;
}

int http_wiping_curl(void)
{
	return C.ok && C.wiping_curl;
}

int http_wiping_openssl(void)
{
	return C.ok && C.wiping_openssl;
}

/* ---- the client --------------------------------------------------------------- */

struct http_client {
	CURLSH *share;                        /* connection and DNS cache between calls */
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	uint8_t *buf;                         /* HTTP_RESP_MAX bytes of secure memory */
	size_t len;
	int overflow;
	char error_type[128];
	double retry_after;
};

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *u)
{
	struct http_client *c = u;
	(void)h;
	(void)access;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&c->locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *u)
{
	struct http_client *c = u;
	(void)h;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&c->locks[data]);
}

int http_client_new(struct http_client **out, char *err, size_t errlen)
{
	struct http_client *c;

	*out = NULL;
	pthread_once(&load_once, load_curl);
	if (!C.ok) {
		snprintf(err, errlen, "%s", C.err[0] ? C.err : "libcurl is unusable");
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->buf = secmem_alloc(HTTP_RESP_MAX))) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&c->locks[i], NULL);
	c->share = C.share_init();
	if (c->share) {
		C.share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
		C.share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
		C.share_setopt(c->share, CURLSHOPT_USERDATA, c);
		C.share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
		C.share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	}
	*out = c;
	return 0;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	if (c->share)
		C.share_cleanup(c->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&c->locks[i]);
	secmem_free(c->buf);
	free(c);
}

static size_t on_body(char *data, size_t size, size_t n, void *u)
{
	struct http_client *c = u;
	size_t len = size * n;

	if (len > HTTP_RESP_MAX - c->len) {
		c->overflow = 1;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	return len;
}

/* Header lines, one per call, not NUL-terminated. Only two are kept. */
static size_t on_header(char *data, size_t size, size_t n, void *u)
{
	struct http_client *c = u;
	size_t len = size * n;
	char line[256];
	char *v;

	if (len >= sizeof(line))
		return len;
	memcpy(line, data, len);
	line[len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	v = strchr(line, ':');
	if (!v)
		return len;
	*v++ = '\0';
	v += strspn(v, " \t");
	if (!strcasecmp(line, "x-amzn-ErrorType"))
		snprintf(c->error_type, sizeof(c->error_type), "%s", v);
	else if (!strcasecmp(line, "Retry-After"))
		c->retry_after = strtod(v, NULL) > 0 ? strtod(v, NULL) : 0;
	return len;
}

static CURLcode on_ssl_ctx(CURL *h, void *ctx, void *u)
{
	(void)h;
	(void)u;
	/* decrypted records are wiped once copied out; idle buffers are freed
	 * (through the wiping allocator) instead of kept per connection */
	if (C.ssl_ctx_set_options)
		C.ssl_ctx_set_options(ctx, OSSL_OP_CLEANSE_PLAINTEXT);
	if (C.ssl_ctx_ctrl)
		C.ssl_ctx_ctrl(ctx, OSSL_CTRL_MODE, OSSL_MODE_RELEASE_BUFFERS, NULL);
	return CURLE_OK;
}

/* Host of url (brackets stripped) in host; 0, or -1 if it does not parse. */
static int url_host(const char *url, char *scheme, size_t slen, char *host, size_t hlen)
{
	CURLU *u;
	char *s = NULL, *h = NULL, *user = NULL;
	int r = -1;

	pthread_once(&load_once, load_curl);
	if (!C.ok || !(u = C.url()))
		return -1;
	if (C.url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    C.url_get(u, CURLUPART_SCHEME, &s, 0) == CURLUE_OK &&
	    C.url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
	    C.url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER) {
		size_t n = strlen(h);
		if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
			h[n - 1] = '\0';
			snprintf(host, hlen, "%s", h + 1);
		} else {
			snprintf(host, hlen, "%s", h);
		}
		snprintf(scheme, slen, "%s", s);
		r = 0;
	}
	C.free(s);
	C.free(h);
	C.free(user);
	C.url_cleanup(u);
	return r;
}

static int host_is(const char *host, int family, const char *want)
{
	unsigned char a[16], b[16];
	return inet_pton(family, host, a) == 1 && inet_pton(family, want, b) == 1 &&
	       !memcmp(a, b, family == AF_INET ? 4 : 16);
}

static int host_loopback(const char *host)
{
	unsigned char a[4];
	if (!strcasecmp(host, "localhost"))
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	return host_is(host, AF_INET6, "::1");
}

static int host_metadata(const char *host)
{
	return host_is(host, AF_INET, "169.254.169.254") || host_is(host, AF_INET, "169.254.170.2") ||
	       host_is(host, AF_INET, "169.254.170.23") || host_is(host, AF_INET6, "fd00:ec2::254") ||
	       host_is(host, AF_INET6, "fd00:ec2::23");
}

int http_url_ok(const char *url, int metadata, char *err, size_t errlen)
{
	char scheme[16], host[256];

	if (url_host(url, scheme, sizeof(scheme), host, sizeof(host)) < 0) {
		snprintf(err, errlen, "bad URL '%.120s'%s", url,
			 C.ok ? " (a user name or password in it is refused)" : "");
		return 0;
	}
	if (!strcasecmp(scheme, "https"))
		return 1;
	if (!strcasecmp(scheme, "http") && (host_loopback(host) || (metadata && host_metadata(host))))
		return 1;
	snprintf(err, errlen, "refusing '%.120s': only https:// (plain http:// to loopback%s only)", url,
		 metadata ? " and the AWS metadata addresses" : " addresses");
	return 0;
}

/* Loopback and metadata addresses never go through a proxy. */
static int url_local(const char *url)
{
	char scheme[16], host[256];
	return url_host(url, scheme, sizeof(scheme), host, sizeof(host)) == 0 &&
	       (host_loopback(host) || host_metadata(host));
}

void http_response_wipe(struct http_client *c, struct http_response *resp)
{
	sodium_memzero(c->buf, c->len);
	c->len = 0;
	if (resp) {
		resp->body = NULL;
		resp->len = 0;
	}
}

enum http_result http_perform(struct http_client *c, const struct http_opts *o,
			      const struct http_request *rq, struct http_response *resp)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hdrs = NULL, *tmp;
	CURL *h;
	CURLcode rc;
	long status = 0;
	static const char ua[] = "byokfs/" BYOKFS_VERSION;

	memset(resp, 0, sizeof(*resp));
	http_response_wipe(c, NULL);
	c->overflow = 0;
	c->error_type[0] = '\0';
	c->retry_after = 0;
	errbuf[0] = '\0';
	if (!C.ok || !(h = C.easy_init())) {
		resp->result = HTTP_UNAVAILABLE;
		snprintf(resp->error, sizeof(resp->error), "%s", C.ok ? "curl_easy_init failed" : C.err);
		return resp->result;
	}
	for (int i = 0; i < HTTP_MAX_HEADERS && rq->headers[i]; i++) {
		tmp = C.slist_append(hdrs, rq->headers[i]);
		if (!tmp) {
			C.slist_free_all(hdrs);
			C.easy_cleanup(h);
			resp->result = HTTP_UNAVAILABLE;
			snprintf(resp->error, sizeof(resp->error), "out of memory");
			return resp->result;
		}
		hdrs = tmp;
	}
	if (c->share)
		C.easy_setopt(h, CURLOPT_SHARE, c->share);
	C.easy_setopt(h, CURLOPT_URL, rq->url);
	C.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	C.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	C.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	C.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	C.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	C.easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* HTTP/2 would hand our bytes to nghttp2's own (unwiped) buffers */
	C.easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	/* never 0 (curl: no timeout at all) nor negative (curl: option refused) */
	long total_ms = o->timeout > 0.001 ? (long)(o->timeout * 1000 + 0.5) : 1;
	long connect_ms = o->connect_timeout > 0.001 ? (long)(o->connect_timeout * 1000 + 0.5) : 1;
	C.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms < total_ms ? connect_ms : total_ms);
	C.easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
	if (o->ca_bundle && o->ca_bundle[0])
		C.easy_setopt(h, CURLOPT_CAINFO, o->ca_bundle);
	if (o->ca_path && o->ca_path[0])
		C.easy_setopt(h, CURLOPT_CAPATH, o->ca_path);
	if (C.ssl_ctx_set_options || C.ssl_ctx_ctrl)
		C.easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
	if (url_local(rq->url))
		C.easy_setopt(h, CURLOPT_NOPROXY, "*");
	C.easy_setopt(h, CURLOPT_USERAGENT, ua);
	C.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	C.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	C.easy_setopt(h, CURLOPT_WRITEDATA, c);
	C.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	C.easy_setopt(h, CURLOPT_HEADERDATA, c);
	if (hdrs)
		C.easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (!strcmp(rq->method, "GET")) {
		C.easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		/* POSTFIELDS, not a read callback: SigV4 hashes only POSTFIELDS */
		C.easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? (const char *)rq->body : "");
		C.easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(rq->body ? rq->body_len : 0));
		if (strcmp(rq->method, "POST"))
			C.easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	if (rq->sigv4) {
		C.easy_setopt(h, CURLOPT_AWS_SIGV4, rq->sigv4);
		C.easy_setopt(h, CURLOPT_USERNAME, rq->sigv4_user);
		C.easy_setopt(h, CURLOPT_PASSWORD, rq->sigv4_secret);
	}

	rc = C.easy_perform(h);
	C.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	/* the easy handle's buffers (the answer's copy among them) are freed,
	 * and wiped, here; the connection stays in the share */
	C.easy_cleanup(h);
	C.slist_free_all(hdrs);

	resp->body = c->buf;
	resp->len = c->len;
	snprintf(resp->error_type, sizeof(resp->error_type), "%s", c->error_type);
	resp->retry_after = c->retry_after;
	if (c->overflow) {
		resp->result = HTTP_TOO_LARGE;
		snprintf(resp->error, sizeof(resp->error), "answer larger than %d bytes", HTTP_RESP_MAX);
		http_response_wipe(c, resp);
	} else if (rc == CURLE_OK) {
		resp->result = HTTP_OK;
		resp->status = status;
	} else {
		switch (rc) {
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_CRL_BADFILE:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
			resp->result = HTTP_TLS;
			break;
		default:
			resp->result = HTTP_NETWORK;
		}
		snprintf(resp->error, sizeof(resp->error), "%.199s", errbuf[0] ? errbuf : C.easy_strerror(rc));
		http_response_wipe(c, resp);
	}
	return resp->result;
}

/* ---- retries -------------------------------------------------------------------- */

double http_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void http_retry_start(struct http_retry *r, double budget, int max_attempts)
{
	r->deadline = http_now() + budget;
	r->backoff = 0.05;
	r->attempts = 0;
	r->max_attempts = max_attempts > 0 ? max_attempts : 1;
}

double http_retry_timeout(const struct http_retry *r, double per_attempt)
{
	double left = r->deadline - http_now();
	return left < per_attempt ? left : per_attempt;
}

int http_retry_wait(struct http_retry *r, double at_least)
{
	double d, left;
	struct timespec ts;

	if (++r->attempts >= r->max_attempts)
		return 0;
	/* "equal jitter": half the base, plus up to half at random */
	d = r->backoff / 2 + (r->backoff / 2) * (randombytes_uniform(1001) / 1000.0);
	if (d < at_least)
		d = at_least;
	r->backoff *= 2;
	left = r->deadline - http_now();
	/* an attempt needs time to answer too: 50 ms at least */
	if (d + 0.05 > left)
		return 0;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return 1;
}
