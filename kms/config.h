/* SPDX-License-Identifier: MIT */
/*
 * byokfs.conf: settings of the remote key providers and the default lease,
 * read with inih from
 *   /etc/byokfs/byokfs.conf                          (system)
 *   ${XDG_CONFIG_HOME:-$HOME/.config}/byokfs/byokfs.conf  (per user; wins)
 * or, when the environment variable BYOKFS_CONFIG is set, from that one
 * file only (empty: none), which is how tests stay hermetic. A file that
 * does not exist is skipped; one writable by group or others, or owned by
 * another user than us or root, is refused (it could redirect a provider).
 *
 * Sections and settings (etc/byokfs.conf.example documents each):
 *   [mount]          lease
 *   [kms]            connect_timeout timeout retry_budget max_attempts ca_bundle ca_path
 *                    (defaults for every remote provider)
 *   [aws-kms]        the [kms] settings, region endpoint profile imds lease
 *   [vault-transit]  the [kms] settings, address namespace token_file lease
 * Credentials never go here: they come from where each ecosystem keeps them.
 * Environment variables of the ecosystem (AWS_REGION, VAULT_ADDR, ...) beat
 * the files; see the providers.
 *
 * Calling sequence: any function loads the files once (thread-safe); the
 * result never changes afterwards.
 */
#ifndef BYOKFS_KMS_CONFIG_H
#define BYOKFS_KMS_CONFIG_H

#include <limits.h>
#include <stddef.h>

#define CONFIG_SYSTEM_FILE "/etc/byokfs/byokfs.conf"
#define CONFIG_DEFAULT_LEASE 5.0
#define CONFIG_DEFAULT_CONNECT_TIMEOUT 1.0
#define CONFIG_DEFAULT_TIMEOUT 1.0
#define CONFIG_DEFAULT_RETRY_BUDGET 1.5
#define CONFIG_DEFAULT_MAX_ATTEMPTS 3

struct kms_settings {
	char endpoint[512];        /* aws-kms: endpoint; vault-transit: address; "" unset */
	char region[64];           /* aws-kms */
	char profile[128];         /* aws-kms */
	char ca_bundle[PATH_MAX];
	char ca_path[PATH_MAX];
	char vault_namespace[256]; /* vault-transit */
	char token_file[PATH_MAX]; /* vault-transit */
	int imds;                  /* aws-kms: EC2 instance metadata, 1 on (default), 0 off */
	double connect_timeout;    /* seconds, per connection */
	double timeout;            /* seconds, per attempt */
	double retry_budget;       /* seconds, one provider call with its retries */
	int max_attempts;          /* per provider call */
	double lease;              /* seconds; 0 when not set for the provider */
};

/* Loads the files if not done yet. 0, or -1 with the first error (file, line, what) in err. */
int config_load(char *err, size_t errlen);

/*
 * The settings of provider name ("aws-kms", "vault-transit"): built-in
 * defaults, then [kms], then the provider's section. 0, or -1 with err when
 * the files are bad.
 */
int config_provider(const char *name, struct kms_settings *out, char *err, size_t errlen);

/*
 * The default lease in seconds for a mount whose key provider is `provider`
 * (may be NULL): [PROVIDER] lease, else [mount] lease, else
 * CONFIG_DEFAULT_LEASE. A bad file counts as unset (config_load() reports it).
 */
double config_default_lease(const char *provider);

/* The files that were read, for messages ("" if none). */
const char *config_sources(void);

#endif
