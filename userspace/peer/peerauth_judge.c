// SPDX-License-Identifier: GPL-2.0
/*
 * Judging a peer's certificate and acting on the result: cache, kernel
 * binding, counters, alarm, audit event.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

#include "lib/counters.h"
#include "crl/crl_master.h"
#include "pki/import.h"
#include "pki/held_revs.h"
#include "pki/import_trust.h"
#include "peerauth_int.h"
#include "lib/util.h"

void pa_trust_invalidate(struct peerauth *pa)
{
	X509_STORE_free(pa->trust);
	pa->trust = NULL;
}

/* What the held trust was read from: the CRL and trusted-CA directories
 * (files are replaced by rename, which changes the directory) and the
 * master list (master.bin, master.delta). A stat() per judgement, not a
 * read. */
static void trust_stamp(const struct peerauth *pa, uint64_t out[PA_STAMP_N])
{
	static const char *const names[PA_STAMP_N] = {
		TRUST_DIR_CRL, STORE_TRUSTED_CA_DIR, SVRCERT_MASTER_FILE,
		SVRCERT_MASTER_DELTA,
	};
	char path[4200];
	struct stat sb;

	for (size_t i = 0; i < PA_STAMP_N; i++) {
		out[i] = 0;
		if (!store_path(pa->p.st, names[i], path, sizeof(path)) &&
		    !stat(path, &sb))
			out[i] = (uint64_t)sb.st_mtim.tv_sec * 1000000000u +
				 (uint64_t)sb.st_mtim.tv_nsec + sb.st_ino +
				 (uint64_t)sb.st_size;
	}
}

/* Trusted CAs, read once and kept until they change on disk or something
 * says they may have (CRL update, own-certificate check, reload,
 * periodic). The revocations: the held set's refresh (held_revs.h) parses
 * no file the CRL manager vouched for, nor one read before unchanged. */
static int trust_get(struct peerauth *pa, char *err, size_t errlen)
{
	uint64_t stamp[PA_STAMP_N];
	int ret;

	trust_stamp(pa, stamp);
	if (!pa->trust || memcmp(stamp, pa->trust_stamp, sizeof(stamp))) {
		pa_trust_invalidate(pa);
		memcpy(pa->trust_stamp, stamp, sizeof(stamp));
		ret = trust_store_build(pa->p.st, pa->cfg, &pa->trust, err,
					errlen);
		if (ret)
			return ret;
	}
	/* Never judge without the revocation list we hold. */
	return svrcert_held_refresh(pa->held, pa->p.st, err, errlen);
}

/* The runtime rules, always strict. Returns 0 when judged (state, problem
 * and reason set), -errno when no judgement could be made (reason says
 * why; the previous result stays). */
static int judge(struct peerauth *pa, X509 *leaf, STACK_OF(X509) *chain,
		 const char *name, enum svrcert_cert_state *state,
		 enum svrcert_problem *problem, char *reason, size_t len)
{
	struct svrcert_validate_params vp = { .now = pa_wall(pa),
					      .expected_name = name };
	struct svrcert_problems p;
	struct svrcert_validated v = { 0 };
	char err[300];
	int ret;

	ret = trust_get(pa, err, sizeof(err));
	if (ret) {
		snprintf(reason, len, "cannot judge: %s", err);
		return ret;
	}
	vp.store = pa->trust;
	vp.revoked = svrcert_held_revoked;
	vp.revoked_ctx = pa->held;
	vp.sigcache = pa->sigcache;
	svrcert_problems_init(&p);
	svrcert_validate_cert(leaf, chain, &vp, &v, &p);
	*problem = svrcert_problems_first(&p);
	*state = svrcert_problem_state(*problem);
	reason[0] = '\0';
	for (size_t i = 0; i < p.n; i++) {
		if (p.v[i].warning)
			continue;
		snprintf(reason + strlen(reason), len - strlen(reason), "%s%s",
			 reason[0] ? "; " : "", p.v[i].msg);
	}
	svrcert_problems_free(&p);
	svrcert_validated_free(&v);
	return 0;
}

/* The persistent counters (counters.h, "show stats security peer
 * certificate ...") need the state lock, which svrcertctl may hold across a
 * TPM operation: never wait for it in the loop; what could not be written
 * is written with the next count. */
