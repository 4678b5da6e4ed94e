// SPDX-License-Identifier: GPL-2.0
/*
 * fail-hard severs a peering. The seed: fail-hard "removes all peering
 * relationships. The peer connection is severed". svrcert.ko drops the
 * peer's packets; here, with failure-mode = fail-hard and peer-validation
 * on (svrcert.conf, with svrcertctl set's runtime override on top), a peer
 * whose certificate is judged anything but valid -- by whatever path:
 * a handshake, a CRL update, a learned revocation key, the periodic
 * re-judgement (dates) -- is severed at once:
 *
 *  - its authentication connections are closed: this router's call to it
 *    and every connection it made that was judged (a key agreement or the
 *    wait for one); an agreement cut short leaves no inbound SA behind;
 *  - its ESP keys are deleted (pa_keys_cut);
 *  - it is marked severed (reason, since) in the "peers" reply, audited and
 *    logged; the per-peer certificate alarm is raised as for any bad
 *    certificate.
 *
 * The peering comes back only when a judgement finds the certificate good
 * again. What tells a still-bad peer from one that has a good certificate
 * is that judgement, nothing else; so a severed peer stays judgeable:
 *
 *  - its calls are still accepted (TLS handshake, judgement, counted and
 *    audited as always); still bad, the connection is closed right after
 *    the judgement and nothing follows (no keys); good, the peering resumes;
 *  - this router calls it only to see a new certificate of a peer that
 *    does not call: after backoff-interval ([crl], default 60 s), doubled
 *    after each call that found it still bad, up to the revalidate period;
 *    not at the periodic re-authentication, a reload or an own-certificate
 *    change, and never for keys (the key timers want a valid peer);
 *  - its cached certificate is judged again whenever the held CRLs or
 *    learned keys change (a CRL without its serial, the key removed) and
 *    every revalidate period (dates).
 *
 * On resume the peer is called at once (keys are agreed again). Under
 * fail-soft, or with peer-validation off, nothing is severed (alarm and
 * counters only), and a severed peer resumes when the policy changes.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "lib/policy_override.h"
#include "lib/util.h"
#include "pki/import.h"
#include "peerauth_int.h"

/* svrcert.conf's policy with svrcertctl set's override on top: what the
 * kernel enforces. */
static void policy(const struct peerauth *pa, bool *pv,
		   enum svrcert_failure_mode *fm)
{
	struct policy_override o;
	int pmin, pmax;

	/* A damaged record is ignored (o is then empty), as the daemon's
	 * policy push does: svrcert.conf's policy applies. */
	policy_override_load(pa->p.st, &o);
	policy_override_apply(&o, pa->cfg, pv, fm, &pmin, &pmax);
}

bool pa_sever_policy(const struct peerauth *pa)
{
	enum svrcert_failure_mode fm;
	bool pv;

	policy(pa, &pv, &fm);
	return pv && fm == SVRCERT_FAIL_HARD;
}

bool peerauth_fail_hard(const struct peerauth *pa)
{
	enum svrcert_failure_mode fm;
	bool pv;

	policy(pa, &pv, &fm);
	return fm == SVRCERT_FAIL_HARD;
}

/* backoff-interval, doubled after each of our calls that found the peer
 * still bad, up to the revalidate period: a peer that keeps its bad
 * certificate costs less and less (and one that gets a new one calls us). */
int64_t pa_sever_retry_ms(const struct peerauth *pa, const struct pa_peer *peer)
{
	int64_t base = (int64_t)pa->p.backoff_max_s * 1000, ms = base;
	int64_t max = (int64_t)pa->p.revalidate_s * 1000;

	for (unsigned int i = 0; i < peer->severed_calls && ms < max; i++)
		ms *= 2;
	if (ms <= max)
		return ms;
	return base > max ? base : max;
}

static void audit_peering(struct peerauth *pa, const struct pa_peer *peer,
			  const char *what, const char *why, const char *via)
{
	char desc[200];
	json_t *detail;

	snprintf(desc, sizeof(desc), "Peering with %s %s", peer->name, what);
	detail = json_pack("{s:s, s:s, s:s, s:s, s:s}", "peer", peer->name,
			   "peering", what, "state", cert_state_name(peer->state),
			   "reason", why, "role", via);
	audit_event(pa->p.audit, PEERAUTH_AUDIT_TYPE, desc, detail,
		    !peer->severed);
}

/* A key agreement in progress on C ends as a failed one, so that an
 * inbound SA it installed goes too (one still waiting has none). */
