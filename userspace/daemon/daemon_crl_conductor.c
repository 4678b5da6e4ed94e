// SPDX-License-Identifier: GPL-2.0
/*
 * The [crl] conductor source (Documentation/conductor.md, "The router's
 * source"): the authority's revocation state from its conductor, over
 * mutual TLS with this router's key, as signed generations.
 *
 * One request is outstanding at a time on the CRL manager's fetcher (curl
 * multi, in the daemon's loop): GET /v1/revocation?epoch=E&since=G&wait=60,
 * which the conductor holds until a new generation exists or the wait
 * ends (304). A document is verified (pki/conductor_doc: signature, the
 * signer by the runtime rules as conductor NAME), applied to the held set
 * (crl_genhold's rules), saved atomically (a delta as a small
 * conductor-held.delta), and the master list moved with it: by the same
 * keys for a delta (crl_commit_held_change: work in proportion to the
 * change, which reaches svrcert.ko as one delta), rebuilt for a full set.
 * Failures retry after an exponential backoff (1 s doubling, at most
 * backoff-interval) with jitter, so a fleet does not come back at once.
 * While the conductor answers, the CRL sources (configured and
 * discovered) stand by; after CRL_CONDUCTOR_FALLBACK_AFTER failures in a
 * row (not at the first: a conductor restart must not send the fleet to
 * the CAs) they are fetched at once and then as without a conductor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lib/audit.h"
#include "lib/util.h"
#include "peer/peerauth.h"
#include "pki/conductor_doc.h"
#include "pki/import_trust.h"
#include "pki/pki.h"
#include "daemon.h"
#include "daemon_crl_int.h"
#include "daemon_peers.h"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct svrcert_config *cfg(const struct crl_mgr *crl)
{
	return crl->d->env.have_cfg ? &crl->d->env.cfg : NULL;
}

static void held_path(const struct crl_mgr *crl, char *out, size_t len)
{
	store_path(&crl->d->env.st, CRL_CONDUCTOR_HELD_FILE, out, len);
}

bool crl_cond_standby(const struct crl_mgr *crl)
{
	const struct crl_conductor *c = &crl->cond;

	return c->url[0] && c->failures < CRL_CONDUCTOR_FALLBACK_AFTER;
}

/* The conductor has just failed enough to fall back: every source is
 * fetched now (the conductor's list may lack the latest revocations). */
void crl_cond_fallback(struct crl_mgr *crl)
{
	bool on = crl->cond.url[0] && !crl_cond_standby(crl);
	size_t i;

	if (on && !crl->fallback) {
		syslog(LOG_WARNING, "conductor %s failing: fetching the CRL "
		       "sources meanwhile", crl->cond.url);
		for (i = 0; i < crl->n; i++)
			crl->src[i].due = crl->src[i].delta_due = crl_mono();
	} else if (!on && crl->fallback && crl->cond.url[0]) {
		syslog(LOG_NOTICE, "conductor %s answers: the CRL sources stand "
		       "by", crl->cond.url);
	}
	crl->fallback = on;
}

/* The held keys join *KEYS (the learned ones): both are sources that are
 * not CRLs. */
int crl_cond_add_keys(const struct crl_mgr *crl, svrcert_revkey_t **keys,
		      size_t *n)
{
	svrcert_revkey_t *both = NULL;
	int ret;

	if (!crl->cond.held.n)
		return 0;
	ret = svrcert_revkeys_patch(*keys, *n, NULL, 0, crl->cond.held.keys,
				    crl->cond.held.n, &both, n, NULL, NULL);
	if (ret)
		return ret;
	free(*keys);
	*keys = both;
	return 0;
}

/* ---- held state -------------------------------------------------------- */

static void load_held(struct crl_mgr *crl)
{
	struct crl_conductor *c = &crl->cond;
	char path[4200], err[300];
	int rc;

	held_path(crl, path, sizeof(path));
	if (!c->url[0]) {
		/* Not configured (any more): what it said leaves the list. */
		if (!unlink(path))
			syslog(LOG_NOTICE, "conductor: no [crl] conductor, %s "
			       "removed", path);
		return;
	}
	rc = svrcert_gen_held_load(path, &c->held, err, sizeof(err));
	if (!rc)
		syslog(LOG_INFO, "conductor: holding generation %llu (%zu keys) "
		       "from %s", (unsigned long long)c->held.gen, c->held.n,
		       path);
	else if (rc != -ENOENT)
		syslog(LOG_WARNING, "conductor: held state not used, asking for "
		       "the full set: %s", err);
}

