// SPDX-License-Identifier: GPL-2.0
/*
 * Peer keys as svrcertd holds them ([daemon] peer-keys; issue 14), over
 * its control socket:
 *
 *   svrcertctl peer rekey NAME|--all        new keys now (make-before-break)
 *   svrcertctl show peers security [NAME] [-j]
 *
 * The daemon's "peers" reply carries per peer a "keys" object: state, key
 * index, SPIs, algorithm, times, rekey count and the last failure. It never
 * holds key bytes: those live in the kernel only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_nl.h"
#include "lib/ctlsock.h"
#include "netlink/nl_util.h"
#include "pki/store_env.h"

/* One request; *RESP is the reply with "ok": true, else NULL (said why). */
static int ask(const char *what, const struct svrcert_env_args *args, json_t *req,
	       json_t **resp)
{
	struct svrcert_env env;
	char err[512];
	int ret;

	*resp = NULL;
	if (svrcert_env_open(&env, args, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl: %s: %s\n", what, err);
		return CTL_FAIL;
	}
	ret = req ? ctlsock_request_wait(svrcert_env_control_socket(&env), req,
					 resp, CTLSOCK_ACTION_TIMEOUT_MS) : -ENOMEM;
	if (ret == -ENOENT || ret == -ECONNREFUSED)
		fprintf(stderr, "svrcertctl: %s: svrcertd is not running (no one listens on %s)\n",
			what, svrcert_env_control_socket(&env));
	else if (ret)
		fprintf(stderr, "svrcertctl: %s: %s\n", what, ctl_daemon_error(ret));
	else if (!json_is_true(json_object_get(*resp, "ok")))
		fprintf(stderr, "svrcertctl: %s: %s\n", what,
			json_string_value(json_object_get(*resp, "error")) ?: "refused");
	svrcert_env_close(&env);
	if (ret || !json_is_true(json_object_get(*resp, "ok"))) {
		json_decref(*resp);
		*resp = NULL;
		return CTL_FAIL;
	}
	return CTL_OK;
}

int peer_rekey(int argc, char **argv)
{
	struct svrcert_env_args args = { 0 };
	json_t *req, *resp;
	int ret;

	if (svrcert_env_take_args(&argc, argv, &args) || argc != 2) {
		fprintf(stderr, "usage: svrcertctl peer rekey NAME|--all [--config FILE] "
			"[--state-dir DIR]\n");
		return CTL_USAGE;
	}
	if (strcmp(argv[1], "--all") && svrcert_nl_peer_name_check(argv[1]))
		return ctl_usage_error("peer rekey", "'%s' is not a peer name", argv[1]);
	req = strcmp(argv[1], "--all") ?
	      json_pack("{s:s, s:s}", "command", "peer-rekey", "peer", argv[1]) :
	      json_pack("{s:s}", "command", "peer-rekey");
	ret = ask("peer rekey", &args, req, &resp);
	json_decref(req);
	if (ret == CTL_OK)
		printf("rekey started for %lld peer(s)\n",
		       (long long)json_integer_value(json_object_get(resp, "peers")));
	json_decref(resp);
	return ret;
}

static void when(json_t *keys, const char *key, char *out, size_t len)
{
	const char *t = json_string_value(json_object_get(keys, key));

	snprintf(out, len, "%s", t ? t : "never");
}

static void keys_text(json_t *peer)
{
	json_t *k = json_object_get(peer, "keys");
	const char *fail = json_string_value(json_object_get(k, "last_failure"));
	char est[32], last[32];

	when(k, "established", est, sizeof(est));
	when(k, "last_rekey", last, sizeof(last));
	printf("%s\n", json_string_value(json_object_get(peer, "name")));
	printf("  key state:    %s\n", json_string_value(json_object_get(k, "state")));
	printf("  key index:    %lld\n", (long long)json_integer_value(json_object_get(k, "index")));
	printf("  SPI in/out:   0x%08llx / 0x%08llx\n",
	       (long long)json_integer_value(json_object_get(k, "spi_in")),
	       (long long)json_integer_value(json_object_get(k, "spi_out")));
	printf("  algorithm:    %s\n", json_string_value(json_object_get(k, "algorithm")));
	printf("  established:  %s\n", est);
	printf("  last rekey:   %s\n", last);
	printf("  rekeys:       %lld\n", (long long)json_integer_value(json_object_get(k, "rekeys")));
	printf("  last failure: %s\n", fail && *fail ? fail : "none");
}

int show_peers_security(int argc, char **argv)
{
	bool json = ctl_take_json_flag(&argc, argv);
	struct svrcert_env_args args = { 0 };
	json_t *req, *resp, *peer, *out;
	const char *name = NULL;
	size_t i, n = 0;
	int ret;

	if (svrcert_env_take_args(&argc, argv, &args) || argc > 2) {
		fprintf(stderr, "usage: svrcertctl show peers security [NAME] [-j] "
			"[--config FILE] [--state-dir DIR]\n");
		return CTL_USAGE;
	}
	if (argc == 2)
		name = argv[1];
	req = json_pack("{s:s}", "command", "peers");
	ret = ask("show peers security", &args, req, &resp);
	json_decref(req);
	if (ret != CTL_OK)
		return ret;
	out = json_array();
	json_array_foreach(json_object_get(resp, "peers"), i, peer) {
		const char *pn = json_string_value(json_object_get(peer, "name"));

		if (!pn || (name && strcmp(name, pn)))
			continue;
		json_array_append_new(out, json_pack("{s:s, s:O}", "name", pn, "keys",
						     json_object_get(peer, "keys")));
		if (!json)
			keys_text(peer);
		n++;
	}
	if (json)
		json_dumpf(name && n ? json_array_get(out, 0) : out, stdout, JSON_INDENT(2));
	if (json)
		putchar('\n');
	json_decref(out);
	json_decref(resp);
	if (name && !n) {
		fprintf(stderr, "svrcertctl: show peers security: no such peer '%s'\n", name);
		return CTL_FAIL;
	}
	return CTL_OK;
}