static void cut_short(struct peerauth *pa, struct pa_conn *c)
{
	unsigned int before;

	if (!c->agree)
		return;
	before = c->peer->keys.failures;
	pa_keys_timeout(pa, c);
	if (c->peer->keys.failures != before)
		snprintf(c->peer->keys.failure, sizeof(c->peer->keys.failure),
			 "key agreement cut short: peering severed");
}

/* Close PEER's connections but KEEP (the one being judged: its caller
 * closes it right after, as for any bad judgement). */
static void close_conns(struct peerauth *pa, struct pa_peer *peer,
			const struct pa_conn *keep)
{
	for (size_t i = 0; i < PEERAUTH_MAX_INCOMING; i++) {
		struct pa_conn *c = pa->incoming[i];

		if (!c || c == keep || c->peer != peer)
			continue;
		cut_short(pa, c);
		pa_conn_free(c);
		pa->incoming[i] = NULL;
	}
	if (peer->conn && peer->conn != keep) {
		cut_short(pa, peer->conn);
		pa_conn_free(peer->conn);
		peer->conn = NULL;
	}
	if (!peer->conn) {
		pa_resolve_abandon(peer->resolving);
		peer->resolving = NULL;
		if (peer->host)
			peer->next_attempt_ms = pa_now_ms() +
						pa_sever_retry_ms(pa, peer);
	}
}

static void sever(struct peerauth *pa, struct pa_peer *peer,
		  const struct pa_conn *keep, const char *via)
{
	char why[sizeof(peer->severed_why)];

	snprintf(why, sizeof(why), "certificate %s%s%s (fail-hard)",
		 cert_state_name(peer->state), peer->reason[0] ? ": " : "",
		 peer->reason);
	if (peer->severed) {
		/* Still bad, maybe otherwise (revoked, then expired too). */
		memcpy(peer->severed_why, why, sizeof(why));
		close_conns(pa, peer, keep);
		return;
	}
	peer->severed = true;
	peer->severed_since = pa_wall(pa);
	peer->severed_calls = 0;
	memcpy(peer->severed_why, why, sizeof(why));
	close_conns(pa, peer, keep);
	pa->pending[PA_P_SA_CUT].n += peer->keys.established && pa->xfrm;
	/* the log names the state, as peerauth_judge.c's fail-hard cut does */
	pa_keys_cut(pa, peer, cert_state_name(peer->state));
	syslog(LOG_CRIT, "peer %s: peering severed: %s; called again in %u s "
	       "(then less and less often) to look for a new certificate",
	       peer->name, why, pa->p.backoff_max_s);
	audit_peering(pa, peer, "severed", why, via);
}

static void resume(struct peerauth *pa, struct pa_peer *peer,
		   const char *why, const char *via)
{
	peer->severed = false;
	peer->severed_since = 0;
	peer->severed_why[0] = '\0';
	peer->failures = 0;
	syslog(LOG_NOTICE, "peer %s: peering resumed: %s", peer->name, why);
	audit_peering(pa, peer, "resumed", why, via);
	/* Call it now: keys, and its view of us, without waiting. */
	if (peer->host && !peer->conn && !peer->resolving)
		peer->next_attempt_ms = pa_now_ms();
}

void pa_sever_judged(struct peerauth *pa, struct pa_peer *peer,
		     const struct pa_conn *keep, const char *via)
{
	bool bad = peer->state != SVRCERT_STATE_VALID;

	if (bad && pa_sever_policy(pa))
		sever(pa, peer, keep, via);
	else if (peer->severed && !bad)
		resume(pa, peer, "certificate valid", via);
	else if (peer->severed)
		resume(pa, peer, "the policy is no longer fail-hard with "
		       "peer-validation", via);
}

void pa_sever_recheck(struct peerauth *pa)
{
	bool hard = pa_sever_policy(pa);

	for (size_t i = 0; i < pa->n_peers; i++) {
		struct pa_peer *peer = &pa->peers[i];

		if (peer->severed && !hard)
			resume(pa, peer, "the policy is no longer fail-hard "
			       "with peer-validation", "policy");
		else if (!peer->severed && hard && peer->results &&
			 peer->state != SVRCERT_STATE_VALID &&
			 peer->state != SVRCERT_STATE_UNKNOWN)
			sever(pa, peer, NULL, "policy");
	}
}

json_t *pa_sever_json(const struct pa_peer *peer)
{
	if (!peer->severed)
		return json_null();
	return json_pack("{s:o, s:s}", "since",
			 svrcert_json_time(peer->severed_since),
			 "reason", peer->severed_why);
}