static void save_held(struct crl_mgr *crl)
{
	struct crl_conductor *c = &crl->cond;
	char path[4200], err[300];

	held_path(crl, path, sizeof(path));
	c->save_pending = svrcert_gen_held_save(path, &c->held, err,
						sizeof(err)) != 0;
	if (c->save_pending)
		syslog(LOG_ERR, "conductor: %s (retrying)", err);
}

static void set_from_config(struct crl_mgr *crl)
{
	const struct svrcert_config *cf = cfg(crl);
	struct crl_conductor *c = &crl->cond;

	snprintf(c->url, sizeof(c->url), "%s",
		 cf && cf->crl_conductor ? cf->crl_conductor : "");
	snprintf(c->name, sizeof(c->name), "%s",
		 cf && cf->crl_conductor_name ? cf->crl_conductor_name : "");
	c->due_ms = 0;
}

void crl_cond_start(struct crl_mgr *crl)
{
	set_from_config(crl);
	load_held(crl);
}

void crl_cond_stop(struct crl_mgr *crl)
{
	svrcert_gen_held_release(&crl->cond.held);
}

bool crl_cond_reload(struct crl_mgr *crl)
{
	const struct svrcert_config *cf = cfg(crl);
	struct crl_conductor *c = &crl->cond;
	const char *u = cf && cf->crl_conductor ? cf->crl_conductor : "";
	const char *n = cf && cf->crl_conductor_name ?
			cf->crl_conductor_name : "";
	char path[4200];

	if (!strcmp(u, c->url) && !strcmp(n, c->name))
		return false;
	/* Another conductor (or none): its state is not this one's. */
	svrcert_fetcher_cancel(crl->f, &c->tag);
	svrcert_gen_held_release(&c->held);
	memset(c, 0, sizeof(*c));
	set_from_config(crl);
	held_path(crl, path, sizeof(path));
	unlink(path);
	crl->alarms_dirty = true;
	return true;
}

/* ---- TLS: this router's key, the conductor judged by the runtime rules */

static bool master_revoked(const uint8_t revkey[SVRCERT_DIGEST_LEN],
			   const uint8_t fp[SVRCERT_DIGEST_LEN], void *ctx)
{
	const struct crl_mgr *crl = ctx;

	return crl->have_master &&
	       (svrcert_revkeys_contains(crl->master.keys, crl->master.n,
					 revkey) ||
		svrcert_revkeys_contains(crl->master.keys, crl->master.n, fp));
}

/* The runtime rules, as for a peer: a trusted chain, dates, algorithms,
 * not revoked, and the identity [crl] conductor-name. *STORE to free. */
static int params(struct crl_mgr *crl, struct svrcert_validate_params *vp,
		  X509_STORE **store, char *err, size_t errlen)
{
	int rc = trust_store_build(&crl->d->env.st, cfg(crl), store, err,
				   errlen);

	memset(vp, 0, sizeof(*vp));
	vp->store = *store;
	vp->expected_name = crl->cond.name;
	vp->revoked = master_revoked;
	vp->revoked_ctx = crl;
	return rc;
}

