// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show certificate crl [-j]
 *
 * Three places know a CRL the manager fetched: its file in STATE_DIR/crl/
 * (held), index.json (published: from which URL, its CRL number, delta,
 * whether stale) and the running svrcertd (each source's fetch state).
 * The text joins them so that each CRL is listed once: the sources with
 * their fetch state and the name of the file each one holds, then each
 * held file with its facts. JSON keeps the three views as they are
 * ("held", "published", "manager"), as GET /api/v1/crl does, plus the
 * configured "sources" and the "learned" keys.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crl/crl_learned.h"
#include "crl/crl_master.h"
#include "ctl.h"
#include "pki/import_trust.h"
#include "pki/store_env.h"
#include "lib/util.h"

/* cmd_crl.c: the running svrcertd's CRL manager (NULL when it does not run). */
json_t *ctl_crl_daemon_status(const struct svrcert_env *env);

struct crl_view {
	json_t *src;		/* configured: urls, polling, backoff */
	json_t *held;		/* files in STATE_DIR/crl/ */
	json_t *published;	/* index.json's crls */
	json_t *learned;	/* learned.json */
	json_t *live;		/* svrcertd's CRL manager, or NULL */
	const char *crldir;	/* STATE_DIR/crl, as held's paths start */
};

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : "-";
}

static json_int_t num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static json_t *crl_sources(const struct svrcert_env *env)
{
	json_t *o = json_pack("{s:[], s:I, s:I}", "urls", "polling_interval_s",
			      (json_int_t)(env->have_cfg ? env->cfg.crl_polling_s : SVRCERT_DEF_POLLING_S),
			      "backoff_interval_s",
			      (json_int_t)(env->have_cfg ? env->cfg.crl_backoff_s : SVRCERT_DEF_BACKOFF_S));
	size_t i;

	for (i = 0; env->have_cfg && i < env->cfg.n_crl_urls; i++)
		json_array_append_new(json_object_get(o, "urls"),
				      json_string(env->cfg.crl_urls[i]));
	json_object_set_new(o, "discover", json_boolean(!env->have_cfg ||
							env->cfg.crl_discover));
	return o;
}

/* The learned source as svrcertd keeps it on disk (crl_learned.h), so it
 * shows whether or not svrcertd runs. */
static json_t *crl_learned(const struct svrcert_env *env)
{
	struct svrcert_learned l;
	char path[4200], err[512], hex[65], when[40];
	json_t *keys = json_array(), *o;
	int ret = -EINVAL;

	svrcert_learned_init(&l);
	if (!store_path(&env->st, SVRCERT_LEARNED_FILE, path, sizeof(path)))
		ret = svrcert_learned_load(path, &l, err, sizeof(err));
	for (size_t i = 0; !ret && i < l.n; i++) {
		svrcert_hex(l.v[i].key, sizeof(l.v[i].key), hex);
		svrcert_time_iso8601(l.v[i].learned, when, sizeof(when));
		json_array_append_new(keys, json_pack("{s:s, s:s, s:s, s:s, s:s}",
			"key", hex, "reason",
			svrcert_learned_reason_name(l.v[i].reason),
			"peer", l.v[i].peer, "via", l.v[i].via, "learned", when));
	}
	o = json_pack("{s:s, s:I, s:I, s:I, s:o}", "file", SVRCERT_LEARNED_FILE,
		      "revoked", (json_int_t)svrcert_learned_count(&l,
						SVRCERT_LEARNED_REVOKED),
		      "expired", (json_int_t)svrcert_learned_count(&l,
						SVRCERT_LEARNED_EXPIRED),
		      "in_master", (json_int_t)svrcert_learned_count(&l,
						SVRCERT_LEARNED_REVOKED),
		      "keys", keys);
	if (o && ret && ret != -ENOENT)
		json_object_set_new(o, "error", json_string(err));
	svrcert_learned_release(&l);
	return o;
}

