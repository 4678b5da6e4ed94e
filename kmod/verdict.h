/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The verdict: a function of what is known about a peer, the live
 * revocation set, the time and the policy. No locks of its own (the caller
 * holds rcu_read_lock() for the set), and no side effect but a cache of the
 * set lookups in the peer's certificate facts, so KUnit can call it with
 * any combination of inputs. Inline, for the hooks: every packet of a peer
 * runs it.
 */
#ifndef _SVRCERT_VERDICT_H
#define _SVRCERT_VERDICT_H

#include <linux/time64.h>
#include <linux/types.h>
#include <linux/svrcert.h>

#include "policy.h"
#include "revset.h"

/* What the verdict needs to know about a peer. */
struct svrcert_peer_cert {
	u8 state;				/* enum svrcert_cert_state */
	time64_t not_before;
	time64_t not_after;
	u8 fingerprint[SVRCERT_KEY_LEN];
	u8 revkey[SVRCERT_KEY_LEN];
	/*
	 * Whether the live set holds revkey or fingerprint, cached by the
	 * data path: (set generation << 1) | revoked. 0 = nothing cached.
	 * Written with WRITE_ONCE by whichever CPU finds it stale; a racing
	 * write stores an answer that is right for the generation it names.
	 */
	unsigned long revoked_cache;
};

/*
 * @unprotected: the packet came from a peer that requires ESP without it
 * (the hook's finding); it matters only when the certificate is fine.
 * The only side effect: @cert->revoked_cache. Caller holds rcu_read_lock()
 * (for @live).
 */
enum svrcert_verdict svrcert_verdict(struct svrcert_peer_cert *cert,
				     struct svrcert_revset *live,
				     time64_t now,
				     const struct svrcert_policy *pol,
				     bool unprotected,
				     enum svrcert_reason *reason);

bool svrcert_revoked_lookup(struct svrcert_peer_cert *cert,
			    struct svrcert_revset *live, unsigned long gen);

/*
 * Is the peer's revocation key or fingerprint in @live? The set changes
 * rarely and every packet of a peer asks the same question, so the answer
 * is cached in @cert under the set's generation: the common case is one
 * load and compare instead of two hash lookups. The generation is read
 * before the lookups (acquire), so an answer is never newer than the
 * generation stored with it; a change publishes a new generation after
 * it is visible, and the next packet looks again. A generation that wraps
 * (2^63 changes; 2^31 on 32-bit) could alias: not a concern in practice.
 */
static __always_inline bool svrcert_revoked(struct svrcert_peer_cert *cert,
					    struct svrcert_revset *live)
{
	unsigned long gen = svrcert_revset_gen(live);
	unsigned long cached = READ_ONCE(cert->revoked_cache);

	if (likely((cached >> 1) == (gen & (ULONG_MAX >> 1))))
		return cached & 1;
	return svrcert_revoked_lookup(cert, live, gen);
}

/*
 * The reason, checked in the order the UAPI enum documents, but an own
 * certificate known to be bad comes first: under fail-hard it severs this
 * router from every peer whether peers are validated or not (the seed's
 * "prevented from participating in SVR"). One merely not judged yet
 * (UNKNOWN) matters only when peers are validated, so a router whose
 * daemon has not yet told the kernel keeps working with validation off.
 */
static __always_inline enum svrcert_reason
svrcert_reason_of(struct svrcert_peer_cert *cert, struct svrcert_revset *live,
		  time64_t now, const struct svrcert_policy *pol,
		  bool unprotected)
{
	if (pol->self_state != SVRCERT_STATE_VALID &&
	    (pol->peer_validation || pol->self_state != SVRCERT_STATE_UNKNOWN))
		return SVRCERT_REASON_SELF_INVALID;
	if (!pol->peer_validation)
		return SVRCERT_REASON_DISABLED;
	if (cert->state == SVRCERT_STATE_UNKNOWN)
		return SVRCERT_REASON_UNAUTHENTICATED;
	if (cert->state == SVRCERT_STATE_INVALID)
		return SVRCERT_REASON_INVALID;
	if (cert->state == SVRCERT_STATE_REVOKED || svrcert_revoked(cert, live))
		return SVRCERT_REASON_REVOKED;
	if (cert->state == SVRCERT_STATE_NOT_YET_VALID ||
	    now < cert->not_before)
		return SVRCERT_REASON_NOT_YET_VALID;
	/* notAfter is the last valid second (RFC 5280 4.1.2.5). */
	if (cert->state == SVRCERT_STATE_EXPIRED || now > cert->not_after)
		return SVRCERT_REASON_EXPIRED;
	if (cert->state != SVRCERT_STATE_VALID)
		return SVRCERT_REASON_INVALID;	/* unknown future state */
	/*
	 * Last: a packet that only claims the peer's address says nothing
	 * about its certificate, but a bad certificate is news whatever
	 * the packet.
	 */
	if (unprotected)
		return SVRCERT_REASON_UNPROTECTED;
	return SVRCERT_REASON_OK;
}

/* svrcert_verdict() for the data path. */
static __always_inline enum svrcert_verdict
svrcert_verdict_inline(struct svrcert_peer_cert *cert,
		       struct svrcert_revset *live, time64_t now,
		       const struct svrcert_policy *pol, bool unprotected,
		       enum svrcert_reason *reason)
{
	*reason = svrcert_reason_of(cert, live, now, pol, unprotected);
	if (*reason == SVRCERT_REASON_OK || *reason == SVRCERT_REASON_DISABLED)
		return SVRCERT_VERDICT_ACCEPT;
	return pol->failure_mode == SVRCERT_FAIL_HARD ? SVRCERT_VERDICT_DROP :
							SVRCERT_VERDICT_ACCEPT;
}

#endif /* _SVRCERT_VERDICT_H */
