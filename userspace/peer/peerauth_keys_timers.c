// SPDX-License-Identifier: GPL-2.0
/*
 * The life of a peer's ESP keys once agreed (the agreement itself is
 * peerauth_keys.c): the record of a completed agreement (the replaced
 * keys' removal, the key-invalid alarm cleared), the rotation timer that
 * calls for a new agreement, the end of the replaced SAs' grace period
 * (inbound ones once the peer left them, peerauth_keys_held.c),
 * expiry ("key is invalid", a critical alarm) at rekey interval +
 * peer-key-timeout, the loop's deadlines for these, cutting a peer's keys
 * (or all), a forced rekey, the flush of a previous run's state at start,
 * and the keys' JSON view (SPIs, index, times; never key bytes).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "lib/util.h"
#include "peerauth_int.h"
#include "peerauth_keys_int.h"

/*
 * Keys agreed under a certificate no longer in use: this router's cert.pem
 * was replaced, or the peer was judged with another certificate since.
 * The TLS session they were exported from was authenticated by the old
 * one, so an agreement under the new one is due (make-before-break, like
 * any rekey: the old keys stay in force until then).
 */
static bool stale(const struct peerauth *pa, const struct pa_peer *peer)
{
	const struct pa_keys *ks = &peer->keys;

	return ks->established &&
	       (memcmp(ks->own_cert, pa->own_cert_hash, sizeof(ks->own_cert)) ||
		memcmp(ks->peer_cert, peer->fingerprint, sizeof(ks->peer_cert)));
}

bool pa_keys_due(const struct peerauth *pa, const struct pa_peer *peer)
{
	const struct pa_keys *ks = &peer->keys;

	return !ks->established || ks->wanted || stale(pa, peer) ||
	       (pa->cfg->peer_key_rekey_s &&
		pa_wall(pa) - ks->last_rekey >= (time_t)pa->cfg->peer_key_rekey_s);
}

bool pa_keys_asks(const struct peerauth *pa, const struct pa_peer *peer)
{
	return !peer->keys.established || peer->keys.wanted || stale(pa, peer);
}

/* The rotation timer calls PEER (or asks it) now or at next_try_ms: the
 * lower when keys are due, the higher when it has none, they are stale or
 * wanted (an operator's rekey calls at once; an agreement that failed
 * after our READY wants the next, peerauth_keys.c). Never while a
 * connection with PEER carries an agreement: it may be the one wanted (the
 * peer's own call with a new certificate), and a REQUEST crossing it would
 * make a second. */
static bool wants_call(const struct peerauth *pa, const struct pa_peer *peer)
{
	const struct pa_keys *ks = &peer->keys;

	return pa->cfg->peer_keys && ks->role_known &&
	       peer->state == SVRCERT_STATE_VALID &&
	       (ks->lower ? pa_keys_due(pa, peer) : pa_keys_asks(pa, peer)) &&
	       !pa_keys_conn_open(pa, peer);
}

void pa_keys_installed(struct peerauth *pa, struct pa_peer *peer,
		       const struct peerkey_keys *k, const struct peerkey_path *path)
{
	struct pa_keys *ks = &peer->keys;

	if (ks->established) {
		/* an outbound SA still in its grace period goes now: replaced
		 * twice */
		if (ks->old_out && pa->xfrm)
			peerkey_sa_remove(pa->xfrm, &ks->old_path, 0, ks->old_out);
		/*
		 * The replaced outbound SA stays for the grace period: adding
		 * the new one (NEWSA) already moved every sender, a new lookup
		 * to the newest SA and a cached bundle by the genid the add
		 * bumped on the older one. Deleted now, it would fail a packet
		 * that took its route before the add and reaches ESP after the
		 * delete (-EINVAL to the sender). The replaced inbound SA
		 * stays until the peer is seen on a newer one: it may not have
		 * switched (its end of this agreement may still fail).
		 */
		if (pa->xfrm)
			pa_keys_hold(pa, peer, ks->spi_in, ks->index, &ks->path);
		ks->old_out = ks->spi_out;
		ks->old_path = ks->path;
		ks->old_due_ms = pa_now_ms() + PEERKEY_GRACE_S * 1000;
		ks->rekeys++;
		pa->pending[PA_P_REKEY_OK].n++;
	} else {
		ks->established_at = pa_wall(pa);
	}
	ks->established = true;
	ks->wanted = false;
	ks->index = k->index;
	ks->spi_in = k->spi_in;
	ks->spi_out = k->spi_out;
	ks->path = *path;
	ks->last_rekey = pa_wall(pa);
	ks->agreed_ms = pa_now_ms();
	memcpy(ks->own_cert, pa->own_cert_hash, sizeof(ks->own_cert));
	memcpy(ks->peer_cert, peer->fingerprint, sizeof(ks->peer_cert));
	ks->failure[0] = '\0';
	/* held SAs the peer has left go now, as a pair replaced twice did */
	pa_keys_held_prune(pa, peer, pa_now_ms(), true);
	syslog(LOG_INFO, "peer %s: ESP keys of index %llu installed (SPI in %#x, "
	       "out %#x)", peer->name, (unsigned long long)ks->index, ks->spi_in,
	       ks->spi_out);
	/* After the policies: svrcert.ko now requires ESP from it (again: a
	 * rekey may follow a failed bind). */
	pa_bind_peer(pa, peer);
	if (ks->invalid)
		pa_key_alarm_set(pa, peer, false);
}

