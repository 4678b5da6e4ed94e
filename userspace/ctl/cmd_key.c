// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl key generate [--algorithm ec|rsa] [--curve P-256|P-384|P-521]
 *     [--bits 2048|3072|4096] [--force] [--config FILE] [--state-dir DIR]
 *
 * Step 1 of the seed's provisioning: a key made inside the TPM (tpm2
 * provider), EC P-256 unless asked otherwise. Works on the state directory
 * directly; a running svrcertd is told afterwards.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "pki/store_env.h"
#include "tpm/tpm.h"

static int key_usage(void)
{
	fprintf(stderr, "usage: svrcertctl key generate [--algorithm ec|rsa] "
		"[--curve P-256|P-384|P-521]\n"
		"       [--bits 2048|3072|4096] [--force] [--config FILE] "
		"[--state-dir DIR]\n");
	return CTL_USAGE;
}

static const struct option key_opts[] = {
	{ "algorithm", required_argument, NULL, 'a' },
	{ "curve", required_argument, NULL, 'c' },
	{ "bits", required_argument, NULL, 'b' },
	{ "force", no_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 },
};

/* The key spec from the options; 0, or CTL_USAGE / CTL_FAIL printed. */
static int parse_key_args(int argc, char **argv, struct tpm_key_spec *spec,
			  bool *force)
{
	const char *alg = NULL, *curve = NULL, *bits_arg = NULL;
	char err[256], *end;
	long bits = 0;
	int c;

	optind = 0;	/* a full restart: svrcertctl -b parses again */
	while ((c = getopt_long(argc, argv, "", key_opts, NULL)) != -1) {
		switch (c) {
		case 'a': alg = optarg; break;
		case 'c': curve = optarg; break;
		case 'b': bits_arg = optarg; break;
		case 'f': *force = true; break;
		default: return key_usage();
		}
	}
	if (optind != argc)
		return key_usage();
	if (bits_arg) {
		bits = strtol(bits_arg, &end, 10);
		if (*end || end == bits_arg || bits <= 0) {
			fprintf(stderr, "svrcertctl key generate: --bits "
				"\"%.16s\" is not a number of bits (2048, 3072 "
				"or 4096)\n", bits_arg);
			return CTL_USAGE;
		}
	}
	if (!alg && bits_arg && curve) {
		fprintf(stderr, "svrcertctl key generate: --curve is for EC "
			"keys, --bits for RSA keys: give one of them\n");
		return CTL_USAGE;
	}
	/* --bits alone means RSA, --curve alone EC. */
	if (!alg && bits_arg)
		alg = "RSA";
	if (tpm_key_spec_parse(spec, alg, curve, bits, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl key generate: %s\n", err);
		return CTL_USAGE;
	}
	return 0;
}

static int key_generate(struct svrcert_env *env,
			const struct tpm_key_spec *spec, bool force)
{
	char path[4200], name[TPM_KEY_SPEC_NAME_LEN];
	struct tpm_ctx tpm;
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
		ret = tpm_key_generate_spec(&tpm, &env->st, spec, force);
	if (ret) {
		fprintf(stderr, "svrcertctl key generate: %s\n",
			tpm.err[0] ? tpm.err : strerror(-ret));
		tpm_ctx_close(&tpm);
		return CTL_FAIL;
	}
	tpm_ctx_close(&tpm);
	tpm_key_spec_name(spec, name, sizeof(name));
	printf("generated an %s key %s: %s\n", name,
	       env->key_storage == TPM_KEY_STORAGE_TPM ?
	       "in the TPM (TSS2 key blob, usable only with this TPM)" :
	       "in a FILE (key-storage = file)", path);
	svrcert_env_notify_daemon(env);
	return CTL_OK;
}

int cmd_key(int argc, char **argv)
{
	struct tpm_key_spec spec;
	struct svrcert_env_args ea;
	struct svrcert_env env;
	bool force = false;
	char err[512];
	int ret;

	if (svrcert_env_take_args(&argc, argv, &ea) || argc < 2 ||
	    strcmp(argv[1], "generate"))
		return key_usage();
	ret = parse_key_args(argc - 1, argv + 1, &spec, &force);
	if (ret)
		return ret;
	if (svrcert_env_open(&env, &ea, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl: %s\n", err);
		return CTL_FAIL;
	}
	ret = key_generate(&env, &spec, force);
	svrcert_env_close(&env);
	return ret;
}
