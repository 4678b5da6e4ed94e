// SPDX-License-Identifier: GPL-2.0
/* Read-only state by API: CRLs, the seed's counters, alarms, peer keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki/alarm.h"
#include "lib/counters.h"
#include "crl/crl_master.h"
#include "lib/ctlsock.h"
#include "lib/store_json.h"
#include "pki/import_trust.h"
#include "rest_int.h"

/* Said when svrcertd's loop has no CRL manager to drive (yet). */
#define CRL_FETCH_MISSING "svrcertd does not fetch CRLs (its control socket " \
	"has no CRL manager): nothing was fetched"

static const char *const fetch_fields[] = { "url", "force", NULL };

/*
 * Ask svrcertd's loop over the control socket, as svrcertctl would: the
 * CRL manager lives in the loop, not in this thread. NULL when the loop
 * does not know COMMAND (MISSING set) or cannot be reached.
 */
static json_t *ask_loop(struct svrcert_env *env, json_t *req, bool *missing)
{
	json_t *resp = NULL;
	const char *e;

	*missing = false;
	if (ctlsock_request(svrcert_env_control_socket(env), req, &resp)) {
		json_decref(req);
		return NULL;
	}
	json_decref(req);
	e = json_string_value(json_object_get(resp, "error"));
	if (!json_is_true(json_object_get(resp, "ok")) && e &&
	    !strncmp(e, "unknown command", 15)) {
		*missing = true;
		json_decref(resp);
		return NULL;
	}
	return resp;
}

void rest_crl_get(struct rest_req *r)
{
	const struct svrcert_config *c;
	struct svrcert_env env;
	json_t *held = NULL, *urls, *o, *mgr;
	bool missing;
	size_t i;

	if (rest_env_open(r, &env))
		return;
	c = env.have_cfg ? &env.cfg : NULL;
	urls = json_array();
	for (i = 0; c && i < c->n_crl_urls; i++)
		json_array_append_new(urls, json_string(c->crl_urls[i]));
	if (trust_held_crls_json(&env.st, &held))
		held = json_array();
	o = json_pack("{s:o, s:I, s:I, s:o, s:o}", "urls", urls,
		      "polling_interval_s",
		      (json_int_t)(c ? c->crl_polling_s : SVRCERT_DEF_POLLING_S),
		      "backoff_interval_s",
		      (json_int_t)(c ? c->crl_backoff_s : SVRCERT_DEF_BACKOFF_S),
		      "held", held, "published", svrcert_master_published_crls(env.st.dir));
	json_object_set_new(o, "discover", json_boolean(!c || c->crl_discover));
	mgr = ask_loop(&env, json_pack("{s:s}", "command", "crl"), &missing);
	if (mgr) {
		json_object_del(mgr, "ok");
		json_object_set_new(o, "manager", mgr);
	} else {
		json_object_set_new(o, "manager", json_string(missing ?
				    CRL_FETCH_MISSING : "svrcertd's control "
				    "socket did not answer"));
	}
	rest_reply(r, MHD_HTTP_OK, o);
	svrcert_env_close(&env);
}

static void crl_fetch_run(struct rest_req *r, const char *url, bool force)
{
	struct svrcert_env env;
	json_t *resp, *req;
	bool missing;

	if (rest_env_open(r, &env))
		return;
	req = json_pack("{s:s, s:b}", "command", "crl-fetch", "force", force);
	if (url)
		json_object_set_new(req, "url", json_string(url));
	resp = ask_loop(&env, req, &missing);
	if (missing)
		rest_error(r, MHD_HTTP_NOT_IMPLEMENTED, CRL_FETCH_MISSING);
	else if (!resp)
		rest_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "svrcertd's control "
			   "socket did not answer");
	else if (!json_is_true(json_object_get(resp, "ok")))
		rest_error(r, MHD_HTTP_CONFLICT, "CRL fetch: %s",
			   json_string_value(json_object_get(resp, "error")));
	else {
		/* started, not finished: the loop fetches without blocking */
		json_object_del(resp, "ok");
		rest_reply(r, MHD_HTTP_ACCEPTED, json_incref(resp));
	}
	json_decref(resp);
	svrcert_env_close(&env);
}