static int verify_server(X509_STORE_CTX *xs, void *arg)
{
	struct crl_mgr *crl = arg;
	struct crl_conductor *c = &crl->cond;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	struct svrcert_validate_params vp;
	struct svrcert_problems p;
	X509_STORE *store = NULL;
	char subject[256] = "";
	int rc;

	svrcert_problems_init(&p);
	rc = params(crl, &vp, &store, c->tls_why, sizeof(c->tls_why));
	if (!rc && leaf) {
		rc = svrcert_validate_cert(leaf, X509_STORE_CTX_get0_untrusted(xs),
					   &vp, NULL, &p);
		svrcert_name_text(X509_get_subject_name(leaf), subject,
				  sizeof(subject));
		if (rc)
			snprintf(c->tls_why, sizeof(c->tls_why), "the server's "
				 "certificate \"%.100s\" is not conductor %.64s: "
				 "%.160s", subject, c->name, p.n ? p.v[0].msg :
				 "rejected");
	}
	svrcert_problems_free(&p);
	X509_STORE_free(store);
	if (!rc && leaf)
		return 1;
	X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

static int tls_setup(void *ssl_ctx, void *arg)
{
	struct crl_mgr *crl = arg;
	struct crl_conductor *c = &crl->cond;
	SSL_CTX *ctx = ssl_ctx;
	EVP_PKEY *key = NULL;
	char cert[4200];
	int rc;

	store_path(&crl->d->env.st, STORE_CERT, cert, sizeof(cert));
	rc = pa_load_key(cfg(crl), &crl->d->env.st, &key, c->tls_why,
			 sizeof(c->tls_why));
	if (rc)
		return rc;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1) {
		snprintf(c->tls_why, sizeof(c->tls_why), "own certificate "
			 "%.300s missing or not of this router's key", cert);
		rc = -EKEYREJECTED;
	}
	EVP_PKEY_free(key);	/* the context holds a reference */
	SSL_CTX_set_cert_verify_callback(ctx, verify_server, crl);
	return rc;
}

/* ---- requests ---------------------------------------------------------- */

static unsigned int jitter_ms(unsigned int ms)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)mono_ms();
	return ms / 2 + (ms > 1 ? r % (ms / 2 + 1) : 0);
}

/* After a failure: 1 s, 2 s, 4 s ... up to backoff-interval, each taken
 * at random between half and all of it. */
static void backoff(struct crl_mgr *crl)
{
	struct crl_conductor *c = &crl->cond;
	uint64_t ms = 1000ull << (c->failures > 20 ? 20 : c->failures);
	uint64_t cap = (uint64_t)crl_backoff_s(crl) * 1000;

	c->failures++;
	c->due_ms = mono_ms() + jitter_ms((unsigned int)(ms < cap ? ms : cap));
}

/* After an answer: at once (the next long-poll), unless nothing new came
 * back within a second (a server or cache that does not hold requests:
 * a conductor holds them at least 1 s, [conductor] max-wait): then once
 * per wait. */
static void next_poll(struct crl_mgr *crl, bool changed)
{
	struct crl_conductor *c = &crl->cond;
	int64_t now = mono_ms();

	c->failures = 0;
	c->due_ms = now;
	if (!changed && c->held.have && now - c->started_ms < 1000)
		c->due_ms = c->started_ms + CRL_CONDUCTOR_WAIT_S * 1000;
}

/* The request is on its way over a connection whose handshake passed
 * (verify_server judged the conductor): the conductor is reachable again,
 * also while the long-poll then waits up to CRL_CONDUCTOR_WAIT_S for a
 * generation. Its alarm goes now, not at that answer; the fallback ends
 * at the answer (a refusal still counts towards it). */
static void connected(void *arg)
{
	struct crl_mgr *crl = arg;
	struct crl_conductor *c = &crl->cond;

	if (!c->unreachable)
		return;
	c->unreachable = false;
	snprintf(c->result, sizeof(c->result), "connected, waiting for "
		 "the answer (after %u failure(s))", c->failures);
	crl->alarms_dirty = true;
	syslog(LOG_NOTICE, "conductor %s reachable again", c->url);
}

static void start(struct crl_mgr *crl)
{
	const struct svrcert_config *cf = cfg(crl);
	struct crl_conductor *c = &crl->cond;
	char url[sizeof(c->url) + 160], epoch[2 * SVRCERT_GEN_EPOCH_LEN + 1];
	struct svrcert_fetch_req req = {
		.url = url,
		.connect_timeout_ms = cf ? cf->crl_connect_timeout_s * 1000L : 0,
		.total_timeout_ms = ((cf ? cf->crl_timeout_s :
				      SVRCERT_DEF_CRL_TIMEOUT_S) +
				     CRL_CONDUCTOR_WAIT_S) * 1000L,
		.max_size = cf ? (size_t)cf->crl_max_size : 0,
		.tls_setup = tls_setup, .tls_arg = crl,
		.connected = connected, .connected_arg = crl,
		.error_text = true,
		.user = &c->tag,
	};
	int rc;

	if (c->held.have && !c->resync) {
		svrcert_hex(c->held.epoch, SVRCERT_GEN_EPOCH_LEN, epoch);
		snprintf(url, sizeof(url), "%s/v1/revocation?epoch=%s&since=%llu"
			 "&wait=%u", c->url, epoch,
			 (unsigned long long)c->held.gen, CRL_CONDUCTOR_WAIT_S);
	} else {
		snprintf(url, sizeof(url), "%s/v1/revocation", c->url);
	}
	/* The held generation's ETag: the conductor answers a full request
	 * naming it 304, and so does a web server or cache in front of it
	 * for any request; never while resyncing (the held set is the one in
	 * doubt). */
	if (c->held.have && !c->resync && c->etag[0])
		req.etag = c->etag;
	c->tls_why[0] = '\0';
	c->started_ms = mono_ms();
	rc = svrcert_fetcher_add(crl->f, &req);
	if (rc) {
		c->unreachable = true;
		snprintf(c->result, sizeof(c->result), "failed: cannot start "
			 "fetching %.300s: %s", url, strerror(-rc));
		backoff(crl);
		crl->alarms_dirty = true;
		return;
	}
	c->in_flight = true;
}

