// SPDX-License-Identifier: GPL-2.0
/*
 * Delta CRLs (RFC 5280 5.2.4, 5.2.6; Documentation/crl.md, "Delta CRLs").
 * When a source's held CRL names a freshestCRL URL, that URL is fetched
 * right after each base fetch (200 or 304) and then every polling-interval,
 * or sooner at the held delta's nextUpdate (at most once a minute), since
 * CAs publish deltas between bases; a failure is retried every
 * backoff-interval. An accepted delta is combined with the base it names
 * (svrcert_crl_source_offer_delta) and the master list moved to the
 * combined state like for any new CRL: the kernel, the publish, the audit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "daemon.h"
#include "daemon_crl_int.h"
#include "daemon_peers.h"

#define DELTA_MIN_S	60	/* never poll a delta URL more often */

bool crl_delta_wanted(const struct crl_src *c)
{
	return c->s.has_good && c->s.crl.freshest[0];
}

static void start(struct crl_mgr *crl, struct crl_src *c)
{
	const struct svrcert_config *cf = crl->d->env.have_cfg ?
					  &crl->d->env.cfg : NULL;
	struct svrcert_fetch_req req = {
		.url = c->s.crl.freshest,
		.etag = *c->s.delta_etag ? c->s.delta_etag : NULL,
		.last_modified = *c->s.delta_last_modified ?
				 c->s.delta_last_modified : NULL,
		.connect_timeout_ms = cf ? cf->crl_connect_timeout_s * 1000L : 0,
		.total_timeout_ms = cf ? cf->crl_timeout_s * 1000L : 0,
		.max_size = cf ? (size_t)cf->crl_max_size : 0,
		.user = &c->delta_tag,
	};
	int ret = svrcert_fetcher_add(crl->f, &req);

	if (ret) {
		c->delta_unreachable = true;
		snprintf(c->delta_result, sizeof(c->delta_result), "failed: "
			 "cannot start fetching %.300s: %s", req.url,
			 strerror(-ret));
		c->delta_due = crl_mono() + crl_backoff_s(crl);
		return;
	}
	c->delta_in_flight = true;
}

void crl_delta_process(struct crl_mgr *crl)
{
	size_t i;

	for (i = 0; i < crl->n && !crl_cond_standby(crl); i++) {
		struct crl_src *c = &crl->src[i];

		if (crl_delta_wanted(c) && !c->delta_in_flight &&
		    !c->in_flight && c->delta_due <= crl_mono())
			start(crl, c);
	}
}

/* Next poll: polling-interval, or the held delta's nextUpdate if sooner. */
static time_t next_due(const struct crl_mgr *crl, const struct crl_src *c)
{
	time_t in = crl_polling_s(crl), left;

	if (c->s.has_delta) {
		left = c->s.delta.crl.next_update - time(NULL);
		if (left < in)
			in = left;
	}
	return crl_mono() + (in < DELTA_MIN_S ? DELTA_MIN_S : in);
}

static void got_delta(struct crl_mgr *crl, struct crl_src *c,
		      struct svrcert_fetch_result *res)
{
	STACK_OF(X509) *trusted = crl_trusted_certs(crl);
	size_t added = 0, removed = 0;
	char err[300];
	bool replaced;
	int ret;

	ret = svrcert_crl_source_offer_delta(&c->s, res->body, res->body_len,
					     trusted, time(NULL), res->etag,
					     res->last_modified, &replaced,
					     err, sizeof(err));
	sk_X509_pop_free(trusted, X509_free);
	if (ret) {
		crl_count(crl, CNT_CRL_INGEST_FAILURE);
		c->delta_invalid = true;
		snprintf(c->delta_result, sizeof(c->delta_result),
			 "rejected: %.360s", err);
		syslog(LOG_ERR, "delta CRL from %s rejected, previous state "
		       "kept: %s", c->s.crl.freshest, err);
		crl_audit_update(crl, c, false, res->body_len, 0, 0, err);
		c->delta_due = crl_mono() + crl_backoff_s(crl);
		return;
	}
	crl_count(crl, CNT_CRL_INGEST_SUCCESS);
	c->delta_invalid = false;
	if (replaced) {
		crl_commit(crl, &added, &removed);
		daemon_peers_crl_updated(crl->d);
	} else {
		crl_publish(crl, &crl->master);
	}
	snprintf(c->delta_result, sizeof(c->delta_result), "ok: +%zu -%zu keys",
		 added, removed);
	syslog(LOG_INFO, "delta CRL from %s: %zu entries (%zu removeFromCRL), "
	       "%s", c->s.crl.freshest, c->s.delta.crl.entries,
	       c->s.delta.crl.nremoved, c->delta_result);
	crl_audit_update(crl, c, true, res->body_len, added, removed, NULL);
	c->delta_due = next_due(crl, c);
}

bool crl_delta_done(struct crl_mgr *crl, struct svrcert_fetch_result *res)
{
	struct crl_src *c = NULL;
	size_t i;

	for (i = 0; i < crl->n && !c; i++)
		if (res->user == &crl->src[i].delta_tag)
			c = &crl->src[i];
	if (!c)
		return false;
	c->delta_in_flight = false;
	crl->alarms_dirty = true;
	if (res->status == SVRCERT_FETCH_FAILED) {
		crl_count(crl, CNT_CRL_FETCH_FAILURE);
		c->delta_unreachable = true;
		snprintf(c->delta_result, sizeof(c->delta_result), "failed: "
			 "%.370s", res->msg);
		c->delta_due = crl_mono() + crl_backoff_s(crl);
		syslog(LOG_WARNING, "delta CRL fetch failed: %s", res->msg);
		return true;
	}
	crl_count(crl, CNT_CRL_FETCH_SUCCESS);
	c->delta_unreachable = false;
	if (res->status == SVRCERT_FETCH_NOT_MODIFIED) {
		c->delta_invalid = false;
		snprintf(c->delta_result, sizeof(c->delta_result),
			 "not modified");
		c->delta_due = next_due(crl, c);
	} else {
		got_delta(crl, c, res);
	}
	return true;
}

json_t *crl_delta_json(const struct crl_src *c)
{
	char num[48] = "", base[48] = "";

	if (!crl_delta_wanted(c))
		return json_null();
	if (c->s.has_delta)
		svrcert_crl_number_hex(&c->s.delta.crl, num, sizeof(num));
	if (c->s.has_good)
		svrcert_crl_number_hex(&c->s.crl, base, sizeof(base));
	return json_pack("{s:s, s:b, s:s?, s:s, s:I, s:s?, s:b}",
			 "url", c->s.crl.freshest, "held", c->s.has_delta,
			 "crl_number", *num ? num : NULL, "base_crl_number",
			 base, "effective_keys", (json_int_t)(c->s.has_delta ?
							      c->s.neff : 0),
			 "last_result", *c->delta_result ? c->delta_result :
			 NULL, "in_flight", c->delta_in_flight);
}
