/* SPDX-License-Identifier: MIT */
/* byokfs status MOUNTPOINT [--json] */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char usage_text[] =
	"usage: byokfs status MOUNTPOINT [--json]\n"
	"\n"
	"Shows the mount's state (unlocked, locked, revoked), its key provider and key\n"
	"id, the lease (length, expiry, last renewal and its latency), open files,\n"
	"bytes read and written, and authentication failures. --json prints the\n"
	"same as one JSON object.\n";

static void line(const char *label, json_t *v)
{
	printf("%-24s ", label);
	if (json_is_string(v))
		printf("%s\n", json_string_value(v));
	else if (json_is_integer(v))
		printf("%lld\n", (long long)json_integer_value(v));
	else if (json_is_real(v))
		printf("%.3f\n", json_real_value(v));
	else if (json_is_boolean(v))
		printf("%s\n", json_is_true(v) ? "yes" : "no");
	else
		printf("-\n");
}

int cmd_status(int argc, char **argv)
{
	const char *mp = NULL;
	int json = 0, code;
	json_t *reply, *st;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] != '-' && !mp)
			mp = argv[i];
		else {
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (!mp) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	code = cli_control(mp, "status", &reply);
	if (code != EXIT_OK) {
		json_decref(reply);
		return code;
	}
	st = json_object_get(reply, "status");
	if (json) {
		json_dumpf(st, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		static const char *const keys[][2] = {
			{"state", "state"}, {"provider", "provider"}, {"key_id", "key id"},
			{"volume_id", "volume id"}, {"backing", "backing"}, {"mountpoint", "mount point"},
			{"lease_seconds", "lease (s)"}, {"lease_expires_in", "lease expires in (s)"},
			{"lease_expires_at", "lease expires at"},
			{"last_renewal_ago", "last renewal (s ago)"},
			{"last_renewal_latency_ms", "last renewal took (ms)"},
			{"renewals_ok", "renewals ok"}, {"renewals_failed", "renewals failed"},
			{"last_error", "last error"}, {"open_files", "open files"},
			{"bytes_read", "bytes read"}, {"bytes_written", "bytes written"},
			{"auth_failures", "auth failures"}, {"data_keys_in_memory", "data keys in memory"},
			{"pid", "pid"}, {"mounted_at", "mounted at"},
		};
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			line(keys[i][1], json_object_get(st, keys[i][0]));
	}
	json_decref(reply);
	return EXIT_OK;
}
