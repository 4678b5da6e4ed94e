// SPDX-License-Identifier: GPL-2.0
/* Configuration + state directory for one lifecycle operation. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/ctlsock.h"
#include "store_env.h"

static int take_value(int *argc, char **argv, int i, const char **out)
{
	int j;

	if (i + 1 >= *argc)
		return -EINVAL;
	*out = argv[i + 1];
	for (j = i; j + 2 <= *argc; j++)
		argv[j] = argv[j + 2];
	*argc -= 2;
	argv[*argc] = NULL;
	return 0;
}

int svrcert_env_take_args(int *argc, char **argv, struct svrcert_env_args *a)
{
	int i = 0, ret;

	a->config = getenv("SVRCERT_CONFIG");
	a->state_dir = getenv("SVRCERT_STATE_DIR");
	while (i < *argc) {
		if (!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c"))
			ret = take_value(argc, argv, i, &a->config);
		else if (!strcmp(argv[i], "--state-dir"))
			ret = take_value(argc, argv, i, &a->state_dir);
		else {
			i++;
			continue;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int load_config(struct svrcert_env *env, const char *path, char *err,
		       size_t errlen)
{
	bool named = path != NULL;

	if (!path)
		path = SVRCERT_DEF_CONFIG_PATH;
	if (!named && access(path, F_OK) && errno == ENOENT)
		return 0;
	if (svrcert_config_load(path, &env->cfg, err, errlen))
		return -EINVAL;
	env->have_cfg = true;
	return 0;
}

/* The audit log's directory is created on first use (0750). */
static void audit_dir_prepare(const char *path)
{
	char copy[4096];

	snprintf(copy, sizeof(copy), "%s", path);
	mkdir(dirname(copy), 0750);
}

/* [key] key-file and [router] uuid-file, when configured. */
static int configured_paths(struct svrcert_env *env, char *err, size_t errlen)
{
	const struct svrcert_config *c = &env->cfg;
	int n;

	if (c->key_file && c->key_storage != SVRCERT_KEY_TPM) {
		n = snprintf(env->st.key_file, sizeof(env->st.key_file), "%s",
			     c->key_file);
		if (n < 0 || (size_t)n >= sizeof(env->st.key_file))
			goto too_long;
	}
	if (c->uuid_file) {
		n = snprintf(env->st.uuid_file, sizeof(env->st.uuid_file), "%s",
			     c->uuid_file);
		if (n < 0 || (size_t)n >= sizeof(env->st.uuid_file))
			goto too_long;
	}
	return 0;
too_long:
	snprintf(err, errlen, "key-file or uuid-file path too long");
	return -ENAMETOOLONG;
}

int svrcert_env_open(struct svrcert_env *env, const struct svrcert_env_args *a,
		     char *err, size_t errlen)
{
	const char *dir;
	int ret;

	memset(env, 0, sizeof(*env));
	env->st.lock_fd = -1;
	ret = load_config(env, a->config, err, errlen);
	if (ret)
		return ret;
	dir = a->state_dir ? a->state_dir :
	      env->have_cfg ? env->cfg.state_dir : SVRCERT_STATE_DIR_DEFAULT;
	ret = store_open(&env->st, dir);
	if (ret) {
		snprintf(err, errlen, "state directory %s: %s", dir,
			 strerror(-ret));
		svrcert_env_close(env);
		return ret;
	}
	if (env->have_cfg && !a->state_dir)
		ret = configured_paths(env, err, errlen);
	if (ret) {
		svrcert_env_close(env);
		return ret;
	}
	env->audit.st = &env->st;
	if (env->have_cfg && env->cfg.audit_log && !a->state_dir) {
		env->audit.path = env->cfg.audit_log;
		audit_dir_prepare(env->audit.path);
	}
	env->key_storage = TPM_KEY_STORAGE_TPM;
	if (env->have_cfg && env->cfg.key_storage == SVRCERT_KEY_FILE)
		env->key_storage = TPM_KEY_STORAGE_FILE;
	if (env->have_cfg && env->cfg.key_storage == SVRCERT_KEY_TPM) {
		env->key_storage = TPM_KEY_STORAGE_HANDLE;
		env->tpm_handle = env->cfg.tpm_handle;
	}
	env->tcti = env->have_cfg ? env->cfg.tpm_tcti : NULL;
	env->ip.st = &env->st;
	env->ip.audit = &env->audit;
	env->ip.cfg = env->have_cfg ? &env->cfg : NULL;
	env->ip.tell_kernel = true;
	return 0;
}

int svrcert_env_tpm_open(const struct svrcert_env *env, struct tpm_ctx *tpm)
{
	int ret = tpm_ctx_open(tpm, env->key_storage, env->tcti);

	tpm->handle = env->tpm_handle;
	return ret;
}

void svrcert_env_close(struct svrcert_env *env)
{
	store_close(&env->st);
	if (env->have_cfg)
		svrcert_config_free(&env->cfg);
	env->have_cfg = false;
}

const char *svrcert_env_control_socket(const struct svrcert_env *env)
{
	const char *env_path = getenv("SVRCERT_CONTROL_SOCKET");

	if (env_path && *env_path)
		return env_path;
	return env->have_cfg && env->cfg.control_socket ?
	       env->cfg.control_socket : SVRCERT_DEF_CONTROL_SOCKET;
}

int svrcert_env_notify_daemon(struct svrcert_env *env)
{
	json_t *req = json_pack("{s:s}", "command", "check"), *resp = NULL;
	int ret;

	if (!req)
		return -ENOMEM;
	/* The daemon's check needs the lock this operation may still hold. */
	store_unlock(&env->st);
	ret = ctlsock_request(svrcert_env_control_socket(env), req, &resp);
	json_decref(req);
	if (!ret && !json_is_true(json_object_get(resp, "ok")))
		ret = -EIO;
	json_decref(resp);
	return ret;
}
