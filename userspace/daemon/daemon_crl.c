// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertd's CRL manager: see daemon_crl.h and Documentation/crl.md, "In
 * the daemon". Scheduling and fetch results live here; the master list
 * and publishing in daemon_crl_commit.c, the kernel side in
 * daemon_crl_kernel.c, alarms and status in daemon_crl_status.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/x509.h>

#include "lib/audit.h"
#include "lib/counters.h"
#include "crl/crl_fetch.h"
#include "daemon.h"
#include "daemon_crl.h"
#include "daemon_crl_int.h"
#include "daemon_peers.h"

time_t crl_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static const struct svrcert_config *cfg(const struct crl_mgr *crl)
{
	return crl->d->env.have_cfg ? &crl->d->env.cfg : NULL;
}

unsigned int crl_polling_s(const struct crl_mgr *crl)
{
	return cfg(crl) ? cfg(crl)->crl_polling_s : SVRCERT_DEF_POLLING_S;
}

unsigned int crl_backoff_s(const struct crl_mgr *crl)
{
	return cfg(crl) ? cfg(crl)->crl_backoff_s : SVRCERT_DEF_BACKOFF_S;
}

/* ---- fetch results ---------------------------------------------------- */

void crl_audit_update(struct crl_mgr *crl, struct crl_src *c,
		      bool success, size_t size, size_t added,
		      size_t removed, const char *why)
{
	struct svrcert_crl_update u = { .src = &c->s, .forced = c->forced,
					.success = success, .size = size,
					.added = added, .removed = removed };
	json_t *detail = svrcert_crl_update_detail(&u);
	char desc[600];

	if (success && c->s.issuer_changed)
		snprintf(desc, sizeof(desc), "Updated CRL for issuer: %.250s "
			 "(the URL served %.250s before; its CRL stays in force)",
			 c->s.crl.issuer_text, c->s.prev_issuer);
	else if (success)
		snprintf(desc, sizeof(desc), "Updated CRL for issuer: %s",
			 c->s.crl.issuer_text);
	else
		snprintf(desc, sizeof(desc), "Rejected CRL from %s: %s",
			 c->s.url, why);
	if (detail)
		audit_event(&crl->d->env.audit, SVRCERT_AUDIT_CRL_UPDATE, desc,
			    detail, success);
}

static void got_body(struct crl_mgr *crl, struct crl_src *c,
		     struct svrcert_fetch_result *res, time_t now)
{
	STACK_OF(X509) *trusted = crl_trusted_certs(crl);
	size_t added = 0, removed = 0;
	bool replaced;
	char err[512];
	int ret;

	ret = svrcert_crl_source_offer(&c->s, res->body, res->body_len, trusted,
				       now, res->etag, res->last_modified,
				       &replaced, err, sizeof(err));
	sk_X509_pop_free(trusted, X509_free);
	if (ret) {
		crl_count(crl, CNT_CRL_INGEST_FAILURE);
		c->invalid = true;
		snprintf(c->result, sizeof(c->result), "rejected: %.360s", err);
		syslog(LOG_ERR, "CRL from %s rejected, previous list kept: %s",
		       c->s.url, err);
		crl_audit_update(crl, c, false, res->body_len, 0, 0, err);
		c->due = crl_mono() + crl_backoff_s(crl);
		return;
	}
	crl_count(crl, CNT_CRL_INGEST_SUCCESS);
	c->invalid = false;
	c->due = crl_mono() + crl_polling_s(crl);
	c->delta_due = crl_mono();	/* its delta CRL, now */
	if (!replaced) {
		/* Same keys; a newer CRL (nextUpdate) is still worth keeping. */
		snprintf(c->result, sizeof(c->result), "ok: same entries");
		crl_publish(crl, &crl->master);
	} else {
		crl_commit(crl, &added, &removed);
		snprintf(c->result, sizeof(c->result), "ok: +%zu -%zu keys",
			 added, removed);
		daemon_peers_crl_updated(crl->d);
	}
	if (c->s.issuer_changed)
		syslog(LOG_WARNING, "CRL from %s: issuer %s replaces %s there; "
		       "the CRL held of %s stays in force", c->s.url,
		       c->s.crl.issuer_text, c->s.prev_issuer, c->s.prev_issuer);
	syslog(LOG_INFO, "CRL from %s: %zu entries, %s", c->s.url,
	       c->s.crl.entries, c->result);
	crl_audit_update(crl, c, true, res->body_len, added, removed, NULL);
}