void pa_persist_counts(struct peerauth *pa)
{
	static const enum svrcert_counter cnt[PA_PERSIST_N] = {
		CNT_PEER_CERT_EXPIRED, CNT_PEER_CERT_INVALID,
		CNT_PEER_CERT_REVOKED, CNT_PEER_REKEY_SUCCESS,
		CNT_PEER_REKEY_FAILURE, CNT_PEER_SA_DELETED,
	};
	size_t any = 0;

	for (size_t i = 0; i < PA_PERSIST_N; i++)
		any += pa->pending[i].n;
	if (!any || store_trylock(pa->p.st))
		return;
	for (size_t i = 0; i < PA_PERSIST_N; i++)
		while (pa->pending[i].n &&
		       !counters_inc(pa->p.st, cnt[i], pa->pending[i].reason[0] ?
				     pa->pending[i].reason : NULL)) {
			pa->pending[i].n--;
			pa->pending[i].reason[0] = '\0';
		}
	store_unlock(pa->p.st);
}

static void count(struct peerauth *pa, enum svrcert_cert_state state,
		  enum svrcert_problem problem)
{
	size_t slot;

	switch (state) {
	case SVRCERT_STATE_VALID:
		pa->counters[PA_CNT_OK]++;
		return;
	case SVRCERT_STATE_EXPIRED:
		pa->counters[PA_CNT_EXPIRED]++;
		slot = 0;
		break;
	case SVRCERT_STATE_REVOKED:
		pa->counters[PA_CNT_REVOKED]++;
		slot = 2;
		break;
	default:
		pa->counters[PA_CNT_INVALID]++;
		slot = 1;
	}
	/* The breakdown by problem goes with the first pending count only. */
	if (!pa->pending[slot].n++)
		snprintf(pa->pending[slot].reason,
			 sizeof(pa->pending[slot].reason), "%s",
			 svrcert_problem_name(problem));
	pa_persist_counts(pa);
}

static void audit(struct peerauth *pa, const char *name, X509 *leaf,
		  enum svrcert_cert_state state, enum svrcert_problem problem,
		  const char *reason, const char *via, const char *remote)
{
	char fp[SVRCERT_SHA256_COLON_LEN] = "", subject[256] = "", desc[160];
	json_t *detail;

	if (leaf) {
		svrcert_fingerprint_sha256_colon(leaf, fp);
		svrcert_name_text(X509_get_subject_name(leaf), subject,
				  sizeof(subject));
	}
	snprintf(desc, sizeof(desc), "Peer authentication of %s: %s",
		 name ? name : "(unknown peer)", cert_state_name(state));
	detail = json_pack("{s:s?, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			   "peer", name, "state", cert_state_name(state),
			   "problem", problem ? svrcert_problem_name(problem) : "",
			   "reason", reason, "subject", subject,
			   "fingerprint", fp, "role", via, "remote", remote);
	audit_event(pa->p.audit, PEERAUTH_AUDIT_TYPE, desc, detail,
		    state == SVRCERT_STATE_VALID);
}

/* The certificate as the kernel takes it: DER and revocation key. */
static int bind_cert(struct peerauth_binding *b, X509 *cert, unsigned char **der,
		     uint8_t revkey[SVRCERT_KEY_LEN], char *msg, size_t msglen)
{
	int len = i2d_X509(cert, der);

	if (len <= 0 || svrcert_revkey_from_cert(cert, revkey)) {
		snprintf(msg, msglen, "cannot encode the certificate or compute its revocation key");
		return -EINVAL;
	}
	b->cert_der = *der;
	b->cert_der_len = (size_t)len;
	b->revkey = revkey;
	return 0;
}

