/* SPDX-License-Identifier: MIT */
/*
 * The pure parts of the aws-kms and vault-transit providers, table by
 * table, no network: error classes (AWS by __type in every shape AWS sends,
 * Vault by status and text), key specs, answers, credentials (JSON, times,
 * shared files with long lines), the INI reader's long-line handling,
 * byokfs.conf, URL rules and the retry budget.
 */
#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

#include "crypto/secmem.h"
#include "kms/config.h"
#include "kms/http.h"
#include "kms/ini.h"
#include "kms/parse.h"
#include "tests/unit/unit.h"

#define S(x) ((const uint8_t *)(x)), strlen(x)
#define TXT(x) (x), strlen(x)

static void test_aws_classify(void)
{
	static const struct {
		long status;
		const char *body, *header;
		enum kms_status want;
		const char *type, *message;
		int auth;
	} t[] = {
		{400, "{\"__type\":\"DisabledException\",\"message\":\"arn:aws:kms:us-east-1:1:key/k is disabled.\"}", NULL,
		 KMS_DENIED, "DisabledException", "arn:aws:kms:us-east-1:1:key/k is disabled.", 0},
		{409, "{\"__type\":\"KMSInvalidStateException\",\"message\":\"k is pending deletion.\"}", NULL, KMS_DENIED,
		 "KMSInvalidStateException", "k is pending deletion.", 0},
		/* AccessDenied carries "Message" with a capital M */
		{400, "{\"__type\":\"AccessDeniedException\",\"Message\":\"User: x is not authorized\"}", NULL, KMS_DENIED,
		 "AccessDeniedException", "User: x is not authorized", 0},
		{404, "{\"__type\":\"NotFoundException\",\"message\":\"Alias x is not found.\"}", NULL, KMS_DENIED,
		 "NotFoundException", "Alias x is not found.", 0},
		/* InvalidCiphertext may have no message at all */
		{400, "{\"__type\":\"InvalidCiphertextException\"}", NULL, KMS_DENIED, "InvalidCiphertextException", "", 0},
		{400, "{\"__type\":\"IncorrectKeyException\",\"message\":\"m\"}", NULL, KMS_DENIED, "IncorrectKeyException", "m", 0},
		/* the namespaced form, and the header form */
		{400, "{\"__type\":\"com.amazonaws.kms#DisabledException\",\"message\":\"d\"}", NULL, KMS_DENIED,
		 "DisabledException", "d", 0},
		{400, "{\"message\":\"no type in the body\"}", "DisabledException:http://internal.amazon.com/coral/com.amazonaws.kms/",
		 KMS_DENIED, "DisabledException", "no type in the body", 0},
		/* the body's __type wins over the header */
		{400, "{\"__type\":\"ThrottlingException\"}", "DisabledException:http://x", KMS_TRANSIENT,
		 "ThrottlingException", "", 0},
		/* the status does not decide: a 400 throttle is transient, a 500 "disabled" denied */
		{400, "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}", NULL, KMS_TRANSIENT,
		 "ThrottlingException", "Rate exceeded", 0},
		{500, "{\"__type\":\"DisabledException\"}", NULL, KMS_DENIED, "DisabledException", "", 0},
		{500, "{\"__type\":\"KMSInternalException\"}", NULL, KMS_TRANSIENT, "KMSInternalException", "", 0},
		{500, "{\"__type\":\"KeyUnavailableException\"}", NULL, KMS_TRANSIENT, "KeyUnavailableException", "", 0},
		{503, "{\"__type\":\"DependencyTimeoutException\"}", NULL, KMS_TRANSIENT, "DependencyTimeoutException", "", 0},
		/* credentials */
		{400, "{\"__type\":\"UnrecognizedClientException\",\"message\":\"The security token included in the request is invalid.\"}",
		 NULL, KMS_DENIED, "UnrecognizedClientException", "The security token included in the request is invalid.", 1},
		{400, "{\"__type\":\"ExpiredTokenException\",\"message\":\"expired\"}", NULL, KMS_TRANSIENT,
		 "ExpiredTokenException", "expired", 1},
		{400, "{\"__type\":\"InvalidSignatureException\",\"message\":\"The request signature we calculated does not match\"}",
		 NULL, KMS_DENIED, "InvalidSignatureException", "The request signature we calculated does not match", 1},
		{400, "{\"__type\":\"InvalidSignatureException\",\"message\":\"Signature expired: 20261128T000000Z is now earlier than ...\"}",
		 NULL, KMS_TRANSIENT, "InvalidSignatureException", "Signature expired: 20261128T000000Z is now earlier than ...", 0},
		{400, "{\"__type\":\"InvalidSignatureException\",\"message\":\"Signature not yet current: x\"}", NULL,
		 KMS_TRANSIENT, "InvalidSignatureException", "Signature not yet current: x", 0},
		/* our mistakes */
		{400, "{\"__type\":\"ValidationException\",\"message\":\"1 validation error\"}", NULL, KMS_INVALID,
		 "ValidationException", "1 validation error", 0},
		{400, "{\"__type\":\"SerializationException\"}", NULL, KMS_INVALID, "SerializationException", "", 0},
		{400, "{\"__type\":\"UnknownOperationException\"}", NULL, KMS_INVALID, "UnknownOperationException", "", 0},
		{400, "{\"__type\":\"MissingAuthenticationTokenException\"}", NULL, KMS_INVALID,
		 "MissingAuthenticationTokenException", "", 0},
		/* unknown types: by status */
		{400, "{\"__type\":\"BrandNewException\"}", NULL, KMS_DENIED, "BrandNewException", "", 0},
		{502, "{\"__type\":\"BrandNewException\"}", NULL, KMS_TRANSIENT, "BrandNewException", "", 0},
		/* not from KMS: no type at all */
		{403, "<html>proxy says no</html>", NULL, KMS_TRANSIENT, "", "", 0},
		{502, "", NULL, KMS_TRANSIENT, "", "", 0},
		{400, "[\"__type\"]", NULL, KMS_TRANSIENT, "", "", 0},
		{400, "{\"__type\":7}", NULL, KMS_TRANSIENT, "", "", 0},
		/* messages are sanitised: one printable line */
		{400, "{\"__type\":\"DisabledException\",\"message\":\"two\\nlines\\t\\u0001x\"}", NULL, KMS_DENIED,
		 "DisabledException", "two lines ?x", 0},
	};
	struct aws_error e;

	TEST_START("aws: error classes by __type, every shape");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum kms_status s = aws_classify(t[i].status, S(t[i].body), t[i].header, &e);
		if (s != t[i].want || strcmp(e.type, t[i].type) || strcmp(e.message, t[i].message) ||
		    e.auth != t[i].auth)
			UNIT_FAIL("case %zu (%s): class %d type '%s' message '%s' auth %d", i, t[i].body, s,
				  e.type, e.message, e.auth);
	}
	TEST_DONE();
}

