/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the control socket's request handling: control_handle() (the
 * whole of what a peer's line reaches) with stub operations.
 * Input: byte 0 picks the peer (bits 0-1: root, the owner, or a stranger)
 * and what the stubs do (bit 2: unlock fails; bit 3: status fails; bit 4:
 * the unlock error text is the rest of the input, as a provider's message
 * might carry any bytes); the rest is the request line.
 * Invariants: every reply is one line of JSON (no newline), an object with
 * a boolean "ok"; a stranger is always refused and never reaches an
 * operation; an operation runs only for the request that names it.
 */
#include <jansson.h>
#include <string.h>

#include "fs/control.h"
#include "kms/kms.h"
#include "tests/fuzz/fuzz.h"

#define OWNER 1000u

struct stub {
	int revoked, unlocked, statused;
	int unlock_fails, status_fails;
	const uint8_t *msg;
	size_t msglen;
};

static void stub_revoke(void *ctx)
{
	((struct stub *)ctx)->revoked++;
}

static int stub_unlock(void *ctx, char *err, size_t errlen)
{
	struct stub *s = ctx;
	s->unlocked++;
	if (!s->unlock_fails)
		return 0;
	if (s->msg) {
		size_t n = s->msglen < errlen - 1 ? s->msglen : errlen - 1;
		memcpy(err, s->msg, n);
		err[n] = '\0';
	} else {
		snprintf(err, errlen, "key file '/k' is missing");
	}
	return KMS_DENIED;
}

static void *stub_status(void *ctx)
{
	struct stub *s = ctx;
	s->statused++;
	return s->status_fails ? NULL : json_pack("{s:s, s:i}", "state", "unlocked", "pid", 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned uids[4] = {0, OWNER, 1001, 65534};
	struct stub s = {0};
	struct control_ops ops = {stub_revoke, stub_unlock, stub_status, &s};
	json_error_t jerr;
	json_t *reply, *ok;
	unsigned uid;
	char *line, *out;
	size_t len;

	if (size < 1)
		return 0;
	uid = uids[data[0] & 3];
	s.unlock_fails = (data[0] >> 2) & 1;
	s.status_fails = (data[0] >> 3) & 1;
	if ((data[0] >> 4) & 1) {
		s.msg = data + 1;
		s.msglen = size - 1;
	}
	len = size - 1;
	line = (char *)fuzz_dup(data + 1, len);
	out = control_handle(&ops, OWNER, uid, line, len);
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(!strchr(out, '\n'));
	reply = json_loads(out, 0, &jerr);
	if (!reply) {
		fprintf(stderr, "reply is not JSON: %s\n", out);
		abort();
	}
	ok = json_object_get(reply, "ok");
	FUZZ_CHECK(json_is_boolean(ok));
	if (uid != 0 && uid != OWNER) {
		FUZZ_CHECK(json_is_false(ok));
		FUZZ_CHECK(s.revoked + s.unlocked + s.statused == 0);
	}
	FUZZ_CHECK(s.revoked + s.unlocked + s.statused <= 1);
	if (json_is_true(ok))
		FUZZ_CHECK(s.revoked + s.unlocked + s.statused == 1);
	if (s.revoked + s.unlocked + s.statused) {
		json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
		const char *cmd = json_string_value(json_object_get(req, "cmd"));
		FUZZ_CHECK(cmd && !strcmp(cmd, s.revoked ? "revoke" : s.unlocked ? "unlock" : "status"));
		json_decref(req);
	}
	json_decref(reply);
	free(out);
	free(line);
	return 0;
}
