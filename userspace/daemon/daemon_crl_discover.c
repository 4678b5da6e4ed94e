// SPDX-License-Identifier: GPL-2.0
/*
 * CRL discovery (issue 15 item 5; Documentation/crl.md, "Discovered
 * sources"): the cRLDistributionPoints of this router's certificate, of the
 * trusted CAs and of the peers' certificates become CRL sources, fetched
 * like a configured [crl] url. The set is kept in crl->disc with who refers
 * to each URL, and saved to STATE_DIR/crl-discovered.json so that a restart
 * follows the same URLs before the peers have authenticated again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/pem.h>

#include "lib/store.h"
#include "pki/pki.h"
#include "daemon.h"
#include "daemon_crl.h"
#include "daemon_crl_int.h"
#include "daemon_peers.h"

#define DISCOVER_FILE	"crl-discovered.json"

static const struct svrcert_config *cfg(const struct crl_mgr *crl)
{
	return crl->d->env.have_cfg ? &crl->d->env.cfg : NULL;
}

/* Configured sources win: discovered ones fill what they leave. */
static size_t bound(const struct svrcert_config *cf)
{
	size_t ncfg = cf ? cf->n_crl_urls : 0, room;

	room = ncfg < DAEMON_CRL_SOURCES_MAX ? DAEMON_CRL_SOURCES_MAX - ncfg : 0;
	return room < DAEMON_CRL_DISCOVER_MAX ? room : DAEMON_CRL_DISCOVER_MAX;
}

/* X's CRL distribution point URIs, referred to by REF. */
static void add_cert(struct svrcert_discover *nw, X509 *x, const char *ref)
{
	char **urls;
	size_t n, i;

	if (svrcert_cert_crl_urls(x, &urls, &n))
		return;
	for (i = 0; i < n; i++)
		svrcert_discover_add(nw, urls[i], ref);
	svrcert_strv_free(urls, n);
}

static void add_own(struct crl_mgr *crl, struct svrcert_discover *nw)
{
	char *pem = NULL;
	size_t len;
	BIO *b;
	X509 *x;

	if (store_read(&crl->d->env.st, STORE_CERT, &pem, &len))
		return;
	b = BIO_new_mem_buf(pem, (int)len);
	x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	if (x)
		add_cert(nw, x, "own");
	X509_free(x);
	BIO_free(b);
	free(pem);
}

static void add_cas(struct crl_mgr *crl, struct svrcert_discover *nw)
{
	STACK_OF(X509) *cas = crl_trusted_certs(crl);
	char ref[SVRCERT_DISCOVER_REF_LEN], subj[256];

	for (int i = 0; i < sk_X509_num(cas); i++) {
		X509 *x = sk_X509_value(cas, i);

		X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
		snprintf(ref, sizeof(ref), "ca %.80s", subj);
		add_cert(nw, x, ref);
	}
	sk_X509_pop_free(cas, X509_free);
}

struct peer_walk {
	const struct svrcert_config *cf;
	struct svrcert_discover *nw;
	const char **seen;	/* peers with a certificate */
	size_t nseen;
};

static void add_peer(const char *name, X509 *cert,
		     enum svrcert_cert_state state, void *ctx)
{
	struct peer_walk *w = ctx;
	char ref[SVRCERT_DISCOVER_REF_LEN];
	size_t i;

	/* peer authentication may not have taken a reload in yet */
	for (i = 0; i < w->cf->n_peers && strcmp(w->cf->peers[i].name, name); i++)
		;
	/* Only a certificate judged good says where to look: anyone can
	 * present one naming any URL, and a peer judged revoked must keep
	 * following the CRL that revoked it (add_peers carries it over). */
	if (i == w->cf->n_peers || state != SVRCERT_STATE_VALID)
		return;
	snprintf(ref, sizeof(ref), "peer %s", name);
	add_cert(w->nw, cert, ref);
	w->seen[w->nseen++] = name;
}