static void fetch_done(struct svrcert_fetch_result *res, void *ctx)
{
	struct crl_src *c = res->user;
	struct crl_mgr *crl = ctx;
	time_t now = time(NULL);

	if (crl_delta_done(crl, res) || crl_cond_done(crl, res))
		return;		/* a delta CRL's or the conductor's transfer */
	c->in_flight = false;
	c->attempts++;
	c->last_fetch = now;
	if (res->status == SVRCERT_FETCH_FAILED) {
		crl_count(crl, CNT_CRL_FETCH_FAILURE);
		c->unreachable = true;
		svrcert_crl_source_failed(&c->s, res->err, res->msg, now);
		snprintf(c->result, sizeof(c->result), "failed: %.370s", res->msg);
		c->due = crl_mono() + crl_backoff_s(crl);
		syslog(LOG_WARNING, "CRL fetch failed (attempt %u, next in %u s):"
		       " %s", c->s.failures, crl_backoff_s(crl), res->msg);
	} else if (res->status == SVRCERT_FETCH_NOT_MODIFIED) {
		crl_count(crl, CNT_CRL_FETCH_SUCCESS);
		c->unreachable = false;
		svrcert_crl_source_not_modified(&c->s, now);
		c->invalid = false;
		snprintf(c->result, sizeof(c->result), "not modified");
		c->due = crl_mono() + crl_polling_s(crl);
		c->delta_due = crl_mono();	/* and its delta, now */
	} else {
		crl_count(crl, CNT_CRL_FETCH_SUCCESS);
		c->unreachable = false;
		got_body(crl, c, res, now);
	}
	c->forced = false;
	crl->alarms_dirty = true;
}

static int start_fetch(struct crl_mgr *crl, struct crl_src *c)
{
	const struct svrcert_config *cf = cfg(crl);
	struct svrcert_fetch_req req = {
		.url = c->s.url,
		.etag = !c->forced && *c->s.etag ? c->s.etag : NULL,
		.last_modified = !c->forced && *c->s.last_modified ?
				 c->s.last_modified : NULL,
		.connect_timeout_ms = cf ? cf->crl_connect_timeout_s * 1000L : 0,
		.total_timeout_ms = cf ? cf->crl_timeout_s * 1000L : 0,
		.max_size = cf ? (size_t)cf->crl_max_size : 0,
		.user = c,
	};
	int ret = svrcert_fetcher_add(crl->f, &req);

	if (ret) {
		struct svrcert_fetch_result res = { .status = SVRCERT_FETCH_FAILED,
						    .err = ret, .user = c };

		snprintf(res.msg, sizeof(res.msg), "cannot start fetching %s: %s",
			 c->s.url, strerror(-ret));
		c->in_flight = true;
		fetch_done(&res, crl);
		return ret;
	}
	c->in_flight = true;
	return 0;
}

/* ---- sources ---------------------------------------------------------- */

static void sources_release(struct crl_mgr *crl)
{
	size_t i;

	for (i = 0; i < crl->n; i++)
		svrcert_crl_source_release(&crl->src[i].s);
	free(crl->src);
	crl->src = NULL;
	crl->n = 0;
}

/* Sources for the configured URLs, then the discovered ones; one already
 * held (by URL) is kept with its CRL and schedule. A new one first holds
 * what the last run published. */
