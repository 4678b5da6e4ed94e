// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl trusted-ca add NAME FILE [--mode strict|warn | strict | warn]
 *            trusted-ca del NAME
 *            trusted-ca list [-j]
 *
 * The seed's "Install the Trusted CA Certificate": FILE holds the CA's
 * certificate and every certificate up to the root. strict (default)
 * rejects the bundle on any problem, listing every one; warn installs it
 * and lists the problems as warnings. Runtime checks (import, peers)
 * always enforce every rule whatever the mode.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "pki/import_trust.h"
#include "pki/store_env.h"

static int tca_usage(void)
{
	fprintf(stderr, "usage: svrcertctl trusted-ca add NAME FILE "
		"[--mode strict|warn]\n"
		"       svrcertctl trusted-ca del NAME\n"
		"       svrcertctl trusted-ca list [-j]\n");
	return CTL_USAGE;
}

static int parse_mode(int argc, char **argv, enum svrcert_validation_mode *m)
{
	const char *v = NULL;

	*m = SVRCERT_MODE_STRICT;
	if (argc == 1)
		v = argv[0];
	else if (argc == 2 && !strcmp(argv[0], "--mode"))
		v = argv[1];
	else if (argc)
		return -EINVAL;
	if (!v || !strcmp(v, "strict"))
		return 0;
	if (strcmp(v, "warn"))
		return -EINVAL;
	*m = SVRCERT_MODE_WARN;
	return 0;
}

static int tca_add(struct svrcert_env *env, int argc, char **argv)
{
	enum svrcert_validation_mode mode;
	struct svrcert_problems p;
	char err[512] = "";
	size_t i;
	int ret;

	if (argc < 4 || parse_mode(argc - 4, argv + 4, &mode))
		return tca_usage();
	svrcert_problems_init(&p);
	ret = trust_ca_add(&env->st, argv[2], argv[3], mode, time(NULL), &p,
			   err, sizeof(err));
	for (i = 0; i < p.n; i++)
		fprintf(stderr, "%s: %s\n", p.v[i].warning ? "warning" : "error",
			p.v[i].msg);
	svrcert_problems_free(&p);
	if (ret) {
		fprintf(stderr, "svrcertctl trusted-ca add: %s\n", err);
		return CTL_FAIL;
	}
	printf("trusted CA bundle '%s' installed (validation-mode %s)\n",
	       argv[2], svrcert_validation_mode_name(mode));
	svrcert_env_notify_daemon(env);
	return CTL_OK;
}

static void print_list(json_t *list)
{
	json_t *b, *c;
	size_t i, j;

	json_array_foreach(list, i, b) {
		printf("%s (%s, validation-mode %s) %s\n",
		       json_string_value(json_object_get(b, "name")),
		       json_string_value(json_object_get(b, "source")),
		       json_string_value(json_object_get(b, "validation_mode")),
		       json_string_value(json_object_get(b, "file")));
		json_array_foreach(json_object_get(b, "certificates"), j, c)
			printf("  %s (until %s)\n",
			       json_string_value(json_object_get(c, "subject")),
			       json_string_value(json_object_get(c, "not_after")));
	}
	if (!json_array_size(list))
		printf("no trusted CA bundles\n");
}

static int tca_list(struct svrcert_env *env, bool json)
{
	json_t *list = NULL;

	if (trust_ca_list(&env->st, env->have_cfg ? &env->cfg : NULL, &list))
		return CTL_FAIL;
	if (json) {
		json_dumpf(list, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_list(list);
	}
	json_decref(list);
	return CTL_OK;
}

static int tca_run(struct svrcert_env *env, int argc, char **argv, bool json)
{
	int ret;

	if (!strcmp(argv[1], "add"))
		return tca_add(env, argc, argv);
	if (!strcmp(argv[1], "list") && argc == 2)
		return tca_list(env, json);
	if (strcmp(argv[1], "del") || argc != 3)
		return tca_usage();
	ret = trust_ca_del(&env->st, argv[2]);
	if (ret) {
		fprintf(stderr, "svrcertctl trusted-ca del %s: %s\n", argv[2],
			ret == -ENOENT ? "no such bundle in the state directory" :
			strerror(-ret));
		return CTL_FAIL;
	}
	printf("trusted CA bundle '%s' removed\n", argv[2]);
	svrcert_env_notify_daemon(env);
	return CTL_OK;
}

int cmd_trusted_ca(int argc, char **argv)
{
	struct svrcert_env_args ea;
	struct svrcert_env env;
	char err[512];
	bool json;
	int ret;

	json = ctl_take_json_flag(&argc, argv);
	if (svrcert_env_take_args(&argc, argv, &ea) || argc < 2)
		return tca_usage();
	if (svrcert_env_open(&env, &ea, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl: %s\n", err);
		return CTL_FAIL;
	}
	ret = tca_run(&env, argc, argv, json);
	svrcert_env_close(&env);
	return ret;
}