/* Peers of the configuration: the URLs of the certificate each was last
 * judged valid with; one not so judged (since a restart, or its
 * certificate now bad) keeps the URLs it had. */
static void add_peers(struct crl_mgr *crl, struct svrcert_discover *nw)
{
	const struct svrcert_config *cf = cfg(crl);
	struct peerauth *pa = crl->d->peers.pa;
	struct peer_walk w = { .cf = cf, .nw = nw };
	char ref[SVRCERT_DISCOVER_REF_LEN];
	size_t i, j, k;

	if (!cf || !cf->n_peers)
		return;
	w.seen = calloc(cf->n_peers, sizeof(*w.seen));
	if (!w.seen)
		return;
	if (pa)
		peerauth_peer_certs(pa, add_peer, &w);
	for (i = 0; i < cf->n_peers; i++) {
		for (j = 0; j < w.nseen && strcmp(w.seen[j], cf->peers[i].name); j++)
			;
		if (j < w.nseen || !crl->disc)
			continue;
		snprintf(ref, sizeof(ref), "peer %s", cf->peers[i].name);
		for (k = 0; k < crl->disc->n; k++)
			if (svrcert_discover_refers(&crl->disc->u[k], ref))
				svrcert_discover_add(nw, crl->disc->u[k].url, ref);
	}
	free(w.seen);
}

static bool same_urls(const struct svrcert_discover *a,
		      const struct svrcert_discover *b)
{
	if (!a || !b)
		return !a == !b;
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->u[i].url, b->u[i].url))
			return false;
	return true;
}

static void save(struct crl_mgr *crl)
{
	json_t *o = json_pack("{s:i, s:[]}", "version", 1, "sources");
	char path[4200], *text;

	for (size_t i = 0; crl->disc && i < crl->disc->n; i++) {
		const struct svrcert_discover_url *e = &crl->disc->u[i];
		json_t *refs = json_array();

		for (size_t r = 0; r < e->nrefs && r < SVRCERT_DISCOVER_REFS; r++)
			json_array_append_new(refs, json_string(e->refs[r]));
		json_array_append_new(json_object_get(o, "sources"),
				      json_pack("{s:s, s:o}", "url", e->url,
						"refs", refs));
	}
	text = json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(1));
	json_decref(o);
	snprintf(path, sizeof(path), "%s/" DISCOVER_FILE, crl->d->env.st.dir);
	if (!text || atomic_write_file(path, text, strlen(text), 0644))
		syslog(LOG_ERR, "CRL discovery: cannot save %s", path);
	free(text);
}

/* Say once what is not followed (other schemes; past the bound). */
static void log_unfollowed(struct crl_mgr *crl, const struct svrcert_discover *nw)
{
	if (nw->nignored && strcmp(nw->ignored, crl->disc_ignored_logged))
		syslog(LOG_NOTICE, "CRL discovery: not http or https, ignored: "
		       "%s", nw->ignored);
	snprintf(crl->disc_ignored_logged, sizeof(crl->disc_ignored_logged),
		 "%s", nw->ignored);
	if (nw->over && strcmp(nw->over_list, crl->disc_over_logged))
		syslog(LOG_WARNING, "CRL discovery: %zu URL(s) past the bound "
		       "of %zu discovered sources, not fetched: %s", nw->over,
		       nw->max, nw->over_list);
	snprintf(crl->disc_over_logged, sizeof(crl->disc_over_logged), "%s",
		 nw->over_list);
}