static int sources_set(struct crl_mgr *crl)
{
	const struct svrcert_config *cf = cfg(crl);
	size_t n = cf ? cf->n_crl_urls : 0, i, j, ncfg;
	STACK_OF(X509) *trusted = NULL;
	struct crl_src *nw;
	const char *u;
	char err[512];

	if (n > DAEMON_CRL_SOURCES_MAX) {
		syslog(LOG_ERR, "CRL: %zu urls configured, using the first %d",
		       n, DAEMON_CRL_SOURCES_MAX);
		n = DAEMON_CRL_SOURCES_MAX;
	}
	ncfg = n;
	n += crl->disc ? crl->disc->n : 0;	/* bounded to fit */
	nw = calloc(n ? n : 1, sizeof(*nw));
	if (!nw)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		u = i < ncfg ? cf->crl_urls[i] : crl->disc->u[i - ncfg].url;
		for (j = 0; j < crl->n; j++)
			if (crl->src[j].s.url[0] &&
			    !strcmp(crl->src[j].s.url, u))
				break;
		if (j < crl->n) {
			nw[i] = crl->src[j];
			nw[i].discovered = i >= ncfg;
			/* moved, with every CRL it holds: url "" marks it */
			memset(&crl->src[j].s, 0, sizeof(crl->src[j].s));
			continue;
		}
		nw[i].discovered = i >= ncfg;
		if (svrcert_crl_source_init(&nw[i].s, u)) {
			syslog(LOG_ERR, "CRL: url too long: %s", u);
			continue;
		}
		if (!trusted)
			trusted = crl_trusted_certs(crl);
		if (!svrcert_crl_source_restore(&nw[i].s, crl->d->env.st.dir,
						trusted, time(NULL), err,
						sizeof(err)))
			syslog(LOG_INFO, "CRL: holding the published CRL of %s "
			       "(%zu entries)", nw[i].s.url, nw[i].s.crl.entries);
		else if (nw[i].s.has_good || !strstr(err, "No such file"))
			syslog(LOG_WARNING, "CRL: published copy of %s not "
			       "restored: %s", nw[i].s.url, err);
		nw[i].due = crl_mono();		/* fetch at once */
	}
	if (trusted)
		sk_X509_pop_free(trusted, X509_free);
	sources_release(crl);
	crl->src = nw;
	crl->n = n;
	return 0;
}

/* ---- start / stop ----------------------------------------------------- */

/* The list the previous run published, straight into the kernel. */
static void feed_published(struct crl_mgr *crl)
{
	char path[4200], err[512];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", crl->d->env.st.dir,
		 SVRCERT_MASTER_FILE);
	ret = svrcert_master_load_log(path, &crl->master, &crl->publog, err,
				      sizeof(err));
	if (ret == -ENOENT)
		return;
	if (ret) {
		syslog(LOG_ERR, "CRL: published master list unusable, rebuilding "
		       "it from the published CRLs: %s", err);
		return;
	}
	crl->have_master = true;
	if (crl_kernel_load(&crl->kernel, &crl->master))
		syslog(LOG_WARNING, "CRL: published master list (%zu keys) not "
		       "fed to the kernel: %s", crl->master.n, crl->kernel.msg);
	else
		syslog(LOG_INFO, "CRL: published master list: %s",
		       crl->kernel.msg);
}

int daemon_crl_start(struct daemon *d)
{
	/* curl's global state is the process's: initialised once. */
	static bool curl_ready;
	struct crl_mgr *crl;

	if (d->crl && d->crl->started)
		return 0;
	if (!d->crl)
		d->crl = malloc(sizeof(*d->crl));
	crl = d->crl;
	if (!crl)
		return -ENOMEM;
	memset(crl, 0, sizeof(*crl));
	crl->d = d;
	crl->kernel.watch_fd = -1;
	feed_published(crl);
	crl_learn_start(crl);
	if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT)) {
		syslog(LOG_ERR, "CRL: curl_global_init failed");
		return -EIO;
	}
	curl_ready = true;
	crl->f = svrcert_fetcher_new(fetch_done, crl);
	crl_discover_start(crl);
	crl_cond_start(crl);
	if (!crl->f || sources_set(crl))
		return -ENOMEM;
	/* Held CRLs that differ from the published master (none published,
	 * or it was damaged) are committed now, still before any fetch. */
	crl_commit(crl, NULL, NULL);
	crl->own_check_pending = false;	/* daemon_setup checks next */
	if (crl_kernel_watch_open(&crl->kernel))
		syslog(LOG_NOTICE, "CRL: no genetlink controller notifications;"
		       " checking for svrcert.ko every %d s",
		       DAEMON_CRL_KERNEL_CHECK_S);
	crl->next_kernel_check = crl_mono() + DAEMON_CRL_KERNEL_CHECK_S;
	crl->started = true;
	crl->alarms_dirty = true;
	syslog(LOG_INFO, "CRL manager: %zu source(s), polling every %u s, "
	       "backoff %u s, master list %zu keys", crl->n, crl_polling_s(crl),
	       crl_backoff_s(crl), crl->have_master ? crl->master.n : 0);
	return 0;
}

