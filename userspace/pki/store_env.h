/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything one lifecycle operation needs, for svrcertctl and svrcertd
 * alike: the configuration, the state directory, the audit sink, the key
 * storage and the import parameters.
 *
 * Configuration: the file named by --config / SVRCERT_CONFIG, else
 * /etc/svrcert/svrcert.conf. A missing default file is not an error (the
 * built-in defaults apply, trusted CAs come from the state directory only,
 * audit lines go to STATE_DIR/audit.log); a named file that is missing or
 * bad is. --state-dir / SVRCERT_STATE_DIR overrides [daemon] state-dir.
 */
#ifndef SVRCERT_STORE_ENV_H
#define SVRCERT_STORE_ENV_H

#include <stdbool.h>

#include "lib/audit.h"
#include "lib/config.h"
#include "import.h"
#include "lib/store.h"
#include "tpm/tpm.h"

struct svrcert_env {
	struct svrcert_config cfg;
	bool have_cfg;
	struct svrcert_store st;
	struct audit_sink audit;
	enum tpm_key_storage key_storage;
	uint32_t tpm_handle;		/* TPM_KEY_STORAGE_HANDLE */
	const char *tcti;		/* NULL: TPM2OPENSSL_TCTI / default */
	struct import_params ip;
};

/* Options an operation accepts, removed from ARGV by svrcert_env_take_args. */
/* A tpm_ctx for this environment's key (see tpm_ctx_open()). */
int svrcert_env_tpm_open(const struct svrcert_env *env, struct tpm_ctx *tpm);

struct svrcert_env_args {
	const char *config;		/* --config FILE, -c FILE */
	const char *state_dir;		/* --state-dir DIR */
};

/* Remove --config/-c FILE and --state-dir DIR from argv (any position);
 * -EINVAL when one lacks its value. */
int svrcert_env_take_args(int *argc, char **argv, struct svrcert_env_args *a);

int svrcert_env_open(struct svrcert_env *env, const struct svrcert_env_args *a,
		     char *err, size_t errlen);
void svrcert_env_close(struct svrcert_env *env);


/* After a change to the state directory: release the state lock and ask a
 * running svrcertd to check the own certificate again now. Returns 0 when it did, -ENOENT /
 * -ECONNREFUSED when no daemon runs (nothing to do), else -errno. */
int svrcert_env_notify_daemon(struct svrcert_env *env);
/* The control socket path in use. */
const char *svrcert_env_control_socket(const struct svrcert_env *env);

#endif