bool crl_discover_update(struct crl_mgr *crl)
{
	const struct svrcert_config *cf = cfg(crl);
	struct svrcert_discover *nw;
	bool changed;
	size_t i;

	nw = svrcert_discover_new(bound(cf), cf ? (const char *const *)
				  cf->crl_urls : NULL, cf ? cf->n_crl_urls : 0);
	if (!nw)
		return false;
	if (cf && cf->crl_discover) {
		add_own(crl, nw);
		add_cas(crl, nw);
		add_peers(crl, nw);
	}
	log_unfollowed(crl, nw);
	changed = !same_urls(crl->disc, nw);
	for (i = 0; i < nw->n && changed; i++)
		if (!crl->disc || !svrcert_discover_find(crl->disc, nw->u[i].url))
			syslog(LOG_INFO, "CRL discovery: following %s (%s)",
			       nw->u[i].url, nw->u[i].refs[0]);
	for (i = 0; crl->disc && i < crl->disc->n && changed; i++)
		if (!svrcert_discover_find(nw, crl->disc->u[i].url))
			syslog(LOG_INFO, "CRL discovery: %s no longer referred "
			       "to; dropped with its CRL", crl->disc->u[i].url);
	svrcert_discover_free(crl->disc);
	crl->disc = nw;
	crl->disc_over = nw->over;
	if (changed)
		save(crl);
	return changed;
}

/* What the last run followed, and who referred to it. */
void crl_discover_start(struct crl_mgr *crl)
{
	char path[4200];
	json_t *o, *it, *r;
	size_t i, j;

	snprintf(path, sizeof(path), "%s/" DISCOVER_FILE, crl->d->env.st.dir);
	o = json_load_file(path, 0, NULL);
	crl->disc = svrcert_discover_new(DAEMON_CRL_DISCOVER_MAX, NULL, 0);
	json_array_foreach(json_object_get(o, "sources"), i, it)
		json_array_foreach(json_object_get(it, "refs"), j, r)
			if (crl->disc && json_is_string(r) &&
			    json_is_string(json_object_get(it, "url")))
				svrcert_discover_add(crl->disc, json_string_value(
					json_object_get(it, "url")),
					json_string_value(r));
	json_decref(o);
	crl_discover_update(crl);
}

void crl_discover_stop(struct crl_mgr *crl)
{
	svrcert_discover_free(crl->disc);
	crl->disc = NULL;
}

/* Every loop turn: a new judgement of a peer may have brought another
 * certificate; the own certificate and the CAs are looked at every
 * DAEMON_CRL_DISCOVER_CHECK_S. True when the sources must be set again. */
bool crl_discover_process(struct crl_mgr *crl)
{
	struct peerauth *pa = crl->d->peers.pa;
	uint64_t judged = 0;

	for (int c = PA_CNT_OK; pa && c <= PA_CNT_REVOKED; c++)
		judged += peerauth_counter(pa, (enum peerauth_counter)c);
	if (judged == crl->disc_judged && crl->disc_next > crl_mono())
		return false;
	crl->disc_judged = judged;
	crl->disc_next = crl_mono() + DAEMON_CRL_DISCOVER_CHECK_S;
	return crl_discover_update(crl);
}

/* The refs of URL, or NULL when not discovered. */
json_t *crl_discover_refs_json(const struct crl_mgr *crl, const char *url)
{
	const struct svrcert_discover_url *e;
	json_t *a;

	e = crl->disc ? svrcert_discover_find(crl->disc, url) : NULL;
	if (!e)
		return NULL;
	a = json_array();
	for (size_t r = 0; r < e->nrefs && r < SVRCERT_DISCOVER_REFS; r++)
		json_array_append_new(a, json_string(e->refs[r]));
	return a;
}

json_t *crl_discover_json(const struct crl_mgr *crl)
{
	const struct svrcert_config *cf = cfg(crl);
	const struct svrcert_discover *d = crl->disc;

	return json_pack("{s:b, s:I, s:I, s:I, s:s, s:s}",
			 "enabled", cf && cf->crl_discover,
			 "max", (json_int_t)bound(cf),
			 "sources", (json_int_t)(d ? d->n : 0),
			 "not_followed", (json_int_t)(d ? d->over : 0),
			 "not_followed_urls", d ? d->over_list : "",
			 "ignored", d ? d->ignored : "");
}
