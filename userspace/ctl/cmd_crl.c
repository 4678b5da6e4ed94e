// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl crl fetch [--force] [URL]   fetch now (all sources, or URL)
 * svrcertctl crl status [-j]             the CRL manager's view per source
 *
 * CRLs are fetched by svrcertd (its CRL manager owns the sources, the
 * master list and the kernel's revocation set), so both ask it over the
 * control socket. "fetch" starts the transfers, then waits until each has
 * a result (the daemon's loop never waits for the network, so neither does
 * its control socket) and prints one line per source; it fails when any
 * fetch or CRL failed. --force drops the conditional-GET validators: the
 * whole CRL is downloaded and verified again even if unchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "lib/ctlsock.h"
#include "pki/store_env.h"

#define CRL_WAIT_POLL_MS	200

json_t *ctl_crl_daemon_status(const struct svrcert_env *env);
void ctl_crl_print_status(json_t *st);

/* One request; prints why it failed. NULL on failure. */
static json_t *ask(const struct svrcert_env *env, json_t *req, bool quiet)
{
	const char *path = svrcert_env_control_socket(env);
	json_t *resp = NULL;
	int ret = req ? ctlsock_request_wait(path, req, &resp,
					     CTLSOCK_ACTION_TIMEOUT_MS) : -ENOMEM;

	json_decref(req);
	if (ret == -ENOENT || ret == -ECONNREFUSED) {
		if (!quiet)
			fprintf(stderr, "svrcertctl: crl: svrcertd is not running "
				"(no one listens on %s); CRLs are fetched by "
				"svrcertd: start it\n", path);
		return NULL;
	}
	if (ret) {
		if (!quiet)
			fprintf(stderr, "svrcertctl: crl: %s\n",
				ctl_daemon_error(ret));
		return NULL;
	}
	if (!json_is_true(json_object_get(resp, "ok"))) {
		const char *why = json_string_value(json_object_get(resp, "error"));

		if (!quiet)
			fprintf(stderr, "svrcertctl: crl: %s\n", why ? why :
				"request refused");
		json_decref(resp);
		return NULL;
	}
	return resp;
}

/* The daemon's CRL manager status, or NULL when svrcertd does not run. */
json_t *ctl_crl_daemon_status(const struct svrcert_env *env)
{
	return ask(env, json_pack("{s:s}", "command", "crl"), true);
}

static json_t *source_by_url(json_t *st, const char *url)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(st, "sources"), i, it)
		if (!strcmp(json_string_value(json_object_get(it, "url")), url))
			return it;
	return NULL;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

/* The [crl] conductor source (Documentation/conductor.md). */
static void print_conductor(json_t *c)
{
	if (!json_is_object(c))
		return;
	printf("  conductor %s (%s)\n    state %s%s\n    epoch %s, generation %"
	       JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT " keys\n    last "
	       "answer %s: %s\n", str(c, "url"), str(c, "name"),
	       str(c, "state"), json_is_true(json_object_get(c, "fallback")) ?
	       " (CRL sources fetched meanwhile)" : "", str(c, "epoch"),
	       json_integer_value(json_object_get(c, "generation")),
	       json_integer_value(json_object_get(c, "keys")),
	       str(c, "last_fetch"), str(c, "last_result"));
}

void ctl_crl_print_status(json_t *st)
{
	json_t *it, *m = json_object_get(st, "master");
	size_t i;

	printf("CRL manager (svrcertd): polling %" JSON_INTEGER_FORMAT
	       " s, backoff %" JSON_INTEGER_FORMAT " s; master list %"
	       JSON_INTEGER_FORMAT " keys; kernel: %s\n",
	       json_integer_value(json_object_get(st, "polling_interval_s")),
	       json_integer_value(json_object_get(st, "backoff_interval_s")),
	       json_integer_value(json_object_get(m, "keys")), str(m, "kernel"));
	json_array_foreach(json_object_get(st, "sources"), i, it) {
		printf("  %s\n    state %s\n    issuer %s\n    last update %s, "
		       "next update %s, %" JSON_INTEGER_FORMAT " entries, CRL "
		       "number %s\n    last fetch %s: %s\n",
		       str(it, "url"), str(it, "state"), str(it, "issuer"),
		       str(it, "last_update"), str(it, "next_update"),
		       json_integer_value(json_object_get(it, "entries")),
		       str(it, "crl_number"), str(it, "last_fetch"),
		       str(it, "last_result"));
		if (json_is_true(json_object_get(it, "in_flight")))
			printf("    fetching now\n");
		else
			printf("    next fetch in %" JSON_INTEGER_FORMAT " s\n",
			       json_integer_value(json_object_get(it,
							"next_fetch_s")));
	}
	if (!json_array_size(json_object_get(st, "sources")))
		printf("  no [crl] url configured\n");
	print_conductor(json_object_get(st, "conductor"));
}

