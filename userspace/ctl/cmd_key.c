// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl key generate [--force] [--config FILE] [--state-dir DIR]
 *
 * Step 1 of the seed's provisioning: a P-256 key made inside the TPM
 * (tpm2 provider). Works on the state directory directly; a running
 * svrcertd is told afterwards.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "store_env.h"
#include "tpm.h"

static int key_usage(void)
{
	fprintf(stderr, "usage: svrcertctl key generate [--force] "
		"[--config FILE] [--state-dir DIR]\n");
	return CTL_USAGE;
}

static int key_generate(struct svrcert_env *env, bool force)
{
	struct tpm_ctx tpm;
	char path[4200];
	int ret;

	if (env->key_storage == TPM_KEY_STORAGE_FILE)
		fprintf(stderr, "svrcertctl: warning: key-storage = file: the "
			"private key will be kept in a file, not in a TPM\n");
	store_key_path(&env->st, path, sizeof(path));
	if (!force && env->key_storage != TPM_KEY_STORAGE_HANDLE &&
	    !access(path, F_OK)) {
		fprintf(stderr, "svrcertctl key generate: a key already exists: "
			"%s (use --force to replace it; its certificate then no "
			"longer matches)\n", path);
		return CTL_FAIL;
	}
	ret = svrcert_env_tpm_open(env, &tpm);
	if (!ret)
		ret = store_lock(&env->st);
	if (!ret)
		ret = tpm_key_generate(&tpm, &env->st, force);
	if (ret) {
		fprintf(stderr, "svrcertctl key generate: %s\n",
			tpm.err[0] ? tpm.err : strerror(-ret));
		tpm_ctx_close(&tpm);
		return CTL_FAIL;
	}
	tpm_ctx_close(&tpm);
	printf("generated a P-256 key %s: %s\n",
	       env->key_storage == TPM_KEY_STORAGE_TPM ?
	       "in the TPM (TSS2 key blob, usable only with this TPM)" :
	       "in a FILE (key-storage = file)", path);
	svrcert_env_notify_daemon(env);
	return CTL_OK;
}

int cmd_key(int argc, char **argv)
{
	struct svrcert_env_args ea;
	struct svrcert_env env;
	bool force = false;
	char err[512];
	int i, ret;

	if (svrcert_env_take_args(&argc, argv, &ea) || argc < 2 ||
	    strcmp(argv[1], "generate"))
		return key_usage();
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--force"))
			return key_usage();
		force = true;
	}
	if (svrcert_env_open(&env, &ea, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl: %s\n", err);
		return CTL_FAIL;
	}
	ret = key_generate(&env, force);
	svrcert_env_close(&env);
	return ret;
}
