// SPDX-License-Identifier: GPL-2.0
/*
 * The CRL manager's alarms and status.
 *
 *   crl-unreachable  major  the last fetch of a source failed; raised at
 *                           the first failure, cleared by the next 200/304
 *   crl-stale        major  the held CRL is past its nextUpdate (it is still
 *                           used: revoked stays revoked); cleared by a newer
 *   crl-invalid      major  the last CRL received failed verification or
 *                           parsing (previous one kept); cleared by a good
 *                           CRL or a 304
 *   crl-issuer-changed major the URL served another issuer's CRL than the
 *                           one held; the previous issuer's CRL stays in
 *                           force (no rollback); cleared when the URL's
 *                           next accepted CRL has the same issuer again
 *
 * The own-certificate alarms (alarm.h) rewrite alarms.json as a whole, so
 * these live beside them in STATE_DIR/crl-alarms.json, in the same shape
 * (alarm_set_json plus "source").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "pki/alarm.h"
#include "daemon.h"
#include "daemon_crl.h"
#include "daemon_crl_int.h"
#include "lib/store.h"
#include "lib/util.h"

static const char *const alarm_ids[CRL_ALARM__MAX] = {
	[CRL_ALARM_UNREACHABLE] = "crl-unreachable",
	[CRL_ALARM_STALE] = "crl-stale",
	[CRL_ALARM_INVALID] = "crl-invalid",
	[CRL_ALARM_ISSUER] = "crl-issuer-changed",
};

static bool wanted(const struct crl_mgr *crl, const struct crl_src *c,
		   enum crl_alarm_kind k, time_t now)
{
	switch (k) {
	case CRL_ALARM_UNREACHABLE:
		return c->unreachable || c->delta_unreachable;
	case CRL_ALARM_STALE:
		/* standing by for the conductor, it is not fetched */
		return !crl_cond_standby(crl) &&
		       svrcert_crl_source_stale(&c->s, now);
	case CRL_ALARM_INVALID:
		return c->invalid || c->delta_invalid;
	case CRL_ALARM_ISSUER:
		return c->s.issuer_changed;
	default:
		return false;
	}
}

static void alarm_message(const struct crl_src *c, enum crl_alarm_kind k,
			  char *buf, size_t len)
{
	char when[64];

	switch (k) {
	case CRL_ALARM_UNREACHABLE:
		if (!c->unreachable)	/* the delta CRL's URL */
			snprintf(buf, len, "delta CRL %.500s unreachable: %.380s",
				 c->s.crl.freshest, c->delta_result);
		else
			snprintf(buf, len, "CRL %.700s unreachable (%u attempt(s)):"
				 " %.255s", c->s.url, c->s.failures,
				 c->s.last_msg);
		break;
	case CRL_ALARM_STALE:
		svrcert_time_iso8601(c->s.crl.next_update, when, sizeof(when));
		snprintf(buf, len, "CRL %.700s past its nextUpdate %.40s (still used)",
			 c->s.url, when);
		break;
	case CRL_ALARM_ISSUER:
		snprintf(buf, len, "CRL %.500s now served by %.200s instead of "
			 "%.200s, whose revocations stay in force", c->s.url,
			 c->s.crl.issuer_text, c->s.prev_issuer);
		break;
	default:
		if (!c->invalid)	/* the delta CRL */
			snprintf(buf, len, "delta CRL %.500s invalid, previous "
				 "state kept: %.380s", c->s.crl.freshest,
				 c->delta_result);
		else
			snprintf(buf, len, "CRL %.700s invalid, previous kept: "
				 "%.255s", c->s.url, c->s.last_msg);
		break;
	}
}

const char *crl_src_state(const struct crl_src *c, time_t now)
{
	if (c->invalid)
		return "invalid";
	if (c->unreachable)
		return "unreachable";
	if (!c->s.has_good)
		return c->attempts ? "empty" : "pending";
	if (svrcert_crl_source_stale(&c->s, now))
		return "stale";
	return "ok";
}

