// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl daemon status|check|reload [-j]: ask a running svrcertd over
 * its control socket. The daemon answers one JSON line; -j prints it as
 * is, otherwise as aligned "key: value" lines (nested objects indented).
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

static void print_object(json_t *o, int indent);

/* A JSON key in the CLI's words: "check_interval_s" -> "check-interval-s". */
static void text_key(const char *key, char *out, size_t len)
{
	size_t i;

	for (i = 0; key[i] && i + 2 < len; i++)
		out[i] = key[i] == '_' ? '-' : key[i];
	out[i++] = ':';
	out[i] = '\0';
}

static void print_scalar(json_t *v)
{
	char *text;

	if (json_is_string(v)) {
		printf("%s\n", json_string_value(v));
		return;
	}
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	printf("%s\n", text ? text : "?");
	free(text);
}

/* One member, its value starting at column INDENT + WIDTH + 1; objects
 * and arrays of objects below it, indented. */
static void print_member(const char *key, json_t *v, int indent, int width)
{
	char k[128];
	size_t i;
	json_t *e;

	text_key(key, k, sizeof(k));
	if (json_is_object(v) && json_object_size(v)) {
		printf("%*s%s\n", indent, "", k);
		print_object(v, indent + 2);
		return;
	}
	printf("%*s%-*s ", indent, "", width, k);
	if (json_is_array(v) && !json_array_size(v)) {
		printf("none\n");
		return;
	}
	if (!json_is_array(v) || !json_is_object(json_array_get(v, 0))) {
		print_scalar(v);
		return;
	}
	printf("%zu\n", json_array_size(v));
	json_array_foreach(v, i, e) {
		printf("%*s- %zu\n", indent + 2, "", i + 1);
		print_object(e, indent + 4);
	}
}

/* Aligned "key: value" lines, as "show policy" prints them. */
static void print_object(json_t *o, int indent)
{
	const char *key;
	json_t *v;
	int width = 0;

	json_object_foreach(o, key, v)
		if (strcmp(key, "ok") && (int)strlen(key) + 1 > width)
			width = (int)strlen(key) + 1;
	json_object_foreach(o, key, v)
		if (strcmp(key, "ok"))
			print_member(key, v, indent, width);
}

static int print_response(json_t *resp, bool json)
{
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
	print_object(resp, 0);
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
	ret = req ? ctlsock_request_wait(svrcert_env_control_socket(&env), req,
					 &resp, CTLSOCK_ACTION_TIMEOUT_MS) : -ENOMEM;
	if (ret == -ENOENT || ret == -ECONNREFUSED)
		fprintf(stderr, "svrcertctl: daemon: svrcertd is not running (no one listens on %s)\n",
			svrcert_env_control_socket(&env));
	else if (ret)
		fprintf(stderr, "svrcertctl: daemon: %s\n", ctl_daemon_error(ret));
	else
		ret = print_response(resp, json);
	json_decref(req);
	json_decref(resp);
	svrcert_env_close(&env);
	return ret < 0 ? CTL_FAIL : ret;
}