static void test_aws_spec(void)
{
	static const struct {
		const char *spec;
		int ok;
		const char *region, *partition;
		int arn;
	} t[] = {
		{"1234abcd-12ab-34cd-56ef-1234567890ab", 1, "", "", 0},
		{"mrk-1234abcd12ab34cd56ef1234567890ab", 1, "", "", 0},
		{"alias/byokfs", 1, "", "", 0},
		{"alias/team/byokfs_prod-1", 1, "", "", 0},
		{"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", 1, "eu-west-1", "aws", 1},
		{"arn:aws-cn:kms:cn-north-1:111122223333:key/abc", 1, "cn-north-1", "aws-cn", 1},
		{"arn:aws:kms:us-east-2:111122223333:alias/byokfs", 1, "us-east-2", "aws", 0},
		{"", 0, "", "", 0},
		{"alias/", 0, "", "", 0},
		{"alias/aws/ebs", 0, "", "", 0},
		{"alias/has space", 0, "", "", 0},
		{"key;rm -rf", 0, "", "", 0},
		{"arn:aws:s3:::bucket", 0, "", "", 0},
		{"arn:aws:kms:eu-west-1:1111:key/x", 0, "", "", 0},
		{"arn:aws:kms:EU-WEST-1:111122223333:key/x", 0, "", "", 0},
		{"arn:aws:kms:eu-west-1:111122223333:key/", 0, "", "", 0},
		{"arn:aws:kms:eu-west-1:111122223333:user/x", 0, "", "", 0},
		{"arn:aws:kms:eu-west-1:111122223333", 0, "", "", 0},
	};
	char region[AWS_REGION_MAX], part[32], err[300];

	TEST_START("aws: key specs: id, ARN, alias, alias ARN; the ARN's region");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = aws_parse_key_spec(t[i].spec, region, part, err, sizeof(err));
		if ((r == 0) != t[i].ok || (r == 0 && (strcmp(region, t[i].region) || strcmp(part, t[i].partition))) ||
		    aws_is_key_arn(t[i].spec) != t[i].arn)
			UNIT_FAIL("'%s': r %d region '%s' partition '%s' arn %d (%s)", t[i].spec, r, region, part,
				  aws_is_key_arn(t[i].spec), err);
	}
	TEST_DONE();
}