static json_t *alarms_json(const struct crl_mgr *crl, time_t now)
{
	json_t *a = json_array();
	char msg[1100], ts[64];
	size_t i;
	int k;

	for (i = 0; i < crl->n; i++) {
		for (k = 0; k < CRL_ALARM__MAX; k++) {
			if (!crl->src[i].alarm[k])
				continue;
			alarm_message(&crl->src[i], k, msg, sizeof(msg));
			svrcert_time_iso8601(crl->src[i].alarm_raised[k], ts,
					     sizeof(ts));
			json_array_append_new(a, json_pack(
				"{s:s, s:s, s:s, s:s, s:s}", "id", alarm_ids[k],
				"severity", alarm_severity_name(ALARM_SEV_MAJOR),
				"source", crl->src[i].s.url, "message", msg,
				"raised", ts));
		}
	}
	for (k = 0; k < CRL_ALARM__MAX; k++) {
		if (!crl->cond.alarm[k])
			continue;
		crl_cond_alarm_message(&crl->cond, k, msg, sizeof(msg));
		svrcert_time_iso8601(crl->cond.alarm_raised[k], ts, sizeof(ts));
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s}",
			"id", alarm_ids[k], "severity",
			alarm_severity_name(ALARM_SEV_MAJOR), "source",
			crl->cond.url, "message", msg, "raised", ts));
	}
	(void)now;
	return a;
}

static int store_alarms(struct crl_mgr *crl, time_t now)
{
	json_t *a = alarms_json(crl, now);
	char *text = json_dumps(a, JSON_INDENT(1) | JSON_SORT_KEYS);
	int ret = text ? store_write(&crl->d->env.st, CRL_ALARMS_FILE, text,
				     strlen(text), STORE_MODE_PUBLIC) : -ENOMEM;

	free(text);
	json_decref(a);
	return ret;
}

/* The conductor's alarms, as a source's; true when one changed. */
static bool cond_alarms_sync(struct crl_conductor *c, time_t now)
{
	bool changed = false;
	char msg[1100];
	int k;

	for (k = 0; k < CRL_ALARM__MAX; k++) {
		bool want = crl_cond_alarm_wanted(c, k);

		if (want == c->alarm[k])
			continue;
		changed = true;
		c->alarm[k] = want;
		if (want) {
			c->alarm_raised[k] = now;
			crl_cond_alarm_message(c, k, msg, sizeof(msg));
			syslog(LOG_WARNING, "alarm raised: %s (major): %s",
			       alarm_ids[k], msg);
		} else {
			syslog(LOG_NOTICE, "alarm cleared: %s (major): %s",
			       alarm_ids[k], c->url);
		}
	}
	return changed;
}

void crl_alarms_sync(struct crl_mgr *crl)
{
	time_t now = time(NULL);
	bool changed = crl->alarms_dirty;
	char msg[1100];
	size_t i;
	int k;

	for (i = 0; i < crl->n; i++) {
		struct crl_src *c = &crl->src[i];

		for (k = 0; k < CRL_ALARM__MAX; k++) {
			bool want = wanted(crl, c, k, now);

			if (want == c->alarm[k])
				continue;
			changed = true;
			c->alarm[k] = want;
			if (want) {
				c->alarm_raised[k] = now;
				alarm_message(c, k, msg, sizeof(msg));
				syslog(LOG_WARNING, "alarm raised: %s (major): %s",
				       alarm_ids[k], msg);
			} else {
				syslog(LOG_NOTICE, "alarm cleared: %s (major): %s",
				       alarm_ids[k], c->s.url);
			}
		}
	}
	changed |= cond_alarms_sync(&crl->cond, now);
	if (!changed)
		return;
	if (store_alarms(crl, now))
		syslog(LOG_ERR, "CRL: cannot write %s (retrying)",
		       CRL_ALARMS_FILE);
	else
		crl->alarms_dirty = false;
}

/* The CRLs of issuers the URL served before its current one (no
 * rollback: still in force). */
static json_t *prev_json(const struct svrcert_crl_source *s)
{
	json_t *a = json_array();
	char num[48];
	size_t i;

	for (i = 0; a && i < s->nprev; i++) {
		svrcert_crl_number_hex(&s->prev[i].crl, num, sizeof(num));
		json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "issuer",
			s->prev[i].crl.issuer_text, "crl_number", num, "keys",
			(json_int_t)s->prev[i].crl.nkeys));
	}
	return a;
}