void pa_bind_peer(struct peerauth *pa, struct pa_peer *peer)
{
	const struct pa_keys *ks = &peer->keys;
	struct peerauth_binding b = { .name = peer->name, .state = peer->state,
				      .addrs = peer->addrs,
				      .n_addrs = peer->n_addrs,
				      .esp_required = ks->established };
	uint8_t digest[SVRCERT_DIGEST_LEN], revkey[SVRCERT_KEY_LEN];
	unsigned char *der = NULL;
	char msg[160] = "";
	int ret = 0;

	if (peer->cert)
		b.cert_fp = peer->fingerprint;	/* cache_cert() */
	if (ks->established) {
		b.esp_proto = ks->path.proto;
		b.auth_port = ks->path.local_auth_port;
		b.peer_auth_port = ks->path.remote_auth_port;
		/* Same layout by design (netlink/nl.h). */
		memcpy(&b.esp_addr, &ks->path.remote, sizeof(b.esp_addr));
	}
	/* A rekey keeps path and certificate (the SPIs are not the kernel's
	 * business): the kernel holds this binding already. */
	peerauth_binding_digest(&b, digest);
	if (!strncmp(peer->kernel, "bound", 5) &&
	    !memcmp(digest, peer->bound_digest, sizeof(digest)))
		return;
	if (peer->cert)
		ret = bind_cert(&b, peer->cert, &der, revkey, msg, sizeof(msg));
	if (!ret)
		ret = pa->p.bind(&b, pa->p.bind_ctx, msg, sizeof(msg));
	if (!ret) {
		snprintf(peer->kernel, sizeof(peer->kernel), "bound: %s",
			 cert_state_name(peer->state));
		memcpy(peer->bound_digest, digest, sizeof(digest));
	} else {
		snprintf(peer->kernel, sizeof(peer->kernel), "not bound: %s",
			 msg[0] ? msg : strerror(-ret));
		memset(peer->bound_digest, 0, sizeof(peer->bound_digest));
		syslog(LOG_WARNING, "peer %s: %s", peer->name, peer->kernel);
	}
	OPENSSL_free(der);
}

static void cache_cert(struct pa_peer *peer, X509 *leaf, STACK_OF(X509) *chain)
{
	if (peer->cert != leaf) {
		X509_free(peer->cert);
		X509_up_ref(leaf);
		peer->cert = leaf;
	}
	if (chain != peer->chain) {
		sk_X509_pop_free(peer->chain, X509_free);
		peer->chain = chain ? X509_chain_up_ref(chain) : NULL;
	}
	svrcert_fingerprint_sha256(leaf, peer->fingerprint);
	svrcert_name_text(X509_get_subject_name(leaf), peer->identity,
			  sizeof(peer->identity));
}

/* Record one judgement of LEAF for PEER (made on connection C, NULL: the
 * cached certificate) and act on it. */
static void record(struct peerauth *pa, struct pa_peer *peer, X509 *leaf,
		   STACK_OF(X509) *chain, enum svrcert_cert_state state,
		   enum svrcert_problem problem, const char *reason,
		   const char *via, const struct pa_conn *c)
{
	const char *remote = c ? c->remote : "cached";
	bool changed = state != peer->state || !peer->cert ||
		       X509_cmp(leaf, peer->cert);

	cache_cert(peer, leaf, chain);
	peer->state = state;
	peer->problem = problem;
	snprintf(peer->reason, sizeof(peer->reason), "%s", reason);
	peer->last_auth = pa_wall(pa);
	peer->via = via;
	peer->results++;
	peer->transport[0] = '\0';
	count(pa, state, problem);
	pa_alarm_update(pa, peer);
	audit(pa, peer->name, leaf, state, problem, reason, via, remote);
	syslog(state == SVRCERT_STATE_VALID ? LOG_INFO : LOG_WARNING,
	       "peer %s (%s, %s): certificate %s%s%s", peer->name, remote, via,
	       cert_state_name(state), reason[0] ? ": " : "", reason);
	/* Periodic results that change nothing are not re-sent. */
	if (changed || strncmp(peer->kernel, "bound", 5))
		pa_bind_peer(pa, peer);
	/* fail-hard with peer-validation: severed (peerauth_sever.c) */
	pa_sever_judged(pa, peer, c, via);
	/* fail-hard (svrcertctl set's override included, as for severing):
	 * a bad certificate loses its keys at once (peerauth_keys.c) */
	if (state != SVRCERT_STATE_VALID && peerauth_fail_hard(pa)) {
		pa->pending[PA_P_SA_CUT].n += peer->keys.established && pa->xfrm;
		pa_keys_cut(pa, peer, cert_state_name(state));
	}
}

/* Server side: the configured peer the certificate names, or NULL. */
static struct pa_peer *identify(struct peerauth *pa, X509 *leaf)
{
	struct svrcert_problems scratch;
	struct pa_peer *found = NULL;

	for (size_t i = 0; i < pa->n_peers && !found; i++) {
		svrcert_problems_init(&scratch);
		if (svrcert_check_identity(leaf, pa->peers[i].name, &scratch))
			found = &pa->peers[i];
		svrcert_problems_free(&scratch);
	}
	return found;
}