/* "NAME.crl" of a path in STATE_DIR/crl/ or of index.json's "crl/NAME.crl". */
static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path ? path : "";
}

/* index.json's entry for the held file FILE, or NULL. */
static json_t *published_for_file(const struct crl_view *v, const char *file)
{
	json_t *it;
	size_t i;

	json_array_foreach(v->published, i, it)
		if (!strcmp(base_name(str(it, "file")), base_name(file)))
			return it;
	return NULL;
}

/* index.json's current (not previous issuer's) CRL of URL, or NULL. */
static json_t *published_for_url(const struct crl_view *v, const char *url)
{
	json_t *it;
	size_t i;

	json_array_foreach(v->published, i, it)
		if (!strcmp(str(it, "url"), url) &&
		    !json_is_true(json_object_get(it, "previous_issuer")))
			return it;
	return NULL;
}

static json_t *live_source(const struct crl_view *v, const char *url)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(v->live, "sources"), i, it)
		if (!strcmp(str(it, "url"), url))
			return it;
	return NULL;
}

static bool configured(const struct crl_view *v, const char *url)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(v->src, "urls"), i, it)
		if (!strcmp(json_string_value(it), url))
			return true;
	return false;
}

/* One source: its URL, the file it holds, svrcertd's fetch state. */
static void print_source(const struct crl_view *v, const char *url,
			 const char *note)
{
	json_t *pub = published_for_url(v, url), *s = live_source(v, url);

	printf("  %s%s\n", url, note);
	if (pub)
		printf("    holds %s\n", base_name(str(pub, "file")));
	else
		printf("    holds no CRL\n");
	if (!s)
		return;
	printf("    state %s, last fetch %s: %s\n", str(s, "state"),
	       str(s, "last_fetch"), str(s, "last_result"));
	if (json_is_true(json_object_get(s, "in_flight")))
		printf("    fetching now\n");
	else
		printf("    next fetch in %" JSON_INTEGER_FORMAT " s\n",
		       num(s, "next_fetch_s"));
}

/* " (discovered: own, peer r2)" for a discovered source. */
static const char *discovered_note(json_t *src, char *out, size_t len)
{
	json_t *it;
	size_t i, used;

	if (!json_is_true(json_object_get(src, "discovered")))
		return " (svrcertd only, not in the configuration)";
	used = (size_t)snprintf(out, len, " (discovered:");
	json_array_foreach(json_object_get(src, "referenced_by"), i, it)
		if (used < len)
			used += (size_t)snprintf(out + used, len - used, "%s %s",
						 i ? "," : "",
						 json_string_value(it));
	if (used < len)
		snprintf(out + used, len - used, ")");
	return out;
}

static void print_sources(const struct crl_view *v)
{
	char note[400];
	json_t *it;
	size_t i;

	printf("CRL sources (polling %" JSON_INTEGER_FORMAT " s, backoff %"
	       JSON_INTEGER_FORMAT " s%s):\n",
	       num(v->src, "polling_interval_s"),
	       num(v->src, "backoff_interval_s"),
	       v->live ? "" : "; svrcertd is not running: no fetch state");
	json_array_foreach(json_object_get(v->src, "urls"), i, it)
		print_source(v, json_string_value(it), "");
	/* discovered (certificates' CRL distribution points), then, after a
	 * reload not yet done, what the running svrcertd still fetches */
	json_array_foreach(json_object_get(v->live, "sources"), i, it)
		if (!configured(v, str(it, "url")))
			print_source(v, str(it, "url"),
				     discovered_note(it, note, sizeof(note)));
	if (!json_array_size(json_object_get(v->src, "urls")) &&
	    !json_array_size(json_object_get(v->live, "sources")))
		printf("  none\n");
}