static void test_aws_replies(void)
{
	uint8_t key[KMS_KEY_BYTES], blob[64];
	size_t bl;
	char keyid[200], err[200];
	const char *arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
	char body[600];

	TEST_START("aws: Encrypt/Decrypt/ReEncrypt answers");
	/* 32 bytes 0..31 */
	snprintf(body, sizeof(body), "{\"KeyId\":\"%s\",\"Plaintext\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\",\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}", arn);
	ASSERT_INT_EQ(aws_parse_plaintext_reply(S(body), key, keyid, sizeof(keyid), err, sizeof(err)), KMS_OK);
	for (int i = 0; i < KMS_KEY_BYTES; i++)
		ASSERT_INT_EQ(key[i], i);
	ASSERT_STR_EQ(keyid, arn);
	/* 31 and 33 bytes: an answer, but not a volume key */
	ASSERT_INT_EQ(aws_parse_plaintext_reply(S("{\"Plaintext\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\"}"),
						key, keyid, sizeof(keyid), err, sizeof(err)), KMS_DENIED);
	ASSERT_STR_EQ(err, "AWS KMS unwrapped 31 bytes, not a 32-byte volume key");
	ASSERT_INT_EQ(aws_parse_plaintext_reply(S("{\"Plaintext\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\"}"),
						key, keyid, sizeof(keyid), err, sizeof(err)), KMS_DENIED);
	/* broken answers: transient (a proxy, a truncated body) */
	ASSERT_INT_EQ(aws_parse_plaintext_reply(S("{\"Plaintext\":\"AAEC!!\"}"), key, keyid, sizeof(keyid), err,
						sizeof(err)), KMS_TRANSIENT);
	ASSERT_INT_EQ(aws_parse_plaintext_reply(S("{\"Plaintext\":\"AAECAw\"}"), key, keyid, sizeof(keyid), err,
						sizeof(err)), KMS_TRANSIENT); /* padding required */
	ASSERT_INT_EQ(aws_parse_plaintext_reply(S("{\"KeyId\":\"x\"}"), key, keyid, sizeof(keyid), err, sizeof(err)),
		      KMS_TRANSIENT);
	ASSERT_INT_EQ(aws_parse_plaintext_reply(S("{\"Plaintext\":1}"), key, keyid, sizeof(keyid), err, sizeof(err)),
		      KMS_TRANSIENT);
	ASSERT_INT_EQ(aws_parse_plaintext_reply(S("{\"Plaintext\":\"AA==\",\"Plaintext\":\"AA==\"}"), key, keyid,
						sizeof(keyid), err, sizeof(err)), KMS_TRANSIENT); /* duplicates */
	ASSERT_INT_EQ(aws_parse_plaintext_reply(S("not json"), key, keyid, sizeof(keyid), err, sizeof(err)), KMS_TRANSIENT);
	ASSERT_STR_EQ(err, "AWS KMS answer is not a JSON object");

	bl = sizeof(blob);
	snprintf(body, sizeof(body), "{\"CiphertextBlob\":\"AQIDBA==\",\"KeyId\":\"%s\"}", arn);
	ASSERT_INT_EQ(aws_parse_blob_reply(S(body), blob, &bl, keyid, sizeof(keyid), err, sizeof(err)), KMS_OK);
	ASSERT_INT_EQ(bl, 4);
	ASSERT_INT_EQ(blob[3], 4);
	ASSERT_STR_EQ(keyid, arn);
	/* a KeyId that is not a key ARN is not learned */
	bl = sizeof(blob);
	ASSERT_INT_EQ(aws_parse_blob_reply(S("{\"CiphertextBlob\":\"AQIDBA==\",\"KeyId\":\"alias/x\"}"), blob, &bl,
					   keyid, sizeof(keyid), err, sizeof(err)), KMS_OK);
	ASSERT_STR_EQ(keyid, "");
	/* larger than the caller's buffer */
	bl = 3;
	ASSERT_INT_EQ(aws_parse_blob_reply(S("{\"CiphertextBlob\":\"AQIDBA==\"}"), blob, &bl, keyid, sizeof(keyid),
					   err, sizeof(err)), KMS_TRANSIENT);
	bl = sizeof(blob);
	ASSERT_INT_EQ(aws_parse_blob_reply(S("{\"CiphertextBlob\":\"\"}"), blob, &bl, keyid, sizeof(keyid), err,
					   sizeof(err)), KMS_TRANSIENT);
	TEST_DONE();
}

