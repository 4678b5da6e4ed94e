// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl daemon status|check|reload [-j]: ask a running svrcertd over
 * its control socket. The daemon answers one JSON line; -j prints it as
 * is, otherwise its top-level members one per line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "lib/ctlsock.h"
#include "pki/store_env.h"

static const char *const daemon_requests[] = { "status", "check", "reload", NULL };

static bool daemon_request_known(const char *name)
{
	for (const char *const *r = daemon_requests; *r; r++)
		if (!strcmp(*r, name))
			return true;
	return false;
}

static void print_member(const char *key, json_t *value)
{
	char *text;

	if (json_is_string(value)) {
		printf("%s: %s\n", key, json_string_value(value));
		return;
	}
	text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	printf("%s: %s\n", key, text ? text : "?");
	free(text);
}

static int print_response(json_t *resp, bool json)
{
	const char *key;
	json_t *value;

	if (!json_is_true(json_object_get(resp, "ok"))) {
		const char *why = json_string_value(json_object_get(resp, "error"));

		fprintf(stderr, "svrcertctl: daemon: %s\n", why ? why : "request refused");
		return CTL_FAIL;
	}
	if (json) {
		json_dumpf(resp, stdout, JSON_INDENT(2));
		putchar('\n');
		return CTL_OK;
	}
	json_object_foreach(resp, key, value)
		if (strcmp(key, "ok"))
			print_member(key, value);
	return CTL_OK;
}

int cmd_daemon(int argc, char **argv)
{
	struct svrcert_env_args args = { 0 };
	struct svrcert_env env;
	json_t *req = NULL, *resp = NULL;
	char err[512];
	bool json;
	int ret;

	json = ctl_take_json_flag(&argc, argv);
	if (svrcert_env_take_args(&argc, argv, &args) || argc != 2 ||
	    !daemon_request_known(argv[1])) {
		fprintf(stderr, "usage: svrcertctl daemon status|check|reload [-j] "
			"[--config FILE] [--state-dir DIR]\n");
		return CTL_USAGE;
	}
	if (svrcert_env_open(&env, &args, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl: daemon: %s\n", err);
		return CTL_FAIL;
	}
	req = json_pack("{s:s}", "command", argv[1]);
	ret = req ? ctlsock_request(svrcert_env_control_socket(&env), req, &resp) : -ENOMEM;
	if (ret == -ENOENT || ret == -ECONNREFUSED)
		fprintf(stderr, "svrcertctl: daemon: svrcertd is not running (no one listens on %s)\n",
			svrcert_env_control_socket(&env));
	else if (ret == -EACCES)
		fprintf(stderr, "svrcertctl: daemon: refused: only root or the control group may ask svrcertd\n");
	else if (ret)
		fprintf(stderr, "svrcertctl: daemon: %s\n", strerror(-ret));
	else
		ret = print_response(resp, json);
	json_decref(req);
	json_decref(resp);
	svrcert_env_close(&env);
	return ret < 0 ? CTL_FAIL : ret;
}
