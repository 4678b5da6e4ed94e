// SPDX-License-Identifier: GPL-2.0
/*
 * Inbound SAs a peer may still send on besides the current one
 * (pa_keys.held): make-before-break when an agreement fails half-way.
 *
 * Neither side learns that the other switched its outbound SA: the last
 * message of an agreement is never answered. A side that had the peer's
 * READY sends to the peer's new inbound SA at once, while the peer may time
 * out (or lose the connection) before it reads our READY: it then still
 * sends on its old outbound SA, our old inbound one, and it already
 * receives on the new inbound SA it announced. So an inbound SA goes only
 * once the peer was seen leaving it: an inbound SA of a higher key index
 * counted a packet (decrypted and authenticated: nobody without the key
 * can fake that), and a sender only ever moves to a newer outbound SA.
 * Until then it is held, and looked at again every PEERKEY_GRACE_S after
 * its grace period. A held SA ends with the peer's keys (pa_keys_cut), and
 * at the latest with its kernel lifetime: no later than its key would
 * have. At most PA_HELD_MAX per peer; beyond, the oldest goes.
 */
#include <errno.h>
#include <string.h>
#include <syslog.h>

#include "peerauth_int.h"
#include "peerauth_keys_int.h"

static void forget(struct pa_keys *ks, unsigned int i)
{
	memmove(&ks->held[i], &ks->held[i + 1],
		(ks->n_held - i - 1) * sizeof(ks->held[0]));
	ks->n_held--;
}

static void drop(struct peerauth *pa, struct pa_keys *ks, unsigned int i)
{
	if (pa->xfrm)
		peerkey_sa_remove(pa->xfrm, &ks->held[i].path, ks->held[i].spi, 0);
	forget(ks, i);
}

/* Packets inbound SA SPI counted: > 0, 0 none (or unknown), -ENOENT gone. */
static int64_t counted(struct peerauth *pa, const struct peerkey_path *p, uint32_t spi)
{
	struct svrcert_xfrm_sa_info info;
	int ret = svrcert_xfrm_sa_get(pa->xfrm, &p->local, spi, &info);

	if (ret == -ENOENT || ret == -ESRCH)
		return -ENOENT;
	return ret ? 0 : (int64_t)(info.packets > INT64_MAX ? INT64_MAX : info.packets);
}

/*
 * The highest key index of an inbound SA of the peer (a held one, and the
 * current one with CURRENT) that counted a packet: the peer has left every
 * SA below it. Held SAs the kernel no longer has (their hard lifetime) are
 * forgotten. False when none counted one.
 */
static bool seen_index(struct peerauth *pa, struct pa_keys *ks, bool current,
		       uint64_t *seen)
{
	bool any = false;
	int64_t n;

	if (current && ks->established && counted(pa, &ks->path, ks->spi_in) > 0) {
		*seen = ks->index;
		any = true;
	}
	for (unsigned int i = ks->n_held; i-- > 0;) {
		n = counted(pa, &ks->held[i].path, ks->held[i].spi);
		if (n == -ENOENT)
			forget(ks, i);
		else if (n > 0 && (!any || ks->held[i].index > *seen)) {
			*seen = ks->held[i].index;
			any = true;
		}
	}
	return any;
}

int64_t pa_keys_held_due(const struct pa_peer *peer)
{
	int64_t due = INT64_MAX;

	for (unsigned int i = 0; i < peer->keys.n_held; i++)
		if (peer->keys.held[i].due_ms < due)
			due = peer->keys.held[i].due_ms;
	return due;
}

int64_t pa_keys_held_prune(struct peerauth *pa, struct pa_peer *peer, int64_t now,
			   bool at_once)
{
	struct pa_keys *ks = &peer->keys;
	uint64_t seen = 0;
	bool any;

	if (!ks->n_held || !pa->xfrm)
		return INT64_MAX;
	/* At once (new keys): not the new SA, which the peer may have moved
	 * to a moment ago, with packets still in flight on the one it left;
	 * what it left before goes, as a pair replaced twice did. */
	any = seen_index(pa, ks, !at_once, &seen);
	for (unsigned int i = ks->n_held; i-- > 0;) {
		struct pa_held_sa *h = &ks->held[i];

		if (!at_once && h->due_ms > now)
			continue;
		if (any && h->index < seen) {
			drop(pa, ks, i);
			continue;
		}
		if (h->due_ms > now)
			continue;
		if (!h->noted)
			syslog(LOG_NOTICE, "peer %s: inbound SA %#x (index %llu) kept past "
			       "its grace period: no packet on a newer SA yet, the peer "
			       "may still send on it", peer->name, h->spi,
			       (unsigned long long)h->index);
		h->noted = true;
		h->due_ms = now + PEERKEY_GRACE_S * 1000;
	}
	return pa_keys_held_due(peer);
}

void pa_keys_hold(struct peerauth *pa, struct pa_peer *peer, uint32_t spi,
		  uint64_t index, const struct peerkey_path *path)
{
	struct pa_keys *ks = &peer->keys;
	unsigned int o = 0;

	if (ks->n_held == PA_HELD_MAX)
		pa_keys_held_prune(pa, peer, pa_now_ms(), true);
	if (ks->n_held == PA_HELD_MAX) {
		for (unsigned int i = 1; i < ks->n_held; i++)
			if (ks->held[i].index < ks->held[o].index)
				o = i;
		syslog(LOG_WARNING, "peer %s: inbound SA %#x (index %llu) deleted "
		       "before the peer was seen leaving it: %u held at most",
		       peer->name, ks->held[o].spi,
		       (unsigned long long)ks->held[o].index, PA_HELD_MAX);
		drop(pa, ks, o);
	}
	ks->held[ks->n_held++] = (struct pa_held_sa){
		.spi = spi, .index = index, .path = *path,
		.due_ms = pa_now_ms() + PEERKEY_GRACE_S * 1000,
	};
}

void pa_keys_held_clear(struct peerauth *pa, struct pa_peer *peer)
{
	while (peer->keys.n_held)
		drop(pa, &peer->keys, peer->keys.n_held - 1);
}