void rest_crl_fetch(struct rest_req *r)
{
	json_t *in = rest_body_object(r, true), *force;
	const char *url;

	if (!in)
		return;
	force = json_object_get(in, "force");
	if (rest_only_fields(r, in, fetch_fields) ||
	    rest_string_field(r, in, "url", 2048, false, &url))
		goto out;
	if (force && !json_is_boolean(force)) {
		rest_error(r, MHD_HTTP_BAD_REQUEST, "field \"force\": must be "
			   "true or false");
		goto out;
	}
	crl_fetch_run(r, url, json_is_true(force));
out:
	json_decref(in);
}

/* svrcertctl show conductor's view: the conductor served here and the
 * [crl] conductor source, both held by svrcertd's loop. */
void rest_conductor_get(struct rest_req *r)
{
	struct svrcert_env env;
	json_t *resp;
	bool missing;

	if (rest_env_open(r, &env))
		return;
	resp = ask_loop(&env, json_pack("{s:s}", "command", "conductor"),
			&missing);
	if (missing)
		rest_error(r, MHD_HTTP_NOT_IMPLEMENTED, "this svrcertd has no "
			   "conductor status");
	else if (!resp || !json_is_true(json_object_get(resp, "ok")))
		rest_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "svrcertd's control "
			   "socket did not answer");
	else {
		json_object_del(resp, "ok");
		rest_reply(r, MHD_HTTP_OK, json_incref(resp));
	}
	json_decref(resp);
	svrcert_env_close(&env);
}

/* The counters grouped as "show stats security" shows them. */
void rest_stats(struct rest_req *r)
{
	struct svrcert_env env;
	json_t *state = NULL, *seed;
	int i;

	if (rest_env_open(r, &env))
		return;
	if (counters_load(&env.st, &state)) {
		rest_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s/%s: cannot be "
			   "read", env.st.dir, STORE_COUNTERS);
		svrcert_env_close(&env);
		return;
	}
	seed = json_array();
	for (i = 0; i < CNT__MAX; i++)
		json_array_append_new(seed, json_pack("{s:s, s:s, s:s, s:I}",
			"counter", counter_descs[i].key,
			"group", counter_descs[i].group,
			"item", counter_descs[i].item,
			"value", (json_int_t)counters_get(state,
						counter_descs[i].key)));
	rest_reply(r, MHD_HTTP_OK, json_pack("{s:o, s:o}", "security", seed,
					     "counters", state));
	svrcert_env_close(&env);
}

void rest_alarms(struct rest_req *r)
{
	struct svrcert_env env;
	struct alarm_set set;
	json_t *all, *peers = NULL;

	if (rest_env_open(r, &env))
		return;
	if (alarm_load(&env.st, &set)) {
		rest_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s/%s: cannot be "
			   "read", env.st.dir, STORE_ALARMS);
	} else {
		/* then svrcertd's per-peer alarms, as svrcertctl show alarms
		 * lists them from the state directory */
		all = alarm_set_json(&set);
		if (!store_read_json(&env.st, STORE_PEER_ALARMS, &peers) &&
		    json_is_array(peers))
			json_array_extend(all, peers);
		json_decref(peers);
		rest_reply(r, MHD_HTTP_OK, json_pack("{s:o}", "alarms", all));
	}
	svrcert_env_close(&env);
}

/*
 * GET /peers/security: svrcertd's peer keys, the document `svrcertctl show
 * peers security -j` prints ([{"name", "keys"}], peer_keys.c), taken from
 * the loop's "peers" reply. The "keys" objects carry SPIs, indexes and
 * times, never key bytes (those live in the kernel only).
 */
void rest_peers_security(struct rest_req *r)
{
	struct svrcert_env env;
	json_t *resp, *peer, *out;
	const char *name;
	bool missing;
	size_t i;

	if (rest_env_open(r, &env))
		return;
	resp = ask_loop(&env, json_pack("{s:s}", "command", "peers"), &missing);
	if (missing || !resp) {
		rest_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "svrcertd's control "
			   "socket did not answer");
	} else if (!json_is_true(json_object_get(resp, "ok"))) {
		rest_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "peers security: %s",
			   json_string_value(json_object_get(resp, "error")) ?:
			   "refused");
	} else {
		out = json_array();
		json_array_foreach(json_object_get(resp, "peers"), i, peer) {
			name = json_string_value(json_object_get(peer, "name"));
			if (name)
				json_array_append_new(out, json_pack("{s:s, s:O}",
					"name", name, "keys",
					json_object_get(peer, "keys")));
		}
		rest_reply(r, MHD_HTTP_OK, out);
	}
	json_decref(resp);
	svrcert_env_close(&env);
}
