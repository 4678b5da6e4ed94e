// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show conductor [-j]
 *
 * The conductor as an operator sees it (Documentation/conductor.md), asked
 * of the running svrcertd over its control socket ({"command":
 * "conductor"}; GET /api/v1/conductor gives the same): on a conductor
 * ([conductor] enable = yes) its generation, the routers connected and
 * waiting, the answers and bytes served, refusals by reason and the
 * signatures made; on a router ([crl] conductor) the source's state, the
 * generation it holds, its last success and failure, whether the CRL
 * sources are fetched meanwhile, and its answers (full sets, deltas, 304s,
 * resyncs) and bytes received. Counts are since svrcertd (or the
 * conductor) started. Nothing of a key is in either.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "lib/ctlsock.h"
#include "pki/store_env.h"

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : "-";
}

static json_int_t num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

#define I JSON_INTEGER_FORMAT

static void print_role(json_t *c)
{
	json_t *a = json_object_get(c, "answers"), *b = json_object_get(c, "bytes");
	json_t *r = json_object_get(c, "refused");

	printf("conductor %s on %s\n", str(c, "name"), str(c, "listen"));
	if (!json_is_true(json_object_get(c, "running"))) {
		printf("  not running: %s\n", str(c, "error"));
		return;
	}
	printf("  port %" I ", since %s\n  generation %" I " (epoch %s), %" I
	       " keys, made %s\n  routers: %" I " connected (at most %" I "), %"
	       I " waiting; %" I " connections taken\n",
	       num(c, "port"), str(c, "since"), num(c, "generation"),
	       str(c, "epoch"), num(c, "keys"), str(c, "generation_time"),
	       num(c, "connections"), num(c, "max_connections"),
	       num(c, "waiting"), num(c, "accepted"));
	printf("  answers: %" I " full, %" I " delta, %" I " not modified, %" I
	       " held, %" I " CRL files, %" I " errors\n  bytes: %" I " sent, %"
	       I " received\n", num(a, "full"), num(a, "delta"),
	       num(a, "not_modified"), num(a, "held"), num(a, "files"),
	       num(a, "errors"), num(b, "sent"), num(b, "received"));
	printf("  refused: %" I " revoked, %" I " expired, %" I " not yet valid, %"
	       I " untrusted, %" I " over max-connections\n  signatures: %" I
	       "\n", num(r, "revoked"), num(r, "expired"),
	       num(r, "not_yet_valid"), num(r, "untrusted"),
	       num(r, "over_limit"), num(c, "signatures"));
}

static void print_source(json_t *s)
{
	json_t *a = json_object_get(s, "answers");

	printf("conductor source %s (%s)\n  state %s%s\n  generation %" I
	       " (epoch %s), %" I " keys\n  last success %s\n  last failure %s"
	       "%s%s\n  last answer %s: %s\n", str(s, "url"), str(s, "name"),
	       str(s, "state"), json_is_true(json_object_get(s, "in_flight")) ?
	       ", request waiting at the conductor" : "", num(s, "generation"),
	       str(s, "epoch"), num(s, "keys"), str(s, "last_success"),
	       str(s, "last_failure"), json_is_string(json_object_get(s,
	       "last_failure_result")) ? ": " : "",
	       json_is_string(json_object_get(s, "last_failure_result")) ?
	       str(s, "last_failure_result") : "", str(s, "last_fetch"),
	       str(s, "last_result"));
	printf("  fallback %s\n  answers: %" I " full, %" I " delta, %" I
	       " not modified, %" I " resync, %" I " rejected; %" I
	       " failures in a row\n  bytes received %" I "\n",
	       json_is_true(json_object_get(s, "fallback")) ?
	       "in use: the CRL sources are fetched" : "not in use",
	       num(a, "full"), num(a, "delta"), num(a, "not_modified"),
	       num(a, "resync"), num(a, "rejected"), num(s, "failures"),
	       num(s, "bytes_received"));
}

static int conductor_run(struct svrcert_env *env, bool json)
{
	const char *path = svrcert_env_control_socket(env);
	json_t *req = json_pack("{s:s}", "command", "conductor"), *resp = NULL;
	int ret = req ? ctlsock_request(path, req, &resp) : -ENOMEM;

	json_decref(req);
	if (ret || !json_is_true(json_object_get(resp, "ok"))) {
		fprintf(stderr, "svrcertctl: show conductor: %s\n",
			ret == -ENOENT || ret == -ECONNREFUSED ?
			"svrcertd is not running (the conductor and the source "
			"live in it)" : ret == -EACCES ? "refused: only root or "
			"the control group may ask svrcertd" : ret ?
			strerror(-ret) : str(resp, "error"));
		json_decref(resp);
		return CTL_FAIL;
	}
	if (json) {
		json_object_del(resp, "ok");
		json_dumpf(resp, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
	} else {
		if (json_is_object(json_object_get(resp, "conductor")))
			print_role(json_object_get(resp, "conductor"));
		if (json_is_object(json_object_get(resp, "source")))
			print_source(json_object_get(resp, "source"));
		if (!json_is_object(json_object_get(resp, "conductor")) &&
		    !json_is_object(json_object_get(resp, "source")))
			printf("no conductor: neither [conductor] enable = yes "
			       "nor [crl] conductor is configured\n");
	}
	json_decref(resp);
	return CTL_OK;
}

int show_conductor(int argc, char **argv)
{
	struct svrcert_env_args ea;
	struct svrcert_env env;
	char err[512];
	bool json;
	int ret;

	json = ctl_take_json_flag(&argc, argv);
	if (svrcert_env_take_args(&argc, argv, &ea) || argc != 1) {
		fprintf(stderr, "usage: svrcertctl show conductor [-j]\n");
		return CTL_USAGE;
	}
	if (svrcert_env_open(&env, &ea, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl: %s\n", err);
		return CTL_FAIL;
	}
	ret = conductor_run(&env, json);
	svrcert_env_close(&env);
	return ret;
}