void crl_cond_process(struct crl_mgr *crl)
{
	struct crl_conductor *c = &crl->cond;

	if (c->save_pending)
		save_held(crl);
	if (c->url[0] && !c->in_flight && c->due_ms <= mono_ms())
		start(crl);
}

int crl_cond_timeout_ms(const struct crl_mgr *crl)
{
	const struct crl_conductor *c = &crl->cond;
	int64_t left;

	if (!c->url[0] || c->in_flight)
		return c->save_pending ? 1000 : -1;
	left = c->due_ms - mono_ms();
	return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

/* ---- answers ----------------------------------------------------------- */

static void audit(struct crl_mgr *crl, bool ok, size_t size, size_t added,
		  size_t removed, const char *why)
{
	struct crl_conductor *c = &crl->cond;
	char when[40] = "", desc[700];
	json_t *detail;

	if (c->held.have)
		svrcert_crl_time_text(c->held.time, when, sizeof(when));
	detail = json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:s}",
			   "forced", 0, "last_updated", when, "next_update", "",
			   "crl_url", c->url, "size", (json_int_t)size,
			   "total_entries", (json_int_t)c->held.n,
			   "added_entries", (json_int_t)added,
			   "removed_entries", (json_int_t)removed,
			   "success", ok, "certificate_authority", c->name);
	if (ok)
		snprintf(desc, sizeof(desc), "Updated revocation state from "
			 "conductor %s: generation %llu", c->name,
			 (unsigned long long)c->held.gen);
	else
		snprintf(desc, sizeof(desc), "Rejected revocation update from "
			 "conductor %.100s: %.500s", c->name, why);
	if (detail)
		audit_event(&crl->d->env.audit, SVRCERT_AUDIT_CRL_UPDATE, desc,
			    detail, ok);
}

static void rejected(struct crl_mgr *crl, size_t size, const char *err)
{
	struct crl_conductor *c = &crl->cond;

	crl_count(crl, CNT_CRL_INGEST_FAILURE);
	c->invalid = true;
	c->rejected++;
	snprintf(c->result, sizeof(c->result), "rejected: %.500s", err);
	c->last_failure = time(NULL);
	snprintf(c->failure, sizeof(c->failure), "%s", c->result);
	syslog(LOG_ERR, "conductor %s: update rejected, list kept: %s", c->url,
	       err);
	audit(crl, false, size, 0, 0, err);
	backoff(crl);
}

/* Verified and applied: the master list follows, as for a new CRL. */
static void taken(struct crl_mgr *crl, const struct svrcert_gen_update *u,
		  const struct svrcert_fetch_result *res, bool changed)
{
	struct crl_conductor *c = &crl->cond;
	size_t added = 0, removed = 0, size = res->body_len;

	crl_count(crl, CNT_CRL_INGEST_SUCCESS);
	*(u->kind == SVRCERT_GEN_FULL ? &c->fulls : &c->deltas) += 1;
	c->last_ok = time(NULL);
	snprintf(c->etag, sizeof(c->etag), "%s", res->etag);
	c->invalid = false;
	c->resync = false;
	if (changed) {
		save_held(crl);
		/* A delta moves the master list by what it changes; a full
		 * set (a resync) rebuilds it. */
		if (u->kind == SVRCERT_GEN_DELTA)
			crl_commit_held_change(crl, u->added, u->nadded,
					       u->removed, u->nremoved, &added,
					       &removed);
		else
			crl_commit(crl, &added, &removed);
		daemon_peers_crl_updated(crl->d);
	}
	snprintf(c->result, sizeof(c->result), "ok: generation %llu (%s), "
		 "+%zu -%zu keys", (unsigned long long)u->gen,
		 u->kind == SVRCERT_GEN_FULL ? "full set" : "delta", added,
		 removed);
	syslog(LOG_INFO, "conductor %s: %s", c->url, c->result);
	audit(crl, true, size, added, removed, NULL);
	next_poll(crl, changed);
}