void daemon_crl_stop(struct daemon *d)
{
	struct crl_mgr *crl = crl_of(d);

	if (crl) {
		crl_flush_counters(crl);
		svrcert_fetcher_free(crl->f);
		crl_cond_stop(crl);
		crl_kernel_watch_close(&crl->kernel);
		crl_learn_stop(crl);
		crl_discover_stop(crl);
		sources_release(crl);
		svrcert_held_unlend(&d->held);
		if (crl->have_master)
			svrcert_master_release(&crl->master);
		svrcert_keylog_release(&crl->publog);
	}
	free(d->crl);
	d->crl = NULL;
}

static bool sources_in_flight(const struct crl_mgr *crl)
{
	for (size_t i = 0; i < crl->n; i++)
		if (crl->src[i].in_flight || crl->src[i].delta_in_flight)
			return true;
	return false;
}

void daemon_crl_reload(struct daemon *d)
{
	struct crl_mgr *crl = crl_of(d);

	if (!crl)
		return;
	/* Transfers in flight point at the sources: let them finish first
	 * (the conductor's long-poll points at crl->cond, which stays). */
	if (sources_in_flight(crl)) {
		crl->reload_pending = true;
		return;
	}
	crl->reload_pending = false;
	crl_cond_reload(crl);
	crl_discover_update(crl);
	sources_set(crl);
	crl_commit(crl, NULL, NULL);
	crl->alarms_dirty = true;
}

/* ---- the loop --------------------------------------------------------- */

size_t daemon_crl_pollfds(struct daemon *d, struct pollfd *fds, size_t max)
{
	struct crl_mgr *crl = crl_of(d);
	size_t n = 0;

	if (!crl)
		return 0;
	crl->nfds_curl = 0;
	if (!max)
		return 0;
	if (crl->kernel.watch_fd >= 0)
		fds[n++] = (struct pollfd){ .fd = crl->kernel.watch_fd,
					    .events = POLLIN };
	if (crl->learn.events_fd >= 0 && n < max)
		fds[n++] = (struct pollfd){ .fd = crl->learn.events_fd,
					    .events = POLLIN };
	crl->nfds_curl = svrcert_fetcher_pollfds(crl->f, fds + n, max - n);
	return n + crl->nfds_curl;
}

int daemon_crl_timeout_ms(struct daemon *d)
{
	struct crl_mgr *crl = crl_of(d);
	time_t now = crl_mono(), next;
	int t;
	size_t i;

	if (!crl)
		return -1;
	next = crl->next_kernel_check;
	for (i = 0; i < crl->n && !crl_cond_standby(crl); i++) {
		if (!crl->src[i].in_flight && crl->src[i].due < next)
			next = crl->src[i].due;
		if (crl_delta_wanted(&crl->src[i]) &&
		    crl->src[i].delta_due < next)
			next = crl->src[i].delta_due;
	}
	t = next <= now ? 0 : (int)(next - now) * 1000;
	if (crl->publish_pending || crl->reload_pending || crl->alarms_dirty ||
	    crl->learn.save_pending)
		t = t > 1000 ? 1000 : t;
	i = (size_t)crl_cond_timeout_ms(crl);
	t = (int)i >= 0 && (int)i < t ? (int)i : t;
	i = (size_t)svrcert_fetcher_timeout_ms(crl->f);
	return (int)i >= 0 && (int)i < t ? (int)i : t;
}

