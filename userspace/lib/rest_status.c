// SPDX-License-Identifier: GPL-2.0
/* Read-only state by API: CRLs, the seed's counters, alarms. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "alarm.h"
#include "counters.h"
#include "crl_master.h"
#include "import_trust.h"
#include "rest_int.h"

/* Why POST crl/fetch cannot be served yet; GET crl says it too. */
#define CRL_FETCH_MISSING "svrcertd does not fetch CRLs yet (the CRL " \
	"manager library exists, the daemon does not drive it): nothing " \
	"was fetched"

/* What the CRL manager published (index.json), or an empty array. */
static json_t *published(const struct svrcert_env *env)
{
	json_t *idx, *crls;
	char *text = NULL;

	if (store_read(&env->st, SVRCERT_MASTER_INDEX, &text, NULL))
		return json_array();
	idx = json_loads(text, 0, NULL);
	free(text);
	crls = json_incref(json_object_get(idx, "crls"));
	json_decref(idx);
	return json_is_array(crls) ? crls : (json_decref(crls), json_array());
}

void rest_crl_get(struct rest_req *r)
{
	const struct svrcert_config *c;
	struct svrcert_env env;
	json_t *held = NULL, *urls, *o;
	size_t i;

	if (rest_env_open(r, &env))
		return;
	c = env.have_cfg ? &env.cfg : NULL;
	urls = json_array();
	for (i = 0; c && i < c->n_crl_urls; i++)
		json_array_append_new(urls, json_string(c->crl_urls[i]));
	if (trust_held_crls_json(&env.st, &held))
		held = json_array();
	o = json_pack("{s:o, s:I, s:I, s:o, s:o, s:s}", "urls", urls,
		      "polling_interval_s",
		      (json_int_t)(c ? c->crl_polling_s : SVRCERT_DEF_POLLING_S),
		      "backoff_interval_s",
		      (json_int_t)(c ? c->crl_backoff_s : SVRCERT_DEF_BACKOFF_S),
		      "held", held, "published", published(&env),
		      "fetching", CRL_FETCH_MISSING);
	rest_reply(r, MHD_HTTP_OK, o);
	svrcert_env_close(&env);
}

void rest_crl_fetch(struct rest_req *r)
{
	json_t *in = rest_body_object(r, true);

	if (!in)
		return;
	if (json_object_size(in))
		rest_error(r, MHD_HTTP_BAD_REQUEST, "field \"%s\": unknown field "
			   "(the request takes no fields)",
			   json_object_iter_key(json_object_iter(in)));
	else
		rest_error(r, MHD_HTTP_NOT_IMPLEMENTED, CRL_FETCH_MISSING);
	json_decref(in);
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

	if (rest_env_open(r, &env))
		return;
	if (alarm_load(&env.st, &set))
		rest_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s/%s: cannot be "
			   "read", env.st.dir, STORE_ALARMS);
	else
		rest_reply(r, MHD_HTTP_OK, json_pack("{s:o}", "alarms",
						     alarm_set_json(&set)));
	svrcert_env_close(&env);
}