static void got_document(struct crl_mgr *crl, struct svrcert_fetch_result *res)
{
	struct crl_conductor *c = &crl->cond;
	struct svrcert_validate_params vp;
	struct svrcert_gen_update u;
	X509_STORE *store = NULL;
	uint64_t gen = c->held.gen;
	bool had = c->held.have;
	uint8_t epoch[SVRCERT_GEN_EPOCH_LEN];
	char err[600];
	int rc;

	memcpy(epoch, c->held.epoch, sizeof(epoch));
	memset(&u, 0, sizeof(u));
	rc = params(crl, &vp, &store, err, sizeof(err)) ?:
	     svrcert_conductor_verify(res->body, res->body_len, &vp, &u, err,
				      sizeof(err)) ?:
	     svrcert_gen_held_apply(&c->held, &u, err, sizeof(err));
	X509_STORE_free(store);
	if (rc == -EXDEV) {
		/* Not an error of the conductor's: we disagree; only the
		 * full set repairs that, and it is asked for at once. */
		syslog(LOG_NOTICE, "conductor %s: %s", c->url, err);
		snprintf(c->result, sizeof(c->result), "resync: %.500s", err);
		c->resync = true;
		c->resyncs++;
		c->etag[0] = '\0';
		c->due_ms = mono_ms();
	} else if (rc) {
		rejected(crl, res->body_len, err);
	} else {
		taken(crl, &u, res, !had || c->held.gen != gen ||
		      memcmp(epoch, c->held.epoch, sizeof(epoch)));
	}
	svrcert_gen_update_release(&u);
}

static void failed(struct crl_mgr *crl, struct svrcert_fetch_result *res)
{
	struct crl_conductor *c = &crl->cond;

	crl_count(crl, CNT_CRL_FETCH_FAILURE);
	c->refused = res->http_code == 403;
	c->unreachable = !c->refused;
	if (c->refused)
		snprintf(c->result, sizeof(c->result), "refused: %.550s",
			 res->msg);
	else
		snprintf(c->result, sizeof(c->result), "failed: %.300s%s%.250s",
			 res->msg, c->tls_why[0] ? ": " : "", c->tls_why);
	c->last_failure = time(NULL);
	snprintf(c->failure, sizeof(c->failure), "%s", c->result);
	backoff(crl);
	syslog(LOG_WARNING, "conductor %s (attempt %u, next in %lld ms): %s",
	       c->url, c->failures, (long long)(c->due_ms - mono_ms()),
	       c->result);
}

bool crl_cond_done(struct crl_mgr *crl, struct svrcert_fetch_result *res)
{
	struct crl_conductor *c = &crl->cond;

	if (res->user != &c->tag)
		return false;
	c->in_flight = false;
	c->attempts++;
	c->last_fetch = time(NULL);
	crl->alarms_dirty = true;
	if (res->status == SVRCERT_FETCH_FAILED) {
		failed(crl, res);
		return true;
	}
	crl_count(crl, CNT_CRL_FETCH_SUCCESS);
	c->unreachable = c->refused = false;
	if (res->status == SVRCERT_FETCH_NOT_MODIFIED) {
		c->invalid = false;
		c->not_modified++;
		c->last_ok = time(NULL);
		/* names the generation held (also after a restart, which
		 * keeps no ETag) */
		if (res->etag[0] && c->held.have && !c->resync)
			snprintf(c->etag, sizeof(c->etag), "%s", res->etag);
		snprintf(c->result, sizeof(c->result), "not modified");
		next_poll(crl, false);
	} else {
		c->bytes += res->body_len;
		got_document(crl, res);
	}
	return true;
}