/* One held file, with what index.json adds about it. */
static void print_held_one(const struct crl_view *v, json_t *h)
{
	json_t *pub = published_for_file(v, str(h, "file"));
	json_t *delta = json_object_get(pub, "delta");

	printf("  %s\n", base_name(str(h, "file")));
	if (!json_is_true(json_object_get(h, "parses"))) {
		printf("    does not parse as a CRL\n");
		return;
	}
	printf("    issuer %s\n    last update %s, next update %s, %"
	       JSON_INTEGER_FORMAT " entries", str(h, "issuer"),
	       str(h, "last_update"), str(h, "next_update"), num(h, "entries"));
	if (pub)
		printf(", CRL number %s", str(pub, "crl_number"));
	printf("\n");
	if (json_is_object(delta))
		printf("    delta CRL number %s, last update %s, next update "
		       "%s, %" JSON_INTEGER_FORMAT " entries\n",
		       str(delta, "crl_number"), str(delta, "this_update"),
		       str(delta, "next_update"), num(delta, "entries"));
	if (json_is_true(json_object_get(pub, "previous_issuer")))
		printf("    a previous issuer's CRL of %s\n", str(pub, "url"));
	if (json_is_true(json_object_get(pub, "stale")))
		printf("    STALE: past its next update\n");
	if (!pub)
		printf("    not published by the CRL manager (index.json)\n");
}

static void print_held(const struct crl_view *v)
{
	json_t *it;
	size_t i;

	printf("CRLs held in %s:\n", v->crldir);
	json_array_foreach(v->held, i, it)
		print_held_one(v, it);
	if (!json_array_size(v->held))
		printf("  none\n");
}

static void print_learned(json_t *lj)
{
	json_t *it;
	size_t i;

	printf("Learned at runtime (%s): %" JSON_INTEGER_FORMAT " revoked (in "
	       "the master list), %" JSON_INTEGER_FORMAT " expired (recorded)\n",
	       str(lj, "file"), num(lj, "revoked"), num(lj, "expired"));
	if (json_object_get(lj, "error"))
		printf("  unreadable: %s\n", str(lj, "error"));
	json_array_foreach(json_object_get(lj, "keys"), i, it)
		printf("  %s %s\n    peer %s, via %s, since %s\n",
		       str(it, "reason"), str(it, "key"), str(it, "peer"),
		       str(it, "via"), str(it, "learned"));
}

static void print_text(const struct crl_view *v)
{
	json_t *m = json_object_get(v->live, "master");

	print_sources(v);
	print_held(v);
	print_learned(v->learned);
	if (v->live)
		printf("CRL manager (svrcertd): master list %" JSON_INTEGER_FORMAT
		       " keys; kernel: %s\n", num(m, "keys"), str(m, "kernel"));
}

static void view_release(struct crl_view *v)
{
	json_decref(v->src);
	json_decref(v->held);
	json_decref(v->published);
	json_decref(v->learned);
	json_decref(v->live);
}

int show_crl(struct svrcert_env *env, bool json)
{
	char crldir[4200];
	struct crl_view v = {
		.src = crl_sources(env),
		.published = svrcert_master_published_crls(env->st.dir),
		.learned = crl_learned(env), .live = ctl_crl_daemon_status(env),
		.crldir = crldir,
	};
	json_t *o;

	if (store_path(&env->st, SVRCERT_MASTER_CRL_DIR, crldir, sizeof(crldir)) ||
	    trust_held_crls_json(&env->st, &v.held)) {
		fprintf(stderr, "cannot list the held CRLs\n");
		view_release(&v);
		return CTL_FAIL;
	}
	if (!json) {
		print_text(&v);
		view_release(&v);
		return CTL_OK;
	}
	if (v.live)
		json_object_del(v.live, "ok");
	o = json_pack("{s:O, s:O, s:O, s:O, s:O}", "sources", v.src,
		      "held", v.held, "published", v.published, "learned",
		      v.learned, "manager", v.live ? v.live : json_null());
	json_dumpf(o, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(o);
	view_release(&v);
	return CTL_OK;
}