static void unknown_caller(struct peerauth *pa, struct pa_conn *c, X509 *leaf)
{
	char subject[256], reason[400];

	svrcert_name_text(X509_get_subject_name(leaf), subject, sizeof(subject));
	snprintf(reason, sizeof(reason), "certificate \"%s\" names no "
		 "configured peer (neither CN nor SAN URI urn:ssr:peering:"
		 "<name> matches)", subject);
	count(pa, SVRCERT_STATE_INVALID, SVRCERT_P_IDENTITY);
	audit(pa, NULL, leaf, SVRCERT_STATE_INVALID, SVRCERT_P_IDENTITY,
	      reason, "server", c->remote);
	syslog(LOG_WARNING, "peer auth from %s refused: %s", c->remote, reason);
}

void pa_judge_received(struct peerauth *pa, struct pa_conn *c)
{
	X509 *leaf = SSL_get0_peer_certificate(c->ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(c->ssl);
	struct pa_peer *peer = c->server ? identify(pa, leaf) : c->peer;
	enum svrcert_cert_state state = SVRCERT_STATE_UNKNOWN;
	enum svrcert_problem problem = SVRCERT_P_NONE;
	char reason[400];

	if (!leaf) {	/* cannot happen with FAIL_IF_NO_PEER_CERT */
		if (peer)
			pa_transport_failed(pa, peer, "no certificate sent");
		return;
	}
	if (!peer) {
		unknown_caller(pa, c, leaf);
		return;
	}
	if (c->server && !pa_source_allowed(peer, &c->remote_addr)) {
		char subject[256];

		svrcert_name_text(X509_get_subject_name(leaf), subject,
				  sizeof(subject));
		pa_source_refused(pa, peer, c, subject);
		return;
	}
	if (judge(pa, leaf, chain, peer->name, &state, &problem, reason,
		  sizeof(reason))) {
		syslog(LOG_ERR, "peer %s: %s", peer->name, reason);
		snprintf(peer->transport, sizeof(peer->transport), "%s", reason);
		return;
	}
	peer->failures = 0;
	record(pa, peer, leaf, chain, state, problem, reason,
	       c->server ? "server" : "client", c);
	c->peer = peer;		/* judged: keys may follow (peerauth_keys.c) */
}

bool pa_rejudge(struct peerauth *pa, struct pa_peer *peer, const char *via)
{
	enum svrcert_cert_state state = SVRCERT_STATE_UNKNOWN, before;
	enum svrcert_problem problem = SVRCERT_P_NONE;
	char reason[400];

	if (!peer->cert)
		return false;
	before = peer->state;
	if (judge(pa, peer->cert, peer->chain, peer->name, &state, &problem,
		  reason, sizeof(reason)))
		return false;
	if (state == before && problem == peer->problem)
		return false;
	record(pa, peer, peer->cert, peer->chain, state, problem, reason, via,
	       NULL);
	return true;
}

void pa_transport_failed(struct peerauth *pa, struct pa_peer *peer,
			 const char *why)
{
	pa->counters[PA_CNT_HANDSHAKE_FAILED]++;
	peer->failures++;
	snprintf(peer->transport, sizeof(peer->transport), "%s", why);
	syslog(LOG_NOTICE, "peer %s: %s (attempt %u)", peer->name, why,
	       peer->failures);
}

void pa_peer_clear(struct pa_peer *peer)
{
	pa_resolve_abandon(peer->resolving);
	peer->resolving = NULL;
	pa_conn_free(peer->conn);
	peer->conn = NULL;
	X509_free(peer->cert);
	sk_X509_pop_free(peer->chain, X509_free);
	peer->cert = NULL;
	peer->chain = NULL;
	free(peer->host);
	peer->host = NULL;
}

int peerauth_rebind_all(struct peerauth *pa)
{
	size_t i;
	int n = 0;

	/* A reloaded module has a new family id and an empty peer table:
	 * reconnect, then bind every peer judged so far again, as it was. */
	pa_nl_close(pa);
	for (i = 0; i < pa->n_peers; i++) {
		if (!pa->peers[i].results)
			continue;
		pa->peers[i].kernel[0] = '\0';	/* whatever it said, gone */
		pa_bind_peer(pa, &pa->peers[i]);
		n++;
	}
	return n;
}