static void test_aws_time_and_creds(void)
{
	static const struct {
		const char *s;
		int ok;
		int64_t t;
	} times[] = {
		{"2026-11-28T17:04:44Z", 1, 1795885484},
		{"2026-11-28T17:04:44.123Z", 1, 1795885484},
		{"2026-11-28T18:04:44+01:00", 1, 1795885484},
		{"2026-11-28T16:04:44-01:00", 1, 1795885484},
		{"1970-01-01T00:00:00Z", 1, 0},
		{"2026-11-28 17:04:44Z", 0, 0},
		{"2026-11-28T17:04:44", 0, 0},
		{"2026-13-28T17:04:44Z", 0, 0},
		{"2026-11-28T17:04:44Zjunk", 0, 0},
		{"2026-11-28T17:04:44.Z", 0, 0},
		{"", 0, 0},
	};
	struct aws_creds *c = secmem_alloc(sizeof(*c));
	char err[200];
	int64_t t;

	TEST_START("aws: credential answers (container, IMDS) and their times");
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		int r = aws_parse_time(times[i].s, &t);
		if ((r == 0) != times[i].ok || (r == 0 && t != times[i].t))
			UNIT_FAIL("time '%s': r %d t %lld", times[i].s, r, (long long)t);
	}
	ASSERT_INT_EQ(aws_parse_creds_json(S("{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAEXAMPLE1\","
					     "\"SecretAccessKey\":\"s/e+c=\",\"Token\":\"tok==\",\"Expiration\":\"2026-11-28T17:04:44Z\"}"),
					   c, err, sizeof(err)), 0);
	ASSERT_STR_EQ(c->akid, "ASIAEXAMPLE1");
	ASSERT_STR_EQ(c->secret, "s/e+c=");
	ASSERT_STR_EQ(c->token, "tok==");
	ASSERT_INT_EQ(c->expires, 1795885484);
	ASSERT_INT_EQ(aws_parse_creds_json(S("{\"AccessKeyId\":\"ASIAEXAMPLE1\",\"SecretAccessKey\":\"s\"}"), c, err,
					   sizeof(err)), 0);
	ASSERT_INT_EQ(c->expires, 0);
	ASSERT_STR_EQ(c->token, "");
	ASSERT_INT_EQ(aws_parse_creds_json(S("{\"Code\":\"Failure\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}"), c,
					   err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "credentials answer says Code 'Failure'");
	ASSERT_INT_EQ(aws_parse_creds_json(S("{\"AccessKeyId\":\"ASIA\"}"), c, err, sizeof(err)), -1);
	ASSERT_INT_EQ(aws_parse_creds_json(S("{\"AccessKeyId\":\"asia-lower\",\"SecretAccessKey\":\"s\"}"), c, err,
					   sizeof(err)), -1);
	/* a blank or newline would inject a header: refused, never quoted */
	ASSERT_INT_EQ(aws_parse_creds_json(S("{\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s\",\"Token\":\"a\\r\\nX-Evil: 1\"}"),
					   c, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "bad AWS session token for access key id ASIA1");
	ASSERT_INT_EQ(aws_parse_creds_json(S("{\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s\",\"Expiration\":\"soon\"}"),
					   c, err, sizeof(err)), -1);
	ASSERT_STR_EQ(c->akid, ""); /* wiped on failure */
	secmem_free(c);
	TEST_DONE();
}

static void test_aws_profile(void)
{
	struct aws_profile *p = secmem_alloc(sizeof(*p));
	char token[1501], text[4096];

	TEST_START("aws: shared credentials and config files, lines longer than inih's 200 bytes");
	for (size_t i = 0; i < sizeof(token) - 1; i++)
		token[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i % 64];
	token[sizeof(token) - 1] = '\0';
	snprintf(text, sizeof(text),
		 "; %0250d a long comment, which must not continue the value before it\n"
		 "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = default-secret\n"
		 "; %0250d\n"
		 "[byokfs]\n"
		 "aws_access_key_id=ASIABYOKFS\n"
		 "aws_secret_access_key = byokfs/secret+1\n"
		 "aws_session_token = %s\n"
		 "[other]\naws_access_key_id = AKIAOTHER\n",
		 0, 0, token);
	ASSERT_INT_EQ(aws_parse_profile(text, strlen(text), "byokfs", 0, p), 0);
	ASSERT_INT_EQ(p->found, 1);
	ASSERT_STR_EQ(p->creds.akid, "ASIABYOKFS");
	ASSERT_STR_EQ(p->creds.secret, "byokfs/secret+1");
	ASSERT_STR_EQ(p->creds.token, token);
	ASSERT_INT_EQ(p->has_akid && p->has_secret, 1);
	sodium_memzero(p, sizeof(*p));
	ASSERT_INT_EQ(aws_parse_profile(text, strlen(text), "default", 0, p), 0);
	ASSERT_STR_EQ(p->creds.akid, "AKIADEFAULT");
	ASSERT_STR_EQ(p->creds.secret, "default-secret");
	ASSERT_STR_EQ(p->creds.token, "");
	/* the config file: [profile NAME], [default]; fills only what is missing */
	static const char conf[] = "[default]\nregion = us-west-2\n[profile byokfs]\nregion = eu-central-1\n"
				   "aws_access_key_id = AKIAFROMCONFIG\nrole_arn = arn:aws:iam::1:role/x\n";
	ASSERT_INT_EQ(aws_parse_profile(conf, strlen(conf), "default", 1, p), 0);
	ASSERT_STR_EQ(p->region, "us-west-2");
	ASSERT_STR_EQ(p->creds.akid, "AKIADEFAULT"); /* the credentials file came first */
	sodium_memzero(p, sizeof(*p));
	ASSERT_INT_EQ(aws_parse_profile(conf, strlen(conf), "byokfs", 1, p), 0);
	ASSERT_STR_EQ(p->region, "eu-central-1");
	ASSERT_STR_EQ(p->unsupported, "role_arn");
	ASSERT_INT_EQ(p->has_akid, 1);
	ASSERT_INT_EQ(p->has_secret, 0);
	sodium_memzero(p, sizeof(*p));
	ASSERT_INT_EQ(aws_parse_profile(conf, strlen(conf), "nosuch", 1, p), 0);
	ASSERT_INT_EQ(p->found, 0);
	/* "[byokfs]" in a config file is not "[profile byokfs]" */
	ASSERT_INT_EQ(aws_parse_profile(text, strlen(text), "byokfs", 1, p), 0);
	ASSERT_INT_EQ(p->found, 0);
	ASSERT_INT_NE(aws_parse_profile(TXT("[default\naws_access_key_id = A\n"), "default", 0, p), 0);
	secmem_free(p);
	TEST_DONE();
}

struct collect {
	char out[4096];
};

static int collect(void *u, const char *section, const char *name, const char *value, int continued, int line)
{
	struct collect *c = u;
	size_t n = strlen(c->out);
	snprintf(c->out + n, sizeof(c->out) - n, "%d[%s]%s%s%s;", line, section, name, continued ? "+=" : "=", value);
	return 1;
}

static void test_ini_long_lines(void)
{
	struct collect c = {""};
	char text[2048], v[601];

	TEST_START("ini: long lines cut for inih and put together again; long comments cut short");
	for (int i = 0; i < 600; i++)
		v[i] = (char)('a' + i % 26);
	v[600] = '\0';
	/* a value with ';' and '#' inside: the cuts must not start a piece with them */
	memcpy(v + 195, ";#;#;#", 6);
	snprintf(text, sizeof(text), "[s]\nshort = 1\n# %0300d\nlong = %s\nafter = 2\n", 0, v);
	ASSERT_INT_EQ(kms_ini_parse(text, strlen(text), collect, &c), 0);
	/* put the pieces together the way the providers do */
	char joined[700] = "";
	int pieces = 0;
	for (char *p = c.out; (p = strstr(p, "[s]long")); p++) {
		char *val = p + 7 + (p[7] == '+' ? 2 : 1), *end = strchr(val, ';');
		/* the value itself holds ';': find the piece end by the next "N[s]" */
		char *next = strstr(val, "[s]");
		while (next && !(next > val && next[-1] >= '0' && next[-1] <= '9'))
			next = strstr(next + 1, "[s]");
		end = next ? next - 1 : val + strlen(val);
		while (end > val && *end != ';')
			end--;
		strncat(joined, val, (size_t)(end - val));
		pieces++;
	}
	ASSERT_STR_EQ(joined, v);
	ASSERT_TRUE(pieces >= 4);
	ASSERT_TRUE(strstr(c.out, "2[s]short=1;") != NULL);
	ASSERT_TRUE(strstr(c.out, "5[s]after=2;") != NULL);
	ASSERT_TRUE(strstr(c.out, "4[s]long=") != NULL);
	ASSERT_TRUE(strstr(c.out, "4[s]long+=") != NULL);
	ASSERT_TRUE(strstr(c.out, "000") == NULL); /* nothing of the comment */
	c.out[0] = '\0';
	ASSERT_INT_EQ(kms_ini_parse(TXT("[s]\nbroken line\n"), collect, &c), 2);
	TEST_DONE();
}

static void test_vault(void)
{
	static const struct {
		long status;
		const char *body;
		enum kms_status want;
		const char *msg;
	} t[] = {
		{403, "{\"errors\":[\"permission denied\"]}", KMS_DENIED, "permission denied"},
		{403, "{\"errors\":[\"permission denied\",\"invalid token\"]}", KMS_DENIED, "permission denied"},
		{401, "", KMS_DENIED, ""},
		{404, "{\"errors\":[]}", KMS_DENIED, "no such key or mount"},
		{404, "{\"errors\":[\"no handler for route \\\"x\\\". route entry not found.\"]}", KMS_DENIED,
		 "no handler for route \"x\". route entry not found."},
		{400, "{\"errors\":[\"ciphertext or signature version is disallowed by policy (too old)\"]}", KMS_DENIED,
		 "ciphertext or signature version is disallowed by policy (too old)"},
		{400, "{\"errors\":[\"cipher: message authentication failed\"]}", KMS_DENIED,
		 "cipher: message authentication failed"},
		{400, "{\"errors\":[\"encryption key not found\"]}", KMS_DENIED, "encryption key not found"},
		{400, "{\"errors\":[\"invalid ciphertext: version is too new\"]}", KMS_DENIED,
		 "invalid ciphertext: version is too new"},
		{400, "{\"errors\":[\"invalid ciphertext: no prefix\"]}", KMS_INVALID, "invalid ciphertext: no prefix"},
		{400, "{\"errors\":[\"missing 'context' for key derivation; the key was created using a derived key\"]}",
		 KMS_INVALID, "missing 'context' for key derivation; the key was created using a derived key"},
		{400, "{\"errors\":[\"1 error occurred:\\n\\t* something new\\n\\n\"]}", KMS_DENIED, "something new"},
		{429, "{\"errors\":[\"rate limit quota exceeded\"]}", KMS_TRANSIENT, "rate limit quota exceeded"},
		{500, "{\"errors\":[\"internal error\"]}", KMS_TRANSIENT, "internal error"},
		{503, "{\"errors\":[\"Vault is sealed\"]}", KMS_TRANSIENT, "Vault is sealed"},
		{412, "", KMS_TRANSIENT, ""},
		{307, "", KMS_TRANSIENT, "redirected (a standby node?): point VAULT_ADDR at the active node"},
		{502, "<html>bad gateway</html>", KMS_TRANSIENT, ""},
		{405, "{\"errors\":[]}", KMS_DENIED, ""},
	};
	char msg[PARSE_MSG_MAX], mount[64], name[64], err[200];
	uint8_t key[KMS_KEY_BYTES], blob[200];
	size_t bl;

	TEST_START("vault: error classes, specs, ciphertexts, answers");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum kms_status s = vault_classify(t[i].status, S(t[i].body), msg, sizeof(msg));
		if (s != t[i].want || strcmp(msg, t[i].msg))
			UNIT_FAIL("case %zu (%ld %s): class %d msg '%s'", i, t[i].status, t[i].body, s, msg);
	}
	ASSERT_INT_EQ(vault_parse_spec("transit/byokfs", mount, sizeof(mount), name, sizeof(name), err, sizeof(err)), 0);
	ASSERT_STR_EQ(mount, "transit");
	ASSERT_STR_EQ(name, "byokfs");
	ASSERT_INT_EQ(vault_parse_spec("team/a/transit/key-1.v2", mount, sizeof(mount), name, sizeof(name), err, sizeof(err)), 0);
	ASSERT_STR_EQ(mount, "team/a/transit");
	ASSERT_STR_EQ(name, "key-1.v2");
	static const char *const bad[] = {"byokfs", "/transit/k", "transit/", "transit//k", "../sys/k", "a/../k",
					  "transit/k?x=1", "transit/k#", "tran sit/k", "transit/.k", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vault_parse_spec(bad[i], mount, sizeof(mount), name, sizeof(name), err, sizeof(err)) == 0)
			UNIT_FAIL("spec '%s' accepted", bad[i]);

	ASSERT_INT_EQ(vault_blob_version(S("vault:v1:AAAA")), 1);
	ASSERT_INT_EQ(vault_blob_version(S("vault:v42:AA+/==")), 42);
	ASSERT_INT_EQ(vault_blob_version(S("vault:v0:AAAA")), -1);
	ASSERT_INT_EQ(vault_blob_version(S("vault:v01:AAAA")), -1);
	ASSERT_INT_EQ(vault_blob_version(S("vault:v1:")), -1);
	ASSERT_INT_EQ(vault_blob_version(S("vault:v1:AA AA")), -1);
	ASSERT_INT_EQ(vault_blob_version(S("vault:vx:AAAA")), -1);
	ASSERT_INT_EQ(vault_blob_version(S("vault:v99999999999:AAAA")), -1);
	ASSERT_INT_EQ(vault_blob_version(S("gcpkms:v1:AAAA")), -1);

	bl = sizeof(blob);
	ASSERT_INT_EQ(vault_parse_ciphertext_reply(S("{\"data\":{\"ciphertext\":\"vault:v3:QUJD\",\"key_version\":3}}"), blob,
						   &bl, err, sizeof(err)), KMS_OK);
	ASSERT_INT_EQ(bl, 13);
	ASSERT_MEM_EQ(blob, "vault:v3:QUJD", 13);
	bl = 5;
	ASSERT_INT_EQ(vault_parse_ciphertext_reply(S("{\"data\":{\"ciphertext\":\"vault:v3:QUJD\"}}"), blob, &bl, err,
						   sizeof(err)), KMS_TRANSIENT);
	bl = sizeof(blob);
	ASSERT_INT_EQ(vault_parse_ciphertext_reply(S("{\"data\":{\"ciphertext\":\"plain\"}}"), blob, &bl, err, sizeof(err)),
		      KMS_TRANSIENT);
	ASSERT_INT_EQ(vault_parse_ciphertext_reply(S("{\"ciphertext\":\"vault:v1:QUJD\"}"), blob, &bl, err, sizeof(err)),
		      KMS_TRANSIENT);
	ASSERT_INT_EQ(vault_parse_plaintext_reply(S("{\"data\":{\"plaintext\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}}"),
						  key, err, sizeof(err)), KMS_OK);
	ASSERT_INT_EQ(key[31], 31);
	ASSERT_INT_EQ(vault_parse_plaintext_reply(S("{\"data\":{\"plaintext\":\"AAEC\"}}"), key, err, sizeof(err)), KMS_DENIED);
	ASSERT_INT_EQ(vault_parse_plaintext_reply(S("{\"data\":{}}"), key, err, sizeof(err)), KMS_TRANSIENT);
	ASSERT_INT_EQ(vault_parse_plaintext_reply(S("{\"data\":null}"), key, err, sizeof(err)), KMS_TRANSIENT);
	TEST_DONE();
}