static json_t *source_json(const struct crl_src *c, time_t now)
{
	char last[40] = "", next[40] = "", fetched[40] = "", num[48] = "";
	const struct svrcert_crl *h = c->s.has_good ? &c->s.crl : NULL;
	json_t *o, *al = json_array();
	long due = (long)(c->due - crl_mono());
	int k;

	if (h) {
		svrcert_time_iso8601(h->this_update, last, sizeof(last));
		svrcert_time_iso8601(h->next_update, next, sizeof(next));
		svrcert_crl_number_hex(h, num, sizeof(num));
	}
	if (c->last_fetch)
		svrcert_time_iso8601(c->last_fetch, fetched, sizeof(fetched));
	for (k = 0; k < CRL_ALARM__MAX; k++)
		if (c->alarm[k])
			json_array_append_new(al, json_string(alarm_ids[k]));
	o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:I, s:I, s:s?, "
		      "s:s?, s:i, s:I, s:b, s:I, s:o}",
		      "url", c->s.url, "name", c->s.name,
		      "state", crl_src_state(c, now),
		      "issuer", h ? h->issuer_text : NULL,
		      "last_update", h ? last : NULL,
		      "next_update", h ? next : NULL,
		      "entries", (json_int_t)(h ? h->entries : 0),
		      "keys", (json_int_t)(h ? h->nkeys : 0),
		      "last_fetch", c->last_fetch ? fetched : NULL,
		      "last_result", c->attempts ? c->result : NULL,
		      "failures", (int)c->s.failures,
		      "next_fetch_s", (json_int_t)(c->in_flight ? 0 :
						   due < 0 ? 0 : due),
		      "in_flight", c->in_flight,
		      "attempts", (json_int_t)c->attempts, "alarms", al);
	if (o && h && *num)
		json_object_set_new(o, "crl_number", json_string(num));
	if (o) {
		json_object_set_new(o, "previous_issuers", prev_json(&c->s));
		json_object_set_new(o, "delta", crl_delta_json(c));
		json_object_set_new(o, "discovered", json_boolean(c->discovered));
	}
	return o;
}

static json_t *source_json_in(const struct crl_mgr *crl,
			      const struct crl_src *c, time_t now)
{
	json_t *o = source_json(c, now);

	if (o)
		json_object_set_new(o, "standby",
				    json_boolean(crl_cond_standby(crl)));
	return o;
}

json_t *daemon_crl_alarms_json(struct daemon *d)
{
	struct crl_mgr *crl = crl_of(d);

	return crl ? alarms_json(crl, time(NULL)) : json_array();
}

json_t *daemon_crl_json(struct daemon *d)
{
	struct crl_mgr *crl = crl_of(d);
	const struct svrcert_config *cf = d->env.have_cfg ? &d->env.cfg : NULL;
	json_t *srcs = json_array();
	time_t now = time(NULL);
	size_t i;

	if (!crl) {
		json_decref(srcs);
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "the CRL manager is not running");
	}
	for (i = 0; i < crl->n; i++) {
		json_t *o = source_json_in(crl, &crl->src[i], now);

		if (o && crl->src[i].discovered)
			json_object_set_new(o, "referenced_by",
				crl_discover_refs_json(crl, crl->src[i].s.url));
		json_array_append_new(srcs, o);
	}
	return json_pack("{s:b, s:o, s:{s:I, s:b, s:I, s:s}, s:I, s:I, s:o, "
			 "s:o, s:o, s:o}", "ok", 1, "sources", srcs,
			 "master", "keys",
			 (json_int_t)(crl->have_master ? crl->master.n : 0),
			 "kernel_fed", crl->kernel.fed,
			 "kernel_keys", (json_int_t)crl->kernel.live,
			 "kernel", crl->kernel.msg,
			 "polling_interval_s", (json_int_t)(cf ?
				cf->crl_polling_s : SVRCERT_DEF_POLLING_S),
			 "backoff_interval_s", (json_int_t)(cf ?
				cf->crl_backoff_s : SVRCERT_DEF_BACKOFF_S),
			 "alarms", alarms_json(crl, now),
			 "learned", crl_learn_json(crl),
			 "discovery", crl_discover_json(crl),
			 "conductor", crl_cond_json(crl));
}