void pa_keys_cut(struct peerauth *pa, struct pa_peer *peer, const char *why)
{
	struct pa_keys *ks = &peer->keys;
	bool had = ks->established;

	if (!pa->xfrm || (!had && !ks->n_held))
		return;
	/*
	 * svrcert.ko stops requiring ESP before the SAs and policies go, so
	 * no plain packet in between counts as unprotected. Only a peer the
	 * kernel has (one removed from the configuration is unbound next).
	 */
	ks->established = false;
	if (had && !strncmp(peer->kernel, "bound", 5))
		pa_bind_peer(pa, peer);
	/* also those of failed agreements, held without keys */
	pa_keys_held_clear(pa, peer);
	if (!had)
		return;
	if (ks->old_out)
		peerkey_sa_remove(pa->xfrm, &ks->old_path, 0, ks->old_out);
	peerkey_policies_remove(pa->xfrm, &ks->path);
	peerkey_sa_remove(pa->xfrm, &ks->path, ks->spi_in, ks->spi_out);
	syslog(LOG_WARNING, "peer %s: ESP keys deleted: %s", peer->name, why);
	ks->old_out = 0;
	ks->spi_in = ks->spi_out = 0;
}

/* Call PEER now (for an agreement, or to ask for one). */
static void call_now(struct peerauth *pa, struct pa_peer *peer)
{
	if (peer->host && !peer->conn && !peer->resolving)
		peer->next_attempt_ms = pa_now_ms();
}

/*
 * A peer whose keys outlived rekey interval + peer-key-timeout without a
 * new agreement: its path is declared invalid and its SAs go (an old key
 * is not kept alive by a peer that stopped answering), with the critical
 * alarm "peer X key is invalid" until a new agreement succeeds.
 */
static void expire(struct peerauth *pa, struct pa_peer *peer, time_t wall)
{
	const struct pa_keys *ks = &peer->keys;
	uint32_t rekey = pa->cfg->peer_key_rekey_s;

	if (!ks->established || !rekey ||
	    wall - ks->last_rekey < (time_t)rekey + (time_t)pa->cfg->peer_key_timeout_s)
		return;
	syslog(LOG_CRIT, "peer %s key is invalid: no new agreement within "
	       "peer-key-timeout (%u s) after the rekey interval", peer->name,
	       pa->cfg->peer_key_timeout_s);
	snprintf(peer->keys.failure, sizeof(peer->keys.failure),
		 "key is invalid: no rekey within peer-key-timeout");
	peer->keys.failed_at = wall;
	peer->keys.failures++;
	pa_keys_cut(pa, peer, "key is invalid (peer-key-timeout)");
	pa_key_alarm_set(pa, peer, true);
}

/* Wall-clock time AT on the monotonic clock of NOW (WALL). */
static int64_t mono_of(int64_t now, time_t wall, int64_t at)
{
	return at <= (int64_t)wall ? now : now + (at - (int64_t)wall) * 1000;
}

/*
 * When PEER's keys next need this timer (monotonic ms): they turn invalid
 * at last rekey + R + T; the lower router's are due at last rekey + R; a
 * due agreement (or the higher router's ask) is retried at next_try_ms.
 * The loop's other timers can be an hour apart: without these it could
 * sleep through a rekey or an expiry, and the kernel's hard lifetime,
 * 120 s after R + T (peerkey_lifetimes), would act before svrcertd. While
 * a keying connection is open its end (an event, or its deadline) wakes
 * the loop.
 */