static void test_http_rules(void)
{
	static const struct {
		const char *url;
		int metadata, ok;
	} t[] = {
		{"https://kms.eu-west-1.amazonaws.com", 0, 1},
		{"https://vault.example.com:8200/", 0, 1},
		{"http://127.0.0.1:8200", 0, 1},
		{"http://127.9.9.9", 0, 1},
		{"http://localhost:1234", 0, 1},
		{"http://[::1]:8200", 0, 1},
		{"http://vault.example.com:8200", 0, 0},
		{"http://10.0.0.1", 0, 0},
		{"http://169.254.169.254", 0, 0},
		{"http://169.254.169.254", 1, 1},
		{"http://169.254.170.2/v2/credentials/x", 1, 1},
		{"http://169.254.170.23/v1/credentials", 1, 1},
		{"http://[fd00:ec2::254]", 1, 1},
		{"http://[fd00:ec2::23]/creds", 1, 1},
		{"http://169.254.169.253", 1, 0},
		{"https://user:secret@kms.example.com", 0, 0},
		{"ftp://kms.example.com", 0, 0},
		{"not a url", 0, 0},
	};
	char err[300];
	char msg[64];
	struct http_retry r;

	TEST_START("http: URL rules (https, or http to loopback and AWS metadata); the retry budget");
	struct http_client *hc = NULL;
	if (http_client_new(&hc, msg, sizeof(msg)) < 0 && strstr(msg, "cannot load")) {
		printf("# libcurl is not installed: URL rules not checked\n");
	} else {
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			if (http_url_ok(t[i].url, t[i].metadata, err, sizeof(err)) != t[i].ok)
				UNIT_FAIL("'%s' (metadata %d): want %d (%s)", t[i].url, t[i].metadata, t[i].ok, err);
		ASSERT_TRUE(strstr(err, "secret") == NULL || strstr(err, "not a url"));
		ASSERT_INT_EQ(http_wiping_curl(), 1);
		ASSERT_INT_EQ(http_wiping_openssl(), 1);
	}
	http_client_free(hc);
	/* at most max_attempts, never beyond the budget */
	http_retry_start(&r, 10, 3);
	ASSERT_TRUE(http_retry_timeout(&r, 1) == 1);
	ASSERT_INT_EQ(http_retry_wait(&r, 0), 1);
	ASSERT_INT_EQ(http_retry_wait(&r, 0), 1);
	ASSERT_INT_EQ(http_retry_wait(&r, 0), 0);
	http_retry_start(&r, 0.2, 10);
	ASSERT_TRUE(http_retry_timeout(&r, 1) <= 0.2);
	ASSERT_INT_EQ(http_retry_wait(&r, 0.5), 0); /* a Retry-After beyond the budget: give up now */
	TEST_DONE();
}