static json_t *time_or_null(time_t t)
{
	char buf[40];

	if (!t)
		return json_null();
	svrcert_time_iso8601(t, buf, sizeof(buf));
	return json_string(buf);
}

/* show conductor on a router: crl status's view of the [crl] conductor
 * source and what its answers were since svrcertd started. */
json_t *daemon_crl_conductor_json(struct daemon *d)
{
	struct crl_mgr *crl = crl_of(d);
	const struct crl_conductor *c = crl ? &crl->cond : NULL;
	json_t *o;

	if (!c || !c->url[0])
		return json_null();
	o = crl_cond_json(crl);
	if (!json_is_object(o))
		return o;
	json_object_set_new(o, "last_success", time_or_null(c->last_ok));
	json_object_set_new(o, "last_failure", time_or_null(c->last_failure));
	json_object_set_new(o, "last_failure_result", c->last_failure ?
			    json_string(c->failure) : json_null());
	json_object_set_new(o, "answers", json_pack(
		"{s:I, s:I, s:I, s:I, s:I}",
		"full", (json_int_t)c->fulls, "delta", (json_int_t)c->deltas,
		"not_modified", (json_int_t)c->not_modified,
		"resync", (json_int_t)c->resyncs,
		"rejected", (json_int_t)c->rejected));
	json_object_set_new(o, "bytes_received", json_integer(
		(json_int_t)c->bytes));
	return o;
}

/* ---- the conductor source's status and alarms ---------------------------- */

bool crl_cond_alarm_wanted(const struct crl_conductor *c,
			   enum crl_alarm_kind k)
{
	if (!c->url[0])
		return false;
	if (k == CRL_ALARM_UNREACHABLE)
		return c->unreachable || c->refused;
	return k == CRL_ALARM_INVALID && c->invalid;
}

void crl_cond_alarm_message(const struct crl_conductor *c,
			    enum crl_alarm_kind k, char *buf, size_t len)
{
	if (k == CRL_ALARM_INVALID)
		snprintf(buf, len, "conductor %.300s: update rejected, list "
			 "kept: %.600s", c->url, c->result);
	else if (c->refused)
		snprintf(buf, len, "conductor %.300s refused this router: "
			 "%.600s", c->url, c->result);
	else
		snprintf(buf, len, "conductor %.300s unreachable (%u attempt(s)),"
			 " list kept: %.600s", c->url, c->failures, c->result);
}

json_t *crl_cond_json(const struct crl_mgr *crl)
{
	const struct crl_conductor *c = &crl->cond;
	char epoch[2 * SVRCERT_GEN_EPOCH_LEN + 1] = "", fetched[40] = "";
	const char *state;
	json_t *al = json_array();
	int k;

	if (!c->url[0]) {
		json_decref(al);
		return json_null();
	}
	if (c->held.have)
		svrcert_hex(c->held.epoch, SVRCERT_GEN_EPOCH_LEN, epoch);
	if (c->last_fetch)
		svrcert_time_iso8601(c->last_fetch, fetched, sizeof(fetched));
	for (k = 0; k < CRL_ALARM__MAX; k++)
		if (c->alarm[k])
			json_array_append_new(al, json_string(
				k == CRL_ALARM_INVALID ? "crl-invalid" :
							 "crl-unreachable"));
	state = c->invalid ? "invalid" : c->refused ? "refused" :
		c->unreachable ? "unreachable" : !c->held.have ?
		(c->attempts ? "empty" : "pending") : "ok";
	return json_pack("{s:s, s:s, s:s, s:s?, s:I, s:I, s:s?, s:s?, s:i, "
			 "s:I, s:b, s:b, s:o}", "url", c->url, "name", c->name,
			 "state", state, "epoch", c->held.have ? epoch : NULL,
			 "generation", (json_int_t)c->held.gen,
			 "keys", (json_int_t)c->held.n,
			 "last_fetch", c->last_fetch ? fetched : NULL,
			 "last_result", c->attempts ? c->result : NULL,
			 "failures", (int)c->failures,
			 "attempts", (json_int_t)c->attempts,
			 "in_flight", c->in_flight,
			 "fallback", !crl_cond_standby(crl), "alarms", al);
}