/* Wait until every started URL has a new result; print them. */
static int wait_results(const struct svrcert_env *env, json_t *started,
			int timeout_s)
{
	json_t *attempts = json_object_get(started, "attempts"), *st = NULL;
	json_t *urls = json_object_get(started, "started"), *it, *src;
	time_t end = time(NULL) + timeout_s;
	size_t i, done = 0;
	int ret = CTL_OK;

	while (done < json_array_size(urls) && time(NULL) < end) {
		usleep(CRL_WAIT_POLL_MS * 1000);
		json_decref(st);
		st = ask(env, json_pack("{s:s}", "command", "crl"), false);
		if (!st)
			return CTL_FAIL;
		done = 0;
		json_array_foreach(urls, i, it) {
			const char *url = json_string_value(it);

			src = source_by_url(st, url);
			done += !src || (!json_is_true(json_object_get(src,
							"in_flight")) &&
				json_integer_value(json_object_get(src, "attempts")) >
				json_integer_value(json_object_get(attempts, url)));
		}
	}
	json_array_foreach(urls, i, it) {
		const char *url = json_string_value(it), *res;

		src = st ? source_by_url(st, url) : NULL;
		res = src ? str(src, "last_result") : "no result in time";
		if (done < json_array_size(urls) && src &&
		    json_is_true(json_object_get(src, "in_flight")))
			res = "no result in time (still fetching)";
		printf("%s: %s\n", url, res);
		if (strncmp(res, "ok", 2) && strcmp(res, "not modified"))
			ret = CTL_FAIL;
	}
	json_decref(st);
	return ret;
}

static int crl_fetch(struct svrcert_env *env, int argc, char **argv)
{
	const char *url = NULL;
	bool force = false;
	json_t *resp;
	int i, ret, wait_s;

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = true;
		else if (argv[i][0] == '-' || url)
			return CTL_USAGE;
		else
			url = argv[i];
	}
	resp = ask(env, json_pack("{s:s, s:s?, s:b}", "command", "crl-fetch",
				  "url", url, "force", force), false);
	if (!resp)
		return CTL_FAIL;
	/* connect + total timeout of a transfer, and some slack. */
	wait_s = env->have_cfg ? (int)(env->cfg.crl_connect_timeout_s +
				       env->cfg.crl_timeout_s) + 5 : 75;
	if (!json_array_size(json_object_get(resp, "started")))
		printf("no [crl] url configured\n");
	ret = wait_results(env, resp, wait_s);
	json_decref(resp);
	return ret;
}

static int crl_status(struct svrcert_env *env, bool json)
{
	json_t *st = ask(env, json_pack("{s:s}", "command", "crl"), false);

	if (!st)
		return CTL_FAIL;
	if (json) {
		json_object_del(st, "ok");
		json_dumpf(st, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
	} else {
		ctl_crl_print_status(st);
	}
	json_decref(st);
	return CTL_OK;
}

int cmd_crl(int argc, char **argv)
{
	struct svrcert_env_args ea = { 0 };
	struct svrcert_env env;
	char err[512];
	bool json;
	int ret;

	json = ctl_take_json_flag(&argc, argv);
	if (svrcert_env_take_args(&argc, argv, &ea) || argc < 2 ||
	    (strcmp(argv[1], "fetch") && strcmp(argv[1], "status")) ||
	    (!strcmp(argv[1], "status") && argc != 2))
		goto usage;
	if (svrcert_env_open(&env, &ea, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl: crl: %s\n", err);
		return CTL_FAIL;
	}
	ret = !strcmp(argv[1], "fetch") ? crl_fetch(&env, argc, argv) :
	      crl_status(&env, json);
	svrcert_env_close(&env);
	if (ret != CTL_USAGE)
		return ret;
usage:
	fprintf(stderr, "usage: svrcertctl crl fetch [--force] [URL]\n"
		"       svrcertctl crl status [-j]\n"
		"       (both also take --config FILE --state-dir DIR)\n");
	return CTL_USAGE;
}