static void check_kernel(struct crl_mgr *crl)
{
	int family = crl_kernel_family();

	crl->next_kernel_check = crl_mono() + DAEMON_CRL_KERNEL_CHECK_S;
	if (family <= 0) {
		if (crl->kernel.fed)
			syslog(LOG_WARNING, "CRL: svrcert module gone; the list "
			       "is fed again when it returns");
		crl->kernel.fed = false;
		crl_learn_kernel_changed(crl, 0);
		return;
	}
	if (crl->kernel.fed && family == crl->kernel.family)
		return;
	if (!crl->have_master) {
		/* No list to feed; the rest below is still owed once. */
		crl->kernel.fed = true;
		crl->kernel.family = family;
	} else if (crl_kernel_load(&crl->kernel, &crl->master)) {
		syslog(LOG_WARNING, "CRL: feeding svrcert.ko failed (retrying):"
		       " %s", crl->kernel.msg);
		crl->next_kernel_check = crl_mono() + 1;
		return;
	} else {
		syslog(LOG_NOTICE, "CRL: svrcert.ko (re)loaded: %s",
		       crl->kernel.msg);
	}
	/* A fresh module also lacks the policy, the own-certificate state
	 * and the peers. */
	daemon_check(crl->d);
	daemon_push_policy(crl->d);
	daemon_peers_kernel_reloaded(crl->d);
	crl_learn_kernel_changed(crl, family);
}

void daemon_crl_process(struct daemon *d, const struct pollfd *fds, size_t n)
{
	struct crl_mgr *crl = crl_of(d);
	size_t i, w = 0;

	if (!crl)
		return;
	if (crl->kernel.watch_fd >= 0 && w < n && fds[w++].revents & POLLIN &&
	    crl_kernel_watch_read(&crl->kernel))
		crl->next_kernel_check = 0;
	if (crl->learn.events_fd >= 0 && w < n && fds[w++].revents & POLLIN &&
	    crl_events_read(&crl->learn))
		crl->learn.scan_pending = true;
	svrcert_fetcher_process(crl->f, fds + w, n > w ? n - w : 0);
	if (crl_discover_process(crl) || crl->reload_pending)
		daemon_crl_reload(crl->d);
	/* With a conductor answering, the CRL sources stand by: it is the
	 * one that fetches the CAs' CRLs for the authority. */
	crl_cond_fallback(crl);
	for (i = 0; i < crl->n && !crl_cond_standby(crl); i++)
		if (!crl->src[i].in_flight && crl->src[i].due <= crl_mono())
			start_fetch(crl, &crl->src[i]);
	crl_delta_process(crl);
	crl_cond_process(crl);
	if (crl->next_kernel_check <= crl_mono())
		check_kernel(crl);
	crl_learn_process(crl);
	if (crl->publish_pending && crl->have_master)
		crl_publish(crl, &crl->master);
	crl_alarms_sync(crl);
	crl_flush_counters(crl);
}

void daemon_crl_own_check(struct daemon *d)
{
	struct crl_mgr *crl = crl_of(d);

	if (crl && crl->own_check_pending && !crl->publish_pending) {
		crl->own_check_pending = false;
		daemon_check(d);
	}
}

json_t *daemon_crl_fetch_now(struct daemon *d, const char *url, bool force)
{
	struct crl_mgr *crl = crl_of(d);
	json_t *started = json_array(), *attempts = json_object();
	size_t i;

	if (!crl)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "the CRL manager is not running");
	for (i = 0; i < crl->n; i++) {
		struct crl_src *c = &crl->src[i];

		if (url && *url && strcmp(url, c->s.url))
			continue;
		json_array_append_new(started, json_string(c->s.url));
		json_object_set_new(attempts, c->s.url,
				    json_integer(c->attempts));
		if (c->in_flight)
			continue;	/* already under way: its result counts */
		c->forced = force;
		start_fetch(crl, c);
	}
	if (url && *url && !json_array_size(started)) {
		json_decref(started);
		json_decref(attempts);
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "not a configured CRL url ([crl] url) "
				 "nor a discovered one");
	}
	return json_pack("{s:b, s:o, s:o}", "ok", 1, "started", started,
			 "attempts", attempts);
}