static void test_config(void)
{
	char path[] = "/tmp/byokfs-unit-conf.XXXXXX", err[300];
	struct kms_settings s;
	int fd = mkstemp(path);
	static const char conf[] = "[mount]\nlease = 30\n"
				   "[kms]\nconnect_timeout = 0.5\ntimeout = 2\nca_bundle = /etc/ssl/kms.pem\n"
				   "[aws-kms]\nregion = eu-west-1\nretry_budget = 4\nimds = false\nlease = 60\n"
				   "[vault-transit]\naddress = https://vault:8200\nnamespace = team1\nmax_attempts = 5\n"
				   "token_file = /run/byokfs/token\n";

	TEST_START("config: [kms] defaults, provider sections, default lease per provider");
	ASSERT_TRUE(fd >= 0);
	ASSERT_INT_EQ(write(fd, conf, sizeof(conf) - 1), (long long)sizeof(conf) - 1);
	close(fd);
	setenv("BYOKFS_CONFIG", path, 1);
	ASSERT_INT_EQ(config_load(err, sizeof(err)), 0);
	ASSERT_STR_EQ(config_sources(), path);
	ASSERT_INT_EQ(config_provider("aws-kms", &s, err, sizeof(err)), 0);
	ASSERT_STR_EQ(s.region, "eu-west-1");
	ASSERT_STR_EQ(s.ca_bundle, "/etc/ssl/kms.pem");
	ASSERT_TRUE(s.connect_timeout == 0.5 && s.timeout == 2 && s.retry_budget == 4);
	ASSERT_INT_EQ(s.max_attempts, CONFIG_DEFAULT_MAX_ATTEMPTS);
	ASSERT_INT_EQ(s.imds, 0);
	ASSERT_TRUE(s.lease == 60);
	ASSERT_INT_EQ(config_provider("vault-transit", &s, err, sizeof(err)), 0);
	ASSERT_STR_EQ(s.endpoint, "https://vault:8200");
	ASSERT_STR_EQ(s.vault_namespace, "team1");
	ASSERT_STR_EQ(s.token_file, "/run/byokfs/token");
	ASSERT_INT_EQ(s.max_attempts, 5);
	ASSERT_TRUE(s.retry_budget == CONFIG_DEFAULT_RETRY_BUDGET && s.timeout == 2);
	ASSERT_STR_EQ(s.region, "");
	ASSERT_TRUE(config_default_lease("aws-kms") == 60);
	ASSERT_TRUE(config_default_lease("vault-transit") == 30);
	ASSERT_TRUE(config_default_lease("local") == 30);
	ASSERT_TRUE(config_default_lease(NULL) == 30);
	unlink(path);
	TEST_DONE();
}

static void test_sanitise(void)
{
	char out[16];

	TEST_START("messages: printable, one line, bounded");
	parse_sanitise(out, sizeof(out), "a\r\nb\tc\x01\xff", 9);
	ASSERT_STR_EQ(out, "a b c??");
	parse_sanitise(out, sizeof(out), "0123456789abcdefghij", 20);
	ASSERT_STR_EQ(out, "0123456789abcde");
	parse_sanitise(out, sizeof(out), "x\0yz", 4);
	ASSERT_STR_EQ(out, "x");
	TEST_DONE();
}

int main(void)
{
	if (secmem_init() < 0)
		return 1;
	test_aws_classify();
	test_aws_spec();
	test_aws_replies();
	test_aws_time_and_creds();
	test_aws_profile();
	test_ini_long_lines();
	test_vault();
	test_http_rules();
	test_config();
	test_sanitise();
	UNIT_END();
}
