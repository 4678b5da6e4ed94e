// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl import CERT.pem [--identity NAME] [-j]
 *
 * Step 4 of the seed's provisioning: check the certificate (no private
 * key, parse + validate, not revoked; in that order) and install it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki/alarm.h"
#include "ctl.h"
#include "pki/import.h"
#include "pki/store_env.h"
#include "lib/util.h"

#define IMPORT_FILE_MAX	(1u << 20)

static const char *const step_names[] = {
	"", "1 (no private key)", "2 (parse and validate)",
	"3 (not revoked)",
};

static int import_usage(void)
{
	fprintf(stderr, "usage: svrcertctl import CERT.pem [--identity NAME] "
		"[-j] [--config FILE] [--state-dir DIR]\n");
	return CTL_USAGE;
}

static void print_result(int ret, const struct import_result *res, bool json)
{
	json_t *o;

	if (json) {
		o = json_pack("{s:b, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			      "ok", ret == 0, "failed_step", res->step,
			      "problem", ret && res->problem ?
			      svrcert_problem_name(res->problem) : "",
			      "message", res->message,
			      "common_name", res->common_name,
			      "fingerprint", res->sha1,
			      "sha256_fingerprint", res->sha256,
			      "kernel", res->kernel, "warning", res->warning);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		return;
	}
	if (ret) {
		fprintf(stderr, "svrcertctl import: certificate rejected%s%s"
			":\n%s\nthe installed certificate is unchanged\n",
			res->step ? " at step " : "",
			res->step ? step_names[res->step] : "", res->message);
		return;
	}
	printf("imported certificate CN=%s\n  SHA-1   %s\n  SHA-256 %s\n%s\n",
	       res->common_name, res->sha1, res->sha256, res->kernel);
	if (res->warning[0])
		printf("warning: %s\n", res->warning);
}

static int import_run(struct svrcert_env *env, const char *file,
		      const char *identity, bool json)
{
	struct own_cert_status status;
	struct import_result res;
	uint8_t *buf = NULL;
	size_t len;
	int ret;

	ret = svrcert_read_file(file, IMPORT_FILE_MAX, &buf, &len);
	if (ret) {
		fprintf(stderr, "svrcertctl import: %s: %s\n", file,
			strerror(-ret));
		return CTL_FAIL;
	}
	env->ip.expected_name = identity;
	ret = import_certificate(&env->ip, buf, len, &res);
	free(buf);
	print_result(ret, &res, json);
	if (ret)
		return CTL_FAIL;
	/* Clear the alarms the new certificate resolves (the kernel was
	 * told by the import already). */
	env->ip.tell_kernel = false;
	alarm_check_own(&env->ip, env->have_cfg && env->cfg.peer_validation,
			&status, NULL, 0);
	svrcert_env_notify_daemon(env);
	return CTL_OK;
}

int cmd_import(int argc, char **argv)
{
	struct svrcert_env_args ea;
	struct svrcert_env env;
	const char *file = NULL, *identity = NULL;
	char err[512];
	bool json;
	int i, ret;

	json = ctl_take_json_flag(&argc, argv);
	if (svrcert_env_take_args(&argc, argv, &ea))
		return import_usage();
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--identity") && i + 1 < argc)
			identity = argv[++i];
		else if (!file && argv[i][0] != '-')
			file = argv[i];
		else
			return import_usage();
	}
	if (!file)
		return import_usage();
	if (svrcert_env_open(&env, &ea, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl: %s\n", err);
		return CTL_FAIL;
	}
	ret = import_run(&env, file, identity, json);
	svrcert_env_close(&env);
	return ret;
}
