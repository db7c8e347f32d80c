/* SPDX-License-Identifier: MIT */
/*
 * A small HTTP client for the key providers, over libcurl loaded at run time.
 *
 * byokfs does not link libcurl (it brings some 30 libraries, and byokfs
 * revoke must start fast on a loaded host): the first http_client_new()
 * loads libcurl.so.4 with dlopen and resolves the few curl_* functions it
 * needs. Before curl_global_init it routes the heap allocations of libcurl
 * (curl_global_init_mem) and of OpenSSL (CRYPTO_set_mem_functions) through
 * a wiping allocator, and jansson's too (at program start), so volume keys
 * and credentials in transit never linger in freed heap. TLS connections
 * cleanse decrypted records (SSL_OP_CLEANSE_PLAINTEXT) and release their
 * buffers when idle.
 *
 * Every request: TLS verification on (peer and host name), TLS >= 1.2,
 * HTTP/1.1, no redirects, no signals (CURLOPT_NOSIGNAL), connect and total
 * timeouts. The answer lands in a bounded buffer of secure memory owned by
 * the client; a larger answer is an error, never a reallocation.
 *
 * Calling sequence:
 *   http_client_new() -> [http_perform() -> read resp -> http_response_wipe()]* -> http_client_free()
 * A client is not thread-safe: its owner serialises calls (the providers
 * hold their key's lock). Connections are kept alive between calls.
 */
#ifndef BYOKFS_KMS_HTTP_H
#define BYOKFS_KMS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_RESP_MAX 65536 /* bytes of answer body we accept */
#define HTTP_MAX_HEADERS 8

struct http_opts {
	const char *ca_bundle;  /* CURLOPT_CAINFO; NULL or "": the system store */
	const char *ca_path;    /* CURLOPT_CAPATH; NULL or "": none */
	double connect_timeout; /* seconds */
	double timeout;         /* seconds, the whole request */
};

struct http_request {
	const char *method;                        /* "GET", "POST" or "PUT" */
	const char *url;                           /* checked with http_url_ok() first */
	const char *headers[HTTP_MAX_HEADERS + 1]; /* "Name: value", NULL-terminated; may hold secrets */
	const void *body;                          /* POST/PUT body, may hold secrets; NULL = empty */
	size_t body_len;
	/* SigV4 (CURLOPT_AWS_SIGV4), e.g. "aws:amz:us-east-1:kms"; NULL for none */
	const char *sigv4;
	const char *sigv4_user;   /* access key id */
	const char *sigv4_secret; /* secret access key */
};

enum http_result {
	HTTP_OK = 0,        /* an HTTP answer arrived: see status */
	HTTP_NETWORK = 1,   /* no answer: connect, timeout, reset, DNS */
	HTTP_TLS = 2,       /* TLS failed: certificate not trusted, handshake */
	HTTP_TOO_LARGE = 3, /* answer larger than HTTP_RESP_MAX */
	HTTP_UNAVAILABLE = 4, /* libcurl cannot be loaded or initialised */
};

struct http_response {
	enum http_result result;
	long status;           /* HTTP status when result == HTTP_OK */
	const uint8_t *body;   /* the client's secure buffer; valid until the next call */
	size_t len;
	char error_type[128];  /* x-amzn-ErrorType header, "" if none */
	double retry_after;    /* Retry-After header in seconds, 0 if none */
	char error[200];       /* what went wrong when result != HTTP_OK; no secrets */
};

struct http_client;

/*
 * Loads libcurl if needed and makes a client. Returns 0, or -1 with a
 * one-line message in err (e.g. libcurl is not installed).
 */
int http_client_new(struct http_client **c, char *err, size_t errlen);

/*
 * Sends one request and waits for the answer (at most o->timeout seconds).
 * Returns resp->result. The answer body is in resp->body until the next
 * call or http_response_wipe().
 */
enum http_result http_perform(struct http_client *c, const struct http_opts *o,
			      const struct http_request *rq, struct http_response *resp);

/* Wipes the answer body in the client's buffer. */
void http_response_wipe(struct http_client *c, struct http_response *resp);

void http_client_free(struct http_client *c);

/*
 * Checks a URL for use with credentials: https:// to any host, or http://
 * only to a loopback address (127.0.0.0/8, ::1, localhost) or, when
 * metadata is set, to the link-local metadata services of AWS
 * (169.254.169.254, 169.254.170.2, 169.254.170.23, fd00:ec2::254,
 * fd00:ec2::23). Returns 1 if usable, else 0 with a message in err.
 */
int http_url_ok(const char *url, int metadata, char *err, size_t errlen);

/*
 * 1 if the wiping allocator is in place for libcurl / OpenSSL (after the
 * first http_client_new); for tests and status.
 */
int http_wiping_curl(void);
int http_wiping_openssl(void);

/*
 * Retries within a time budget: http_retry_start(), then per attempt
 * http_retry_timeout() (the attempt's timeout, clipped to what is left),
 * and after a transient failure http_retry_wait(), which sleeps a jittered
 * exponential backoff and returns 0 when no attempt is left (budget spent
 * or max_attempts reached).
 */
struct http_retry {
	double deadline;  /* monotonic seconds */
	double backoff;   /* next base delay */
	int attempts;     /* made so far */
	int max_attempts;
};
void http_retry_start(struct http_retry *r, double budget, int max_attempts);
double http_retry_timeout(const struct http_retry *r, double per_attempt);
int http_retry_wait(struct http_retry *r, double at_least);

/* Monotonic seconds. */
double http_now(void);

#endif