static int64_t key_deadline(const struct peerauth *pa, const struct pa_peer *peer,
			    int64_t now, time_t wall)
{
	const struct pa_keys *ks = &peer->keys;
	int64_t r = pa->cfg->peer_key_rekey_s, next = INT64_MAX, t = INT64_MAX;

	if (ks->established && r)
		next = mono_of(now, wall, (int64_t)ks->last_rekey + r +
			       pa->cfg->peer_key_timeout_s);
	if (!pa->cfg->peer_keys || !ks->role_known ||
	    peer->state != SVRCERT_STATE_VALID || pa_keys_conn_open(pa, peer))
		return next;
	if (wants_call(pa, peer))
		t = ks->next_try_ms;
	else if (ks->lower && r)
		t = mono_of(now, wall, (int64_t)ks->last_rekey + r);
	return t < next ? t : next;
}

int64_t pa_keys_timers(struct peerauth *pa, int64_t now)
{
	int64_t next = INT64_MAX, t;
	time_t wall = pa_wall(pa);

	for (size_t i = 0; i < pa->n_peers; i++) {
		struct pa_peer *peer = &pa->peers[i];
		struct pa_keys *ks = &peer->keys;

		/*
		 * The rotation timer, and the retry of a failed agreement: the
		 * lower router calls when keys are due (none yet, old enough,
		 * asked for), the higher one asks while it has none (an
		 * agreement that failed on its side only left the lower one
		 * content), each at most every PEERAUTH_KEY_RETRY_S.
		 */
		if (wants_call(pa, peer) && now >= ks->next_try_ms) {
			ks->next_try_ms = now + PEERAUTH_KEY_RETRY_S * 1000;
			call_now(pa, peer);
		}
		expire(pa, peer, wall);
		t = key_deadline(pa, peer, now, wall);
		next = t < next ? t : next;
		t = pa_keys_held_due(peer);
		if (t <= now)
			t = pa_keys_held_prune(pa, peer, now, false);
		next = t < next ? t : next;
		if (!ks->old_out)
			continue;
		if (ks->old_due_ms > now) {
			next = ks->old_due_ms < next ? ks->old_due_ms : next;
			continue;
		}
		if (pa->xfrm)
			peerkey_sa_remove(pa->xfrm, &ks->old_path, 0, ks->old_out);
		ks->old_out = 0;
	}
	return next;
}

int peerauth_rekey(struct peerauth *pa, const char *name)
{
	int n = 0;

	if (!pa->cfg->peer_keys)
		return -EOPNOTSUPP;
	for (size_t i = 0; i < pa->n_peers; i++) {
		struct pa_peer *peer = &pa->peers[i];

		if (name && strcmp(name, peer->name))
			continue;
		peer->keys.wanted = true;
		call_now(pa, peer);
		n++;
	}
	return n || !name ? n : -ENOENT;
}

int peerauth_keys_cut_all(struct peerauth *pa, const char *why)
{
	int n = 0;

	for (size_t i = 0; i < pa->n_peers; i++) {
		n += pa->peers[i].keys.established;
		pa_keys_cut(pa, &pa->peers[i], why);
	}
	return n;
}

void pa_keys_start(struct peerauth *pa)
{
	unsigned int n_sa = 0, n_pol = 0;
	int ret;

	if (!pa->cfg->peer_keys)
		return;
	/* A previous svrcertd's SAs: their keys are gone with it. */
	ret = pa_keys_xfrm(pa, &(struct svrcert_xfrm *){ NULL });
	if (!ret)
		ret = svrcert_xfrm_flush_owned(pa->xfrm, &n_sa, &n_pol);
	if (ret)
		syslog(LOG_ERR, "peer keys: xfrm: %s", pa_keys_xerr(pa, ret));
	else if (n_sa || n_pol)
		syslog(LOG_NOTICE, "peer keys: removed %u stale SA(s) and %u "
		       "policy(ies) of a previous run", n_sa, n_pol);
}

/* A time in the JSON form every output uses, or null for "never". */
static json_t *json_time_or_null(time_t t)
{
	return t ? svrcert_json_time(t) : json_null();
}

json_t *pa_keys_json(const struct peerauth *pa, const struct pa_peer *peer)
{
	const struct pa_keys *ks = &peer->keys;

	return json_pack("{s:s, s:I, s:I, s:I, s:s, s:o, s:o, s:I, s:s, s:I}",
			 "state", ks->established ? "established" :
				  pa_keys_agreeing(pa, peer) ? "agreeing" : "none",
			 "index", (json_int_t)ks->index,
			 "spi_in", (json_int_t)ks->spi_in,
			 "spi_out", (json_int_t)ks->spi_out,
			 "algorithm", SVRCERT_XFRM_AEAD,
			 "established", json_time_or_null(ks->established_at),
			 "last_rekey", json_time_or_null(ks->last_rekey),
			 "rekeys", (json_int_t)ks->rekeys,
			 "last_failure", ks->failure,
			 "failures", (json_int_t)ks->failures);
}
