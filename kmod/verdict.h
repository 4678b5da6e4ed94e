/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The verdict: a function of what is known about a peer, the live
 * revocation set, the time and the policy. No locks of its own (the caller
 * holds rcu_read_lock() for the set), and no side effect but a cache of the
 * set lookups in the peer's certificate facts, so KUnit can call it with
 * any combination of inputs.
 */
#ifndef _SVRCERT_VERDICT_H
#define _SVRCERT_VERDICT_H

#include <linux/time64.h>
#include <linux/types.h>
#include <linux/svrcert.h>

struct svrcert_policy;
struct svrcert_revset;

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

#endif /* _SVRCERT_VERDICT_H */
